/**
 * `/app/incidents`: the oversell incidents of the embedded admin, filtered by root cause and
 * date range. Filters that cannot be read are answered with 400 and shown next to their fields.
 */
import { data, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link as RemixLink, useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  IndexTable,
  InlineStack,
  Page,
  Select,
  Text,
  TextField,
  Tooltip,
} from "@shopify/polaris";
import { useState } from "react";
import { ROOT_CAUSE_TEXT, ago, formatUtc, rootCauseLabel } from "../components/format";
import { parseSearch } from "../services/admin/forms.server";
import {
  emptyIncidentsPage,
  INCIDENT_FILTER_NAMES,
  listIncidents,
  ZIncidentFilters,
} from "../services/admin/incidents.server";
import { ROOT_CAUSES } from "../services/admin/vocabulary";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const search = new URL(request.url).searchParams;
  const filters = parseSearch(ZIncidentFilters, search, INCIDENT_FILTER_NAMES);
  if (!filters.ok) {
    const typed = { cause: search.get("cause"), from: search.get("from"), to: search.get("to") };
    return data(
      { ...emptyIncidentsPage(typed), filterErrors: filters.fieldErrors },
      { status: filters.status },
    );
  }
  const page = await listIncidents({ shopDomain: session.shop, filters: filters.data });
  return { ...page, filterErrors: {} as Record<string, string> };
};

const CAUSE_TONE: Record<string, "critical" | "warning" | "attention" | "info" | undefined> = {
  stock_correction: "info",
  sync_lag: "warning",
  channel_showed_more: "critical",
  buffer_exhausted: "attention",
  unknown: undefined,
};

export default function Incidents() {
  const { incidents, filters, totals, nextBefore, now, filterErrors } =
    useLoaderData<typeof loader>();
  const [cause, setCause] = useState(filters.cause);
  const [from, setFrom] = useState(filters.from);
  const [to, setTo] = useState(filters.to);
  const filterQuery = new URLSearchParams(
    Object.entries({ cause: filters.cause, from: filters.from, to: filters.to }).filter(
      ([, v]) => v && v !== "all",
    ),
  );

  return (
    <Page
      title="Oversell incidents"
      subtitle={`${totals.incidents} incident${totals.incidents === 1 ? "" : "s"}, ${totals.units} unit${totals.units === 1 ? "" : "s"} oversold`}
    >
      <TitleBar title="Incidents" />
      <BlockStack gap="400">
        {filterErrors.before && (
          <Banner tone="critical" title="These incidents could not be shown">
            <p>{filterErrors.before}</p>
          </Banner>
        )}
        <Card>
          <Form method="get" action="/app/incidents">
            <InlineStack gap="300" blockAlign="end">
              <Select
                label="Root cause"
                name="cause"
                options={[
                  { label: "All causes", value: "all" },
                  ...ROOT_CAUSES.map((c) => ({ label: rootCauseLabel(c), value: c })),
                ]}
                value={cause}
                onChange={setCause}
                error={filterErrors.cause}
              />
              <TextField
                label="From (UTC)"
                name="from"
                type="date"
                value={from}
                onChange={setFrom}
                autoComplete="off"
                error={filterErrors.from}
              />
              <TextField
                label="To (UTC)"
                name="to"
                type="date"
                value={to}
                onChange={setTo}
                autoComplete="off"
                error={filterErrors.to}
              />
              <Button submit>Filter</Button>
              <Button url="/app/incidents" variant="plain">
                Clear
              </Button>
            </InlineStack>
          </Form>
        </Card>

        <Card padding="0">
          <IndexTable
            resourceName={{ singular: "incident", plural: "incidents" }}
            itemCount={incidents.length}
            selectable={false}
            emptyState={
              <Box padding="400">
                <Text as="p" tone="subdued">
                  No oversell incidents
                  {filters.cause !== "all" || filters.from || filters.to
                    ? " match these filters"
                    : ": every sale so far was covered"}
                  .
                </Text>
              </Box>
            }
            headings={[
              { title: "When" },
              { title: "SKU" },
              { title: "Channel / order" },
              { title: "Short", alignment: "end" },
              { title: "ATS before → after" },
              { title: "Root cause" },
              {
                title: "What channels showed",
                tooltipContent:
                  "Per channel: published / last pushed / shown on the channel, and how long before the sale the last push was",
              },
            ]}
          >
            {incidents.map((incident, index) => (
              <IndexTable.Row id={incident.id} key={incident.id} position={index}>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span">{formatUtc(incident.occurredAt)}</Text>
                    <Text as="span" variant="bodySm" tone="subdued">
                      {ago(incident.occurredAt, now)}
                    </Text>
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <RemixLink to={`/app/inventory/${incident.itemId}`}>{incident.sku}</RemixLink>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span">{incident.channel ?? "—"}</Text>
                    {incident.orderRef && (
                      <Text as="span" variant="bodySm" tone="subdued">
                        order {incident.orderRef}
                        {incident.lineRef ? ` · line ${incident.lineRef}` : ""}
                      </Text>
                    )}
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <span data-testid="shortfall">
                    <Text as="span" alignment="end" numeric tone="critical" fontWeight="semibold">
                      {incident.shortfall}
                    </Text>
                  </span>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" numeric>
                    {incident.atsBefore} → {incident.atsAfter}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Tooltip content={ROOT_CAUSE_TEXT[incident.rootCause]?.explanation ?? ""}>
                    <span data-root-cause={incident.rootCause}>
                      <Badge tone={CAUSE_TONE[incident.rootCause]}>
                        {rootCauseLabel(incident.rootCause)}
                      </Badge>
                    </span>
                  </Tooltip>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    {incident.snapshot.length === 0 && (
                      <Text as="span" tone="subdued">
                        no listings
                      </Text>
                    )}
                    {incident.snapshot.map((s, i) => (
                      <Text as="span" variant="bodySm" key={i}>
                        <Text as="span" fontWeight="semibold">
                          {s.channel}
                        </Text>
                        {`: ${s.published ?? "—"} / ${s.pushed ?? "—"} / ${s.remote ?? "—"} / ${s.lastPushedAt ? ago(s.lastPushedAt, incident.occurredAt).replace(" ago", " before") : "never"}`}
                      </Text>
                    ))}
                  </BlockStack>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
          {nextBefore && (
            <Box padding="300">
              <InlineStack align="center">
                <Button
                  url={`/app/incidents?${new URLSearchParams([...filterQuery, ["before", nextBefore]]).toString()}`}
                >
                  Older incidents
                </Button>
              </InlineStack>
            </Box>
          )}
        </Card>

        <Card>
          <BlockStack gap="200">
            <Text as="h2" variant="headingMd">
              What the root causes mean
            </Text>
            {Object.entries(ROOT_CAUSE_TEXT).map(([key, text]) => (
              <Text as="p" key={key}>
                <Text as="span" fontWeight="semibold">
                  {text.label}:
                </Text>{" "}
                {text.explanation}
              </Text>
            ))}
          </BlockStack>
        </Card>
      </BlockStack>
    </Page>
  );
}
