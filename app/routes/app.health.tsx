/**
 * `/app/health`: the Sync health page of the embedded admin (sync latency and pending writes over
 * the last 24 hours as charts; failures, catalog issues, unmatched order lines, drift) with
 * "Mark resolved" and "Reconcile now".
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
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
  Link,
  Page,
  Text,
} from "@shopify/polaris";
import type { ReactNode } from "react";
import { useSuccessToast } from "../components/action-feedback";
import { ago, formatUtc } from "../components/format";
import { LineChart } from "../components/line-chart";
import { ConnectionStatusBadge } from "../components/status-badge";
import { parseForm } from "../services/admin/forms.server";
import {
  getSyncHealth,
  performHealthAction,
  ZHealthAction,
} from "../services/admin/sync-health.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return getSyncHealth(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZHealthAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await performHealthAction({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

/**
 * A card with a status badge that reads as a status, never as a total: "3 open" / "None open",
 * "1 needs attention" / "All 3 active" ("Connections 0" in green read as "no connections").
 */
function Section(props: {
  title: string;
  count?: number;
  /** The badge text for `count` problems (default "N open" / "None open"). */
  label?: (count: number) => string;
  children: ReactNode;
}) {
  const label = props.label ?? ((n: number) => (n > 0 ? `${n} open` : "None open"));
  return (
    <Card padding="0">
      <Box padding="400" paddingBlockEnd="200">
        <InlineStack gap="200" blockAlign="center">
          <Text as="h2" variant="headingMd">
            {props.title}
          </Text>
          {props.count !== undefined && (
            <span data-testid="section-status" data-count={props.count}>
              <Badge tone={props.count > 0 ? "attention" : "success"}>{label(props.count)}</Badge>
            </span>
          )}
        </InlineStack>
      </Box>
      {props.children}
    </Card>
  );
}

function Empty(props: { children: ReactNode }) {
  return (
    <Box padding="400">
      <Text as="p" tone="subdued">
        {props.children}
      </Text>
    </Box>
  );
}

/** An hour's label on the charts' axis. */
const hourLabel = (iso: string) => `${iso.slice(11, 16)} UTC`;

/** A chart card of this page: title, what it shows, and the chart or what to say when empty. */
function ChartCard(props: {
  title: string;
  description: string;
  empty: string | null;
  children: ReactNode;
}) {
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {props.title}
        </Text>
        <Text as="p" tone="subdued">
          {props.description}
        </Text>
        {props.empty !== null ? (
          <Text as="p" tone="subdued">
            {props.empty}
          </Text>
        ) : (
          props.children
        )}
      </BlockStack>
    </Card>
  );
}

const seconds = (ms: number) =>
  ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;

/** Event received → channel written, per channel over the last 24 hours (p50 solid, p95 dashed). */
function LatencyCard(props: {
  latency: ReturnType<typeof useLoaderData<typeof loader>>["latency"];
  /** A channel's colour, the same in both charts. */
  color: (connectionId: string) => number;
}) {
  const { hours, series } = props.latency;
  return (
    <ChartCard
      title="Sync latency, last 24 hours"
      description="From an event reaching StockGuard to the channel being written, per hour: typical (p50, solid) and slowest 5% (p95, dashed)."
      empty={series.length === 0 ? "No channel was written in the last 24 hours." : null}
    >
      <LineChart
        title="Sync latency per channel, p50 and p95, by hour"
        labels={hours.map(hourLabel)}
        format={seconds}
        series={series.flatMap((s) => [
          { name: `${s.name} p50`, values: s.p50, color: props.color(s.connectionId) },
          {
            name: `${s.name} p95`,
            values: s.p95,
            dashed: true,
            color: props.color(s.connectionId),
          },
        ])}
      />
      <BlockStack gap="100">
        {series.map((s) => {
          const p95 = s.p95.filter((v): v is number => v !== null);
          return (
            <Text as="p" key={s.connectionId} variant="bodySm">
              <span data-latency={s.name}>
                {s.name}: {s.writes} write{s.writes === 1 ? "" : "s"}, worst hourly p95{" "}
                {seconds(Math.max(...p95))}
              </span>
            </Text>
          );
        })}
      </BlockStack>
    </ChartCard>
  );
}

/** Writes waiting per channel over the last 24 hours: the most at once in each hour. */
function PendingCard(props: {
  pending: ReturnType<typeof useLoaderData<typeof loader>>["pending"];
  color: (connectionId: string) => number;
}) {
  const { hours, series } = props.pending;
  const writes = (n: number) => `${Math.round(n)} write${Math.round(n) === 1 ? "" : "s"}`;
  return (
    <ChartCard
      title="Pending writes, last 24 hours"
      description="Changes waiting to be written to each channel: the most that waited at once in each hour. A change waits from the moment StockGuard receives it until the channel is written."
      empty={
        series.length === 0
          ? "No write waited in the last 24 hours, and none is waiting now."
          : null
      }
    >
      <LineChart
        title="Pending writes per channel, most at once, by hour"
        testId="pending-chart"
        labels={hours.map(hourLabel)}
        format={writes}
        series={series.map((s) => ({
          name: s.name,
          values: s.peak,
          color: props.color(s.connectionId),
        }))}
      />
      <BlockStack gap="100">
        {series.map((s) => (
          <Text as="p" key={s.connectionId} variant="bodySm">
            <span data-pending={s.name}>
              {s.name}: at most {writes(Math.max(...s.peak))} waiting at once;{" "}
              {s.now === 0 ? "none waiting now" : `${writes(s.now)} waiting now`}
            </span>
          </Text>
        ))}
      </BlockStack>
    </ChartCard>
  );
}

export default function SyncHealth() {
  const { now, connections, failures, catalogIssues, unmatchedLines, drift, latency, pending } =
    useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const color = (connectionId: string) =>
    Math.max(
      0,
      connections.findIndex((c) => c.id === connectionId),
    );
  const navigation = useNavigation();
  const busy = (intent: string, field: string, id: string) =>
    navigation.state === "submitting" &&
    navigation.formData?.get("intent") === intent &&
    navigation.formData.get(field) === id;

  return (
    <Page title="Sync health">
      <TitleBar title="Sync health" />
      <BlockStack gap="400">
        {result && !result.ok && (
          <Banner tone="critical" title="Not done">
            <p>{result.formError ?? Object.values(result.fieldErrors).join(" ")}</p>
          </Banner>
        )}

        <LatencyCard latency={latency} color={color} />
        <PendingCard pending={pending} color={color} />

        <Section
          title="Connections"
          count={connections.filter((c) => c.status !== "active").length}
          label={(n) =>
            n > 0 ? `${n} need${n === 1 ? "s" : ""} attention` : `All ${connections.length} active`
          }
        >
          <IndexTable
            resourceName={{ singular: "connection", plural: "connections" }}
            itemCount={connections.length}
            selectable={false}
            headings={[
              { title: "Channel" },
              { title: "Status" },
              { title: "Last reconcile" },
              { title: "" },
            ]}
          >
            {connections.map((c, index) => (
              <IndexTable.Row id={c.id} key={c.id} position={index}>
                <IndexTable.Cell>
                  <Text as="span" fontWeight="semibold">
                    {c.name}
                  </Text>{" "}
                  <Text as="span" tone="subdued">
                    ({c.role === "source" ? "stock source" : "sales channel"}, {c.kind})
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <ConnectionStatusBadge status={c.status} reason={c.statusReason} />
                </IndexTable.Cell>
                <IndexTable.Cell>{ago(c.lastReconciledAt, now)}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Form method="post">
                    <input type="hidden" name="intent" value="reconcile" />
                    <input type="hidden" name="connectionId" value={c.id} />
                    <Button
                      submit
                      size="slim"
                      loading={busy("reconcile", "connectionId", c.id)}
                      accessibilityLabel={`Reconcile ${c.name} now`}
                    >
                      Reconcile now
                    </Button>
                  </Form>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </Section>

        <Section title="Open sync failures" count={failures.length}>
          <IndexTable
            resourceName={{ singular: "failure", plural: "failures" }}
            itemCount={failures.length}
            selectable={false}
            emptyState={<Empty>No open failures: every write landed.</Empty>}
            headings={[
              { title: "When" },
              { title: "Channel" },
              { title: "Kind" },
              { title: "Reason" },
              { title: "Listing" },
              { title: "" },
            ]}
          >
            {failures.map((f, index) => (
              <IndexTable.Row id={f.id} key={f.id} position={index}>
                <IndexTable.Cell>{formatUtc(f.occurredAt)}</IndexTable.Cell>
                <IndexTable.Cell>{f.connection}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Badge tone="critical">{f.kind}</Badge>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <span data-failure-reason>{f.reason}</span>
                </IndexTable.Cell>
                <IndexTable.Cell>{f.listing ?? "—"}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Form method="post">
                    <input type="hidden" name="intent" value="resolve_failure" />
                    <input type="hidden" name="failureId" value={f.id} />
                    <Button
                      submit
                      size="slim"
                      loading={busy("resolve_failure", "failureId", f.id)}
                      accessibilityLabel={`Mark failure ${f.reason} resolved`}
                    >
                      Mark resolved
                    </Button>
                  </Form>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </Section>

        <Section title="Catalog issues" count={catalogIssues.length}>
          <IndexTable
            resourceName={{ singular: "issue", plural: "issues" }}
            itemCount={catalogIssues.length}
            selectable={false}
            emptyState={<Empty>No duplicate, empty or unmatched SKUs.</Empty>}
            headings={[
              { title: "Last seen" },
              { title: "Channel" },
              { title: "Issue" },
              { title: "SKU" },
              { title: "Details" },
            ]}
          >
            {catalogIssues.map((i, index) => (
              <IndexTable.Row id={i.id} key={i.id} position={index}>
                <IndexTable.Cell>{formatUtc(i.lastSeenAt)}</IndexTable.Cell>
                <IndexTable.Cell>{i.connection}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Badge tone="warning">{i.kind.replace(/_/g, " ")}</Badge>
                </IndexTable.Cell>
                <IndexTable.Cell>{i.sku ?? "(none)"}</IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span">{i.details}</Text>
                    {i.remoteRefs.length > 0 && (
                      <Text as="span" variant="bodySm" tone="subdued">
                        {i.remoteRefs.join(", ")}
                      </Text>
                    )}
                  </BlockStack>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </Section>

        <Section title="Unmatched order lines" count={unmatchedLines.length}>
          <IndexTable
            resourceName={{ singular: "order line", plural: "order lines" }}
            itemCount={unmatchedLines.length}
            selectable={false}
            emptyState={<Empty>Every order line matched a listing or SKU.</Empty>}
            headings={[
              { title: "Last seen" },
              { title: "Channel" },
              { title: "Order / line" },
              { title: "SKU" },
              { title: "Units", alignment: "end" },
            ]}
          >
            {unmatchedLines.map((u, index) => (
              <IndexTable.Row id={u.id} key={u.id} position={index}>
                <IndexTable.Cell>{formatUtc(u.lastSeenAt)}</IndexTable.Cell>
                <IndexTable.Cell>{u.connection}</IndexTable.Cell>
                <IndexTable.Cell>
                  {u.orderId} / {u.lineId}
                </IndexTable.Cell>
                <IndexTable.Cell>{u.sku ?? u.remoteRef ?? "(none)"}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {u.quantity}
                  </Text>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
          {unmatchedLines.length > 0 && (
            <Box padding="400">
              <Link url="/app/unmatched">Map unmatched lines to items</Link>
            </Box>
          )}
        </Section>

        <Section
          title="Recent drift"
          count={drift.filter((d) => !d.repaired).length}
          label={(n) => (n > 0 ? `${n} not repaired` : "All repaired")}
        >
          <IndexTable
            resourceName={{ singular: "drift record", plural: "drift records" }}
            itemCount={drift.length}
            selectable={false}
            emptyState={<Empty>Reconciliation has found no differences.</Empty>}
            headings={[
              { title: "Detected" },
              { title: "Channel" },
              { title: "Listing" },
              { title: "Expected / observed" },
              { title: "Cause" },
              { title: "Repaired" },
            ]}
          >
            {drift.map((d, index) => (
              <IndexTable.Row id={d.id} key={d.id} position={index}>
                <IndexTable.Cell>{formatUtc(d.detectedAt)}</IndexTable.Cell>
                <IndexTable.Cell>{d.connection}</IndexTable.Cell>
                <IndexTable.Cell>{d.listing}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" numeric>
                    {d.expected} / {d.observed}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>{d.cause.replace(/_/g, " ")}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Badge tone={d.repaired ? "success" : "warning"}>
                    {d.repaired ? "repaired" : "open"}
                  </Badge>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </Section>
      </BlockStack>
    </Page>
  );
}
