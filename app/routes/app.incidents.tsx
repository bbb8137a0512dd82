/**
 * `/app/incidents`: oversell incidents of the embedded admin — confirmed ones with their root
 * cause and its evidence, provisional ones shown as such — filtered by cause, status, channel,
 * SKU and date range; a chart of oversold units by cause per day or week; resolve with a note;
 * CSV export; and the shop's alert settings. Filters that cannot be read are answered with 400
 * and shown next to their fields.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import {
  Form,
  Link as RemixLink,
  useActionData,
  useLoaderData,
  useNavigation,
} from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  Checkbox,
  IndexTable,
  InlineStack,
  Page,
  Select,
  Text,
  TextField,
  Tooltip,
} from "@shopify/polaris";
import { useState } from "react";
import { FormErrorBanner, useSuccessToast, type ActionResult } from "../components/action-feedback";
import { ROOT_CAUSE_TEXT, ago, formatUtc, rootCauseLabel } from "../components/format";
import { IncidentChart } from "../components/incident-chart";
import { parseForm, parseSearch } from "../services/admin/forms.server";
import {
  emptyIncidentsPage,
  INCIDENT_FILTER_NAMES,
  listIncidents,
  resolveWithNote,
  ZIncidentFilters,
  ZResolveIncident,
} from "../services/admin/incidents.server";
import { ROOT_CAUSES } from "../services/admin/vocabulary";
import { ALERT_CONDITION_LABEL, ALERT_CONDITIONS } from "../services/alerts/conditions";
import { getAlertSettings, saveAlertSettings } from "../services/alerts/settings.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const search = new URL(request.url).searchParams;
  const filters = parseSearch(ZIncidentFilters, search, INCIDENT_FILTER_NAMES);
  const alerts = await getAlertSettings(session.shop);
  if (!filters.ok) {
    const typed = { cause: search.get("cause"), from: search.get("from"), to: search.get("to") };
    return data(
      { ...emptyIncidentsPage(typed), alerts, filterErrors: filters.fieldErrors },
      { status: filters.status },
    );
  }
  const page = await listIncidents({ shopDomain: session.shop, filters: filters.data });
  return { ...page, alerts, filterErrors: {} as Record<string, string> };
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = await request.formData();
  const intent = form.get("intent");
  if (intent === "resolve") {
    const parsed = parseForm(ZResolveIncident, form);
    if (!parsed.ok)
      return data({ ...parsed, intent: "resolve" } as ActionResult, { status: parsed.status });
    const done = await resolveWithNote({ shopDomain: session.shop, ...parsed.data });
    if (!done)
      return data(
        {
          ok: false,
          intent: "resolve",
          fieldErrors: {},
          formError: "This incident is already resolved or is not confirmed yet",
        } as ActionResult,
        { status: 409 },
      );
    return { ok: true, message: "Incident resolved" } as ActionResult;
  }
  if (intent === "alerts") {
    const result = await saveAlertSettings(session.shop, {
      emailTo: String(form.get("emailTo") ?? ""),
      webhookUrl: String(form.get("webhookUrl") ?? ""),
      staleMinutes: String(form.get("staleMinutes") ?? ""),
      conditions: form.getAll("conditions").map(String) as (typeof ALERT_CONDITIONS)[number][],
      digest: form.get("digest") === "on",
    });
    if (!result.ok)
      return data({ ok: false, intent: "alerts", fieldErrors: result.errors } as ActionResult, {
        status: 400,
      });
    return { ok: true, message: "Alert settings saved" } as ActionResult;
  }
  return data(
    { ok: false, intent: null, fieldErrors: {}, formError: "Unknown action" } as ActionResult,
    { status: 400 },
  );
};

const CAUSE_TONE: Record<string, "critical" | "warning" | "attention" | "info" | undefined> = {
  sync_delay: "warning",
  simultaneous_channels: "attention",
  low_buffer: "attention",
  allocation_error: "info",
  integration_failure: "critical",
  unknown: undefined,
};

const STATUS_OPTIONS = [
  { label: "Open (confirmed and provisional)", value: "open" },
  { label: "Confirmed", value: "confirmed" },
  { label: "Provisional", value: "provisional" },
  { label: "Resolved", value: "resolved" },
  { label: "All (with explained)", value: "all" },
];

/** Downloads the selection as CSV through the session-token fetch (works in the iframe). */
function ExportButton(props: { query: URLSearchParams }) {
  const [state, setState] = useState<"idle" | "busy" | "failed">("idle");
  return (
    <Button
      loading={state === "busy"}
      onClick={() => {
        setState("busy");
        void (async () => {
          try {
            const response = await fetch(`/app/incidents/export?${props.query.toString()}`);
            if (!response.ok) throw new Error(await response.text());
            const blob = await response.blob();
            const name =
              /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ??
              "stockguard-incidents.csv";
            const url = URL.createObjectURL(blob);
            const a = document.createElement("a");
            a.href = url;
            a.download = name;
            a.dataset.testid = "csv-download";
            document.body.appendChild(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10_000);
            setState("idle");
          } catch {
            setState("failed");
          }
        })();
      }}
    >
      {state === "failed" ? "Export failed: try again" : "Export CSV"}
    </Button>
  );
}

function ResolveForm(props: { id: string; result: ActionResult | undefined }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState("");
  const navigation = useNavigation();
  const busy =
    navigation.state === "submitting" &&
    navigation.formData?.get("intent") === "resolve" &&
    navigation.formData?.get("id") === props.id;
  if (!open) return <Button onClick={() => setOpen(true)}>Resolve</Button>;
  const error =
    props.result && !props.result.ok && props.result.intent === "resolve"
      ? (props.result.fieldErrors.note ?? props.result.formError)
      : undefined;
  return (
    <Form method="post">
      <input type="hidden" name="intent" value="resolve" />
      <input type="hidden" name="id" value={props.id} />
      <BlockStack gap="100">
        <TextField
          label="Resolution note"
          name="note"
          value={note}
          onChange={setNote}
          autoComplete="off"
          placeholder="Refunded the customer"
          error={error}
        />
        <InlineStack gap="100">
          <Button submit variant="primary" loading={busy}>
            Resolve
          </Button>
          <Button onClick={() => setOpen(false)} variant="plain">
            Cancel
          </Button>
        </InlineStack>
      </BlockStack>
    </Form>
  );
}

function AlertSettingsCard(props: {
  settings: {
    emailTo: string[];
    webhookUrl: string | null;
    staleMinutes: number;
    conditions: string[];
    digest: boolean;
  };
  result: ActionResult | undefined;
}) {
  const s = props.settings;
  const [emailTo, setEmailTo] = useState(s.emailTo.join(", "));
  const [webhookUrl, setWebhookUrl] = useState(s.webhookUrl ?? "");
  const [staleMinutes, setStaleMinutes] = useState(String(s.staleMinutes));
  const [conditions, setConditions] = useState(new Set(s.conditions));
  const [digest, setDigest] = useState(s.digest);
  const errors =
    props.result && !props.result.ok && props.result.intent === "alerts"
      ? props.result.fieldErrors
      : {};
  return (
    <Card>
      <Form method="post">
        <input type="hidden" name="intent" value="alerts" />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Alerts
          </Text>
          <Text as="p" tone="subdued">
            One alert per condition until it clears: shown as a banner in the app, e-mailed, and
            posted to a Slack-compatible webhook.
          </Text>
          <FormErrorBanner result={props.result} intent="alerts" />
          <TextField
            label="E-mail recipients"
            name="emailTo"
            value={emailTo}
            onChange={setEmailTo}
            autoComplete="off"
            helpText="Separated by commas"
            error={errors.emailTo}
          />
          <TextField
            label="Webhook URL (Slack-compatible)"
            name="webhookUrl"
            value={webhookUrl}
            onChange={setWebhookUrl}
            autoComplete="off"
            placeholder="https://hooks.slack.com/services/…"
            error={errors.webhookUrl}
          />
          <TextField
            label="Alert when a channel is not written for (minutes) while it has pending changes"
            name="staleMinutes"
            type="number"
            value={staleMinutes}
            onChange={setStaleMinutes}
            autoComplete="off"
            error={errors.staleMinutes}
          />
          <BlockStack gap="100">
            {ALERT_CONDITIONS.map((c) => (
              <Checkbox
                key={c}
                label={ALERT_CONDITION_LABEL[c]}
                name="conditions"
                value={c}
                checked={conditions.has(c)}
                onChange={(checked) => {
                  const next = new Set(conditions);
                  if (checked) next.add(c);
                  else next.delete(c);
                  setConditions(next);
                }}
              />
            ))}
          </BlockStack>
          <Checkbox
            label="Send e-mails as an hourly digest"
            name="digest"
            checked={digest}
            onChange={setDigest}
          />
          <InlineStack>
            <Button submit variant="primary">
              Save alert settings
            </Button>
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}

export default function Incidents() {
  const { incidents, filters, totals, nextBefore, now, filterErrors, chart, channels, alerts } =
    useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const [cause, setCause] = useState(filters.cause);
  const [status, setStatus] = useState(filters.status);
  const [channel, setChannel] = useState(filters.channel);
  const [sku, setSku] = useState(filters.sku);
  const [from, setFrom] = useState(filters.from);
  const [to, setTo] = useState(filters.to);
  const [bucket, setBucket] = useState(filters.bucket);
  const filterQuery = new URLSearchParams(
    Object.entries({
      cause: filters.cause,
      status: filters.status,
      channel: filters.channel,
      sku: filters.sku,
      from: filters.from,
      to: filters.to,
      bucket: filters.bucket,
    }).filter(
      ([k, v]) =>
        v && v !== "all" && !(k === "status" && v === "open") && !(k === "bucket" && v === "day"),
    ),
  );
  const filtered =
    filters.cause !== "all" ||
    filters.from ||
    filters.to ||
    filters.channel !== "all" ||
    filters.sku;

  return (
    <Page
      title="Oversell incidents"
      subtitle={`${totals.incidents} confirmed incident${totals.incidents === 1 ? "" : "s"}, ${totals.units} unit${totals.units === 1 ? "" : "s"} oversold${totals.provisional > 0 ? `; ${totals.provisional} provisional` : ""}`}
      secondaryActions={<ExportButton query={filterQuery} />}
    >
      <TitleBar title="Incidents" />
      <BlockStack gap="400">
        {filterErrors.before && (
          <Banner tone="critical" title="These incidents could not be shown">
            <p>{filterErrors.before}</p>
          </Banner>
        )}
        <FormErrorBanner result={result} intent="resolve" />
        <Card>
          <Form method="get" action="/app/incidents">
            <InlineStack gap="300" blockAlign="end" wrap>
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
              <Select
                label="Status"
                name="status"
                options={STATUS_OPTIONS}
                value={status}
                onChange={setStatus}
                error={filterErrors.status}
              />
              <Select
                label="Channel"
                name="channel"
                options={[
                  { label: "All channels", value: "all" },
                  ...channels.map((c) => ({ label: c.name, value: c.id })),
                ]}
                value={channel}
                onChange={setChannel}
                error={filterErrors.channel}
              />
              <TextField
                label="SKU"
                name="sku"
                value={sku}
                onChange={setSku}
                autoComplete="off"
                error={filterErrors.sku}
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
              <Select
                label="Chart by"
                name="bucket"
                options={[
                  { label: "Day", value: "day" },
                  { label: "Week", value: "week" },
                ]}
                value={bucket}
                onChange={setBucket}
                error={filterErrors.bucket}
              />
              <Button submit>Filter</Button>
              <Button url="/app/incidents" variant="plain">
                Clear
              </Button>
            </InlineStack>
          </Form>
        </Card>

        <Card>
          <BlockStack gap="200">
            <Text as="h2" variant="headingMd">
              Oversold units by root cause, per {chart.bucket}
            </Text>
            <IncidentChart bucket={chart.bucket} periods={chart.periods} />
          </BlockStack>
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
                  {filtered ? " match these filters" : ": every sale so far was covered"}.
                </Text>
              </Box>
            }
            headings={[
              { title: "When" },
              { title: "SKU" },
              { title: "Channel / order" },
              { title: "Units", alignment: "end" },
              { title: "Root cause and evidence" },
              {
                title: "What channels showed",
                tooltipContent:
                  "Per channel: published / last pushed / shown on the channel, and how long before the shortfall the last push was",
              },
              { title: "Resolution" },
            ]}
          >
            {incidents.map((incident, index) => (
              <IndexTable.Row id={incident.id} key={incident.id} position={index}>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span">{formatUtc(incident.saleAt ?? incident.occurredAt)}</Text>
                    <Text as="span" variant="bodySm" tone="subdued">
                      {ago(incident.saleAt ?? incident.occurredAt, now)}
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
                  <span data-testid="units">
                    <Text
                      as="span"
                      alignment="end"
                      numeric
                      tone={incident.status === "confirmed" ? "critical" : "subdued"}
                      fontWeight="semibold"
                    >
                      {incident.status === "provisional"
                        ? `${incident.shortfall}?`
                        : (incident.units ?? incident.shortfall)}
                    </Text>
                  </span>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    {incident.status === "provisional" ? (
                      <Tooltip content="Events still in flight may explain it; confirmed or dropped once the item settles">
                        <span data-root-cause="provisional">
                          <Badge tone="attention">Provisional</Badge>
                        </span>
                      </Tooltip>
                    ) : incident.status === "explained" ? (
                      <span data-root-cause="explained">
                        <Badge>Explained: not an oversell</Badge>
                      </span>
                    ) : (
                      <Tooltip content={ROOT_CAUSE_TEXT[incident.rootCause]?.explanation ?? ""}>
                        <span data-root-cause={incident.rootCause}>
                          <Badge tone={CAUSE_TONE[incident.rootCause]}>
                            {rootCauseLabel(incident.rootCause)}
                          </Badge>
                        </span>
                      </Tooltip>
                    )}
                    {incident.reason && (
                      <Text as="span" variant="bodySm" tone="subdued">
                        {incident.reason}
                      </Text>
                    )}
                  </BlockStack>
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
                <IndexTable.Cell>
                  {incident.resolvedAt ? (
                    <BlockStack gap="050">
                      <Badge tone="success">Resolved</Badge>
                      <Text as="span" variant="bodySm" tone="subdued">
                        {incident.resolutionNote ?? ""}
                      </Text>
                    </BlockStack>
                  ) : incident.status === "confirmed" ? (
                    <ResolveForm id={incident.id} result={result} />
                  ) : (
                    <Text as="span" tone="subdued">
                      —
                    </Text>
                  )}
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

        <AlertSettingsCard settings={alerts} result={result} />

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
