/**
 * `/app/counts`: cycle counts — start one (a location; all SKUs, a filter, or the most valuable
 * / fastest-moving first), the history of counts with their variance, the SKUs with the most
 * variance, and one SKU's variance across counts (`?sku=`).
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  FormLayout,
  IndexTable,
  InlineStack,
  Page,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { useState } from "react";
import { FormErrorBanner, fieldError } from "../components/action-feedback";
import { formatUtc, signed } from "../components/format";
import { parseForm } from "../services/admin/forms.server";
import {
  getCountsPage,
  getSkuHistory,
  startCount,
  ZStartCount,
} from "../services/counts/counts.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const sku = (new URL(request.url).searchParams.get("sku") ?? "").trim().slice(0, 200);
  const page = await getCountsPage(session.shop);
  return { ...page, sku, skuHistory: sku ? await getSkuHistory(session.shop, sku) : [] };
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, sessionToken, redirect } = await authenticate.admin(request);
  const parsed = parseForm(ZStartCount, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await startCount({
    shopDomain: session.shop,
    actor: `admin:user/${sessionToken?.sub ?? "unknown"}`,
    start: parsed.data,
  });
  // The new count's page (Shopify's redirect keeps the embedded app's parameters).
  if (result.ok) throw redirect(`/app/counts/${result.countId}`);
  return data(result, { status: result.status });
};

const SCOPES = [
  { label: "All SKUs at the location", value: "all" },
  { label: "SKUs or titles containing…", value: "filter" },
  { label: "Most valuable first (on hand × price)", value: "top_value" },
  { label: "Fastest-moving first (last 30 days)", value: "top_velocity" },
];

const money = (cents: number) =>
  `${cents < 0 ? "−" : ""}${(Math.abs(cents) / 100).toLocaleString("en-US", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  })}`;

const STATUS_TONE: Record<string, "info" | "attention" | "success" | undefined> = {
  open: "info",
  review: "attention",
  approved: "success",
  cancelled: undefined,
};

function CountStatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONE[status]}>{status === "review" ? "in review" : status}</Badge>;
}

export default function Counts() {
  const { locations, counts, topSkus, sku, skuHistory } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const [locationId, setLocationId] = useState(locations[0]?.id ?? "");
  const [scope, setScope] = useState("all");
  const [filter, setFilter] = useState("");
  const [sampleSize, setSampleSize] = useState("20");
  const [skuQuery, setSkuQuery] = useState(sku);
  const failed = result && !result.ok ? result : undefined;

  return (
    <Page
      title="Cycle counts"
      subtitle="Count the shelf, review the variance, book the corrections"
    >
      <TitleBar title="Cycle counts" />
      <BlockStack gap="400">
        <Card>
          <Form method="post">
            <input type="hidden" name="intent" value="start" />
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                Start a count
              </Text>
              <FormErrorBanner result={failed} intent="start" />
              <FormLayout>
                <FormLayout.Group>
                  <Select
                    label="Location"
                    name="locationId"
                    options={locations.map((l) => ({ label: l.name, value: l.id }))}
                    value={locationId}
                    onChange={setLocationId}
                    error={fieldError(failed, "start", "locationId")}
                  />
                  <Select
                    label="What to count"
                    name="scope"
                    options={SCOPES}
                    value={scope}
                    onChange={setScope}
                    error={fieldError(failed, "start", "scope")}
                  />
                </FormLayout.Group>
                {scope === "filter" && (
                  <TextField
                    label="SKU or title contains"
                    name="filter"
                    value={filter}
                    onChange={setFilter}
                    autoComplete="off"
                    error={fieldError(failed, "start", "filter")}
                  />
                )}
                {(scope === "top_value" || scope === "top_velocity") && (
                  <TextField
                    label="How many SKUs"
                    name="sampleSize"
                    value={sampleSize}
                    onChange={setSampleSize}
                    autoComplete="off"
                    inputMode="numeric"
                    error={fieldError(failed, "start", "sampleSize")}
                  />
                )}
              </FormLayout>
              <InlineStack>
                <Button submit variant="primary" loading={navigation.state === "submitting"}>
                  Start count
                </Button>
              </InlineStack>
              <Text as="p" tone="subdued">
                The count takes a snapshot of on hand now. Sales, shipments and receipts during the
                count move what is expected, so they never show up as variance.
              </Text>
            </BlockStack>
          </Form>
        </Card>

        <Card padding="0">
          <Box padding="400">
            <Text as="h2" variant="headingMd">
              Counts
            </Text>
          </Box>
          <IndexTable
            resourceName={{ singular: "count", plural: "counts" }}
            itemCount={counts.length}
            selectable={false}
            emptyState={
              <Box padding="400">
                <Text as="p" tone="subdued">
                  No counts yet.
                </Text>
              </Box>
            }
            headings={[
              { title: "Count" },
              { title: "Location" },
              { title: "Status" },
              { title: "Started" },
              { title: "Counted", alignment: "end" },
              { title: "With variance", alignment: "end" },
              { title: "Net units", alignment: "end" },
              { title: "Net value", alignment: "end" },
            ]}
          >
            {counts.map((c, index) => (
              <IndexTable.Row id={c.id} key={c.id} position={index}>
                <IndexTable.Cell>
                  <Link to={`/app/counts/${c.id}`}>{`#${c.id}`}</Link>
                </IndexTable.Cell>
                <IndexTable.Cell>{c.location}</IndexTable.Cell>
                <IndexTable.Cell>
                  <CountStatusBadge status={c.status} />
                </IndexTable.Cell>
                <IndexTable.Cell>{formatUtc(c.startedAt)}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {`${c.counted} / ${c.lines}`}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {c.withVariance}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {signed(c.netUnits)}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {money(c.netCents)}
                  </Text>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </Card>

        <Card>
          <BlockStack gap="300">
            <Text as="h2" variant="headingMd">
              Variance by SKU (approved counts)
            </Text>
            <Form method="get">
              <InlineStack gap="200" blockAlign="end">
                <TextField
                  label="SKU"
                  name="sku"
                  value={skuQuery}
                  onChange={setSkuQuery}
                  autoComplete="off"
                  labelHidden
                  placeholder="SKU"
                />
                <Button submit>Show history</Button>
              </InlineStack>
            </Form>
            {sku ? (
              skuHistory.length === 0 ? (
                <Text as="p" tone="subdued">{`No approved count of ${sku} yet.`}</Text>
              ) : (
                <BlockStack gap="100">
                  {skuHistory.map((h) => (
                    <Text as="p" key={h.countId}>
                      {`#${h.countId} · ${formatUtc(h.approvedAt)} · ${h.location}: expected ${h.expected}, counted ${h.counted}, variance ${signed(h.variance)} (${money(h.valueCents)})`}
                    </Text>
                  ))}
                </BlockStack>
              )
            ) : topSkus.length === 0 ? (
              <Text as="p" tone="subdued">
                No variance booked yet.
              </Text>
            ) : (
              <BlockStack gap="100">
                {topSkus.map((s) => (
                  <InlineStack key={s.sku} gap="200">
                    <Link to={`/app/counts?sku=${encodeURIComponent(s.sku)}`}>{s.sku}</Link>
                    <Text as="span" tone="subdued">
                      {`${s.counts} count(s), net ${signed(s.netUnits)}, ${s.absoluteUnits} unit(s) off, ${money(s.netCents)}`}
                    </Text>
                  </InlineStack>
                ))}
              </BlockStack>
            )}
          </BlockStack>
        </Card>
      </BlockStack>
    </Page>
  );
}
