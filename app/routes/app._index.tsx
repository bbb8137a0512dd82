/**
 * `/app`: the Overview page of the embedded admin: the shop and its sync switch, the set-up
 * checklist from install to a syncing shop (catalog import with live progress and retry, pooled
 * source locations, channels, default buffer, the preview of the first sync, Start sync),
 * headline numbers and each connection's sync state.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import {
  Form,
  Link as RemixLink,
  useActionData,
  useLoaderData,
  useNavigation,
  useSubmit,
} from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  Icon,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Link,
  List,
  Page,
  Spinner,
  Text,
} from "@shopify/polaris";
import { AlertCircleIcon, CheckCircleIcon } from "@shopify/polaris-icons";
import { useEffect, useState, type ReactNode } from "react";
import { FormErrorBanner, useSuccessToast } from "../components/action-feedback";
import { ConfirmButton } from "../components/confirm";
import { ago, describeRule, formatAge, formatUtc, signed } from "../components/format";
import { usePolling } from "../components/polling";
import { ConnectionStatusBadge } from "../components/status-badge";
import { parseForm } from "../services/admin/forms.server";
import {
  performOverviewAction,
  ZOverviewAction,
  type ImportView,
  type Onboarding,
} from "../services/admin/onboarding.server";
import { getAdminOverview } from "../services/admin/overview.server";
import { getRiskSummary } from "../services/risk/risk.server";
import { oversoldLastSevenDays } from "../services/admin/incidents.server";
import { IncidentChart } from "../components/incident-chart";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [overview, risks, oversoldTrend] = await Promise.all([
    getAdminOverview(session.shop),
    getRiskSummary(session.shop),
    oversoldLastSevenDays(session.shop),
  ]);
  return { ...overview, risks, oversoldTrend };
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZOverviewAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await performOverviewAction({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

function Metric(props: {
  label: string;
  value: string | number;
  detail?: string;
  tone?: "critical" | "success";
  to?: string;
}) {
  const value = (
    <Text as="p" variant="headingLg" tone={props.tone}>
      {props.value}
    </Text>
  );
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="bodySm" tone="subdued">
          {props.label}
        </Text>
        {props.to ? (
          <RemixLink to={props.to} style={{ color: "inherit", textDecoration: "none" }}>
            {value}
          </RemixLink>
        ) : (
          value
        )}
        {props.detail && (
          <Text as="p" variant="bodySm" tone="subdued">
            {props.detail}
          </Text>
        )}
      </BlockStack>
    </Card>
  );
}

type StepState = "done" | "todo" | "busy" | "failed" | "optional";

function StepMarker({ state }: { state: StepState }) {
  if (state === "done") return <Icon source={CheckCircleIcon} tone="success" />;
  if (state === "failed") return <Icon source={AlertCircleIcon} tone="critical" />;
  if (state === "busy") return <Spinner size="small" accessibilityLabel="In progress" />;
  return (
    <span
      aria-hidden
      style={{
        display: "inline-block",
        width: 16,
        height: 16,
        margin: 2,
        borderRadius: "50%",
        border: `2px ${state === "optional" ? "dotted" : "dashed"} #8a8a8a`,
      }}
    />
  );
}

function Step(props: { id: string; title: string; state: StepState; children: ReactNode }) {
  return (
    <div data-step={props.id} data-state={props.state}>
      <Box paddingBlock="300" borderBlockStartWidth="025" borderColor="border-secondary">
        {/* A grid, so wide content (the preview table) scrolls inside the step on a phone. */}
        <div style={{ display: "grid", gridTemplateColumns: "20px minmax(0, 1fr)", gap: 12 }}>
          <div style={{ paddingBlockStart: 1 }}>
            <StepMarker state={props.state} />
          </div>
          <BlockStack gap="200">
            <Text as="h3" variant="headingSm">
              {props.title}
            </Text>
            {props.children}
          </BlockStack>
        </div>
      </Box>
    </div>
  );
}

function importText(run: ImportView): string {
  switch (run.status) {
    case "queued":
      return "Waiting for the import to start…";
    case "running":
      return run.total
        ? `Importing: ${run.imported} of ${run.total} variants read`
        : `Importing: ${run.imported} variant${run.imported === 1 ? "" : "s"} read so far`;
    case "done":
      return `${run.imported} variant${run.imported === 1 ? "" : "s"} imported, ${run.issues} issue${run.issues === 1 ? "" : "s"}`;
    case "failed":
      return `The import stopped after ${run.imported} variant${run.imported === 1 ? "" : "s"}.`;
  }
}

function ImportProgress(props: { run: ImportView; now: string; retrying: boolean }) {
  const { run, now } = props;
  const navigation = useNavigation();
  const retrying =
    navigation.state === "submitting" &&
    navigation.formData?.get("intent") === "retry-import" &&
    navigation.formData?.get("connectionId") === run.connectionId;
  return (
    <div data-import={run.connectionName} data-import-status={run.status}>
      <BlockStack gap="200">
        <Text as="p" tone={run.status === "failed" ? "critical" : undefined}>
          <span data-testid="import-progress">{importText(run)}</span>
          {run.status === "running" && run.startedAt && (
            <Text as="span" tone="subdued">
              {` · started ${ago(run.startedAt, now)}`}
            </Text>
          )}
          {run.status === "done" && run.issues > 0 && (
            <>
              {" · "}
              <Link url="/app/health">see catalog issues</Link>
            </>
          )}
        </Text>
        {run.status === "failed" && (
          <Banner tone="critical" title="The catalog import failed">
            <BlockStack gap="200">
              <p data-testid="import-error">{run.error ?? "No reason was recorded."}</p>
              {props.retrying ? (
                <Text as="p">Retry queued: the import starts again in a few seconds.</Text>
              ) : (
                <Form method="post">
                  <input type="hidden" name="intent" value="retry-import" />
                  <input type="hidden" name="connectionId" value={run.connectionId} />
                  <Button submit loading={retrying}>
                    Retry import
                  </Button>
                </Form>
              )}
            </BlockStack>
          </Banner>
        )}
      </BlockStack>
    </div>
  );
}

function Preview({ preview }: { preview: Onboarding["preview"] }) {
  const changes = preview.channels.reduce((sum, c) => sum + c.changes, 0);
  return (
    <BlockStack gap="300">
      <Text as="p" tone="subdued">
        What StockGuard would write to each channel when sync starts, against what the channel shows
        now. Nothing has been written yet.
      </Text>
      <InlineGrid columns={{ xs: 1, sm: 2, md: 3 }} gap="200">
        {preview.channels.map((c) => (
          <div key={c.connectionId} data-preview-channel={c.name}>
            <Box
              padding="300"
              background="bg-surface-secondary"
              borderRadius="200"
              minHeight="100%"
            >
              <BlockStack gap="100">
                <InlineStack gap="100" blockAlign="center">
                  <Text as="span" fontWeight="semibold">
                    {c.name}
                  </Text>
                  {c.role === "source" && <Badge tone="info">Stock source</Badge>}
                </InlineStack>
                <Text as="p">
                  <span data-testid="preview-changes">{c.changes}</span> of {c.listings} listing
                  {c.listings === 1 ? "" : "s"} would change
                </Text>
              </BlockStack>
            </Box>
          </div>
        ))}
      </InlineGrid>
      {changes === 0 ? (
        <Text as="p" tone="success">
          Every channel already shows what StockGuard would publish.
        </Text>
      ) : (
        <div
          data-testid="preview-table"
          style={{
            maxHeight: 420,
            overflow: "auto",
            border: "1px solid var(--p-color-border)",
            borderRadius: "var(--p-border-radius-200)",
          }}
        >
          <IndexTable
            resourceName={{ singular: "difference", plural: "differences" }}
            itemCount={preview.differences.length}
            selectable={false}
            headings={[
              { title: "Channel" },
              { title: "SKU" },
              { title: "Shows now", alignment: "end" },
              { title: "Would show", alignment: "end" },
              { title: "Change", alignment: "end" },
            ]}
          >
            {preview.differences.map((d, index) => (
              <IndexTable.Row id={d.listingId} key={d.listingId} position={index}>
                <IndexTable.Cell>{d.connectionName}</IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <InlineStack gap="100" wrap={false}>
                      <Text as="span" fontWeight="semibold">
                        {d.sku ?? "—"}
                      </Text>
                      {d.bundle && <Badge>Bundle</Badge>}
                    </InlineStack>
                    {d.title && (
                      <Text as="span" variant="bodySm" tone="subdued">
                        {d.title}
                      </Text>
                    )}
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {d.shows ?? "unknown"}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric fontWeight="semibold">
                    {d.publishes}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {d.shows === null ? "—" : signed(d.publishes - d.shows)}
                  </Text>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </div>
      )}
      {preview.more > 0 && (
        <Text as="p" tone="subdued">
          …and {preview.more} more listing{preview.more === 1 ? "" : "s"}.
        </Text>
      )}
    </BlockStack>
  );
}

function Checklist(props: {
  onboarding: Onboarding;
  items: number;
  now: string;
  retrying: boolean;
}) {
  const { onboarding, now } = props;
  const run = onboarding.sourceImport;
  const navigation = useNavigation();
  const starting =
    navigation.state === "submitting" && navigation.formData?.get("intent") === "start-sync";
  const importState: StepState = !run
    ? "done"
    : run.status === "done"
      ? "done"
      : run.status === "failed"
        ? "failed"
        : "busy";
  const channelImports = onboarding.channelImports;
  const changes = onboarding.preview.channels.reduce((sum, c) => sum + c.changes, 0);
  const listings = onboarding.preview.channels.reduce((sum, c) => sum + c.listings, 0);
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          Set up StockGuard
        </Text>
        <Text as="p" tone="subdued">
          From install to a syncing shop. Nothing is written to any channel until you start sync.
        </Text>
        <Box paddingBlockStart="200">
          <Step id="import" title="Import your catalog" state={importState}>
            {run ? (
              <ImportProgress run={run} now={now} retrying={props.retrying} />
            ) : (
              <Text as="p">{`${props.items} stock item${props.items === 1 ? "" : "s"} in the ledger.`}</Text>
            )}
          </Step>
          <Step
            id="locations"
            title="Source locations pooled"
            state={onboarding.locations.length > 0 ? "done" : "todo"}
          >
            {onboarding.locations.length === 0 ? (
              <Text as="p" tone="subdued">
                The active locations of this store appear here once the catalog is imported.
              </Text>
            ) : (
              <BlockStack gap="100">
                <Text as="p" tone="subdued">
                  The stock of these locations is one pool every channel sells from.
                </Text>
                <List>
                  {onboarding.locations.map((l) => (
                    <List.Item key={l.id}>
                      <span data-location={l.name}>
                        <Text as="span" fontWeight="semibold">
                          {l.name}
                        </Text>
                        {l.primary ? " (primary)" : ""}
                        {` · ${l.onHand} unit${l.onHand === 1 ? "" : "s"} on hand across ${l.items} SKU${l.items === 1 ? "" : "s"}`}
                        {!l.active && " · inactive"}
                      </span>
                    </List.Item>
                  ))}
                </List>
              </BlockStack>
            )}
          </Step>
          <Step
            id="channels"
            title="Connect a sales channel"
            state={onboarding.salesChannels > 0 ? "done" : "todo"}
          >
            <Text as="p">
              {onboarding.salesChannels > 0
                ? `${onboarding.salesChannels} sales channel${onboarding.salesChannels === 1 ? "" : "s"} connected.`
                : "Another Shopify store (linked with a one-time code, or with an Admin API token) or a marketplace account."}
            </Text>
            {channelImports
              .filter((r) => r.status !== "done")
              .map((r) => (
                <BlockStack key={r.connectionId} gap="100">
                  <Text as="p" fontWeight="semibold">
                    {r.connectionName}
                  </Text>
                  <ImportProgress run={r} now={now} retrying={false} />
                </BlockStack>
              ))}
            <InlineStack gap="200" blockAlign="center">
              <Button url="/app/channels">
                {onboarding.salesChannels > 0 ? "Manage channels" : "Connect a channel"}
              </Button>
              {onboarding.salesChannels === 0 && (
                <Text as="span" tone="subdued" variant="bodySm">
                  Does this store sell another store&apos;s stock? Enter that store&apos;s link code
                  on the Channels page.
                </Text>
              )}
            </InlineStack>
          </Step>
          <Step
            id="buffer"
            title="Default buffer (optional)"
            state={onboarding.defaultRules.length > 0 ? "done" : "optional"}
          >
            <Text as="p">
              {onboarding.defaultRules.length > 0
                ? `Every channel: ${onboarding.defaultRules.map((r) => describeRule(r.kind, r.value)).join(", ")}.`
                : "Without one, every channel shows the full available quantity. A small buffer absorbs sales that happen on two channels at once."}
            </Text>
            <InlineStack>
              <Button url="/app/rules">
                {onboarding.defaultRules.length > 0
                  ? "Change buffer rules"
                  : "Set a default buffer"}
              </Button>
            </InlineStack>
          </Step>
          <Step
            id="preview"
            title="Preview the first sync"
            state={listings > 0 && changes === 0 ? "done" : "todo"}
          >
            {listings === 0 ? (
              <Text as="p" tone="subdued">
                Nothing to compare yet.
              </Text>
            ) : (
              <Preview preview={onboarding.preview} />
            )}
          </Step>
          <Step id="start" title="Start sync" state="todo">
            <Text as="p">
              StockGuard then writes the published quantities to every channel and keeps them in
              step with every sale, within seconds.
            </Text>
            <Form method="post">
              <input type="hidden" name="intent" value="start-sync" />
              <InlineStack gap="300" blockAlign="center">
                <Button
                  submit
                  variant="primary"
                  loading={starting}
                  disabled={onboarding.startBlocker !== null}
                >
                  Start sync
                </Button>
                {onboarding.startBlocker && (
                  <Text as="span" tone="subdued">
                    {onboarding.startBlocker}
                  </Text>
                )}
              </InlineStack>
            </Form>
          </Step>
        </Box>
      </BlockStack>
    </Card>
  );
}

export default function Overview() {
  const { now, shop, connections, headline, onboarding, risks, oversoldTrend } =
    useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const navigation = useNavigation();
  const submit = useSubmit();
  const salesChannels = connections.filter((c) => c.role === "sales");
  const { oversold24h, oversold7d } = headline;

  // A retry is queued: keep polling until the worker has started the new run.
  const [retryUntil, setRetryUntil] = useState(0);
  useEffect(() => {
    if (result?.ok && result.message.startsWith("Import of")) setRetryUntil(Date.now() + 60_000);
  }, [result]);
  const run = onboarding?.sourceImport;
  const retrying = retryUntil > 0 && run?.status === "failed";
  const importing =
    run?.status === "queued" ||
    run?.status === "running" ||
    (onboarding?.channelImports ?? []).some((r) => r.status === "running");
  usePolling(Boolean(importing || retrying));
  useEffect(() => {
    if (retryUntil === 0) return;
    const timer = setTimeout(() => setRetryUntil(0), Math.max(0, retryUntil - Date.now()));
    return () => clearTimeout(timer);
  }, [retryUntil]);

  const linked = onboarding?.linkedTo ?? null;
  const syncing = shop?.syncEnabled === true;
  const startingFromBanner =
    navigation.state === "submitting" && navigation.formData?.get("intent") === "start-sync";

  return (
    <Page title="Overview">
      <TitleBar title="StockGuard" />
      <Layout>
        {linked && (
          <Layout.Section>
            <Banner tone="info" title={`This store sells ${linked}'s stock`}>
              <p>
                It is a sales channel of {linked}: its orders count there, and StockGuard writes its
                quantities from {linked}&apos;s StockGuard admin (pause, resume or disconnect it
                there).
              </p>
            </Banner>
          </Layout.Section>
        )}
        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <InlineStack align="space-between" blockAlign="center" gap="200">
                <InlineStack gap="200" blockAlign="center">
                  <Text as="h2" variant="headingMd">
                    {shop?.name ?? shop?.domain ?? "Your store"}
                  </Text>
                  {shop && !linked && (
                    <span data-testid="sync-state" data-sync={syncing ? "on" : "paused"}>
                      <Badge tone={syncing ? "success" : "attention"}>
                        {syncing ? "Sync on" : "Sync paused"}
                      </Badge>
                    </span>
                  )}
                </InlineStack>
                {shop && !linked && syncing && (
                  <ConfirmButton
                    label="Pause sync"
                    title="Pause sync?"
                    body="StockGuard stops writing to every channel. Orders and stock changes are still recorded, and starting sync again catches every channel up. Until then, channels keep showing what they show now and can oversell."
                    confirmLabel="Pause sync"
                    destructive
                    fields={{ intent: "pause-sync" }}
                  />
                )}
              </InlineStack>
              <Text as="p" tone="subdued">
                {shop
                  ? `${shop.domain} · installed ${formatUtc(shop.installedAt).slice(0, 10)} · ${headline.items} stock item${headline.items === 1 ? "" : "s"}`
                  : "This store has not finished installing StockGuard."}
              </Text>
              <FormErrorBanner result={result} intent="pause-sync" />
            </BlockStack>
          </Card>
        </Layout.Section>

        {shop && !linked && !syncing && (
          <Layout.Section>
            <Banner
              tone="warning"
              title="Sync paused"
              action={
                onboarding?.startBlocker === null
                  ? {
                      content: "Start sync",
                      loading: startingFromBanner,
                      onAction: () => submit({ intent: "start-sync" }, { method: "post" }),
                    }
                  : undefined
              }
            >
              <p>
                {onboarding?.holdsReleasedAt
                  ? `Holds were released on ${formatUtc(onboarding.holdsReleasedAt)}: nothing is written to any channel. Starting sync takes StockGuard's holds on this store again.`
                  : "Nothing is written to any channel. Orders and stock changes are still recorded; starting sync catches every channel up."}
              </p>
            </Banner>
            <Box paddingBlockStart="200">
              <FormErrorBanner result={result} intent="start-sync" />
              <FormErrorBanner result={result} intent="retry-import" />
            </Box>
          </Layout.Section>
        )}

        {shop && onboarding && !linked && !syncing && (
          <Layout.Section>
            <Checklist
              onboarding={onboarding}
              items={headline.items}
              now={now}
              retrying={retrying}
            />
          </Layout.Section>
        )}

        <Layout.Section>
          <InlineGrid columns={{ xs: 2, md: 5 }} gap="300">
            <Metric
              label="Oversold, last 24 h"
              value={`${oversold24h.units} units`}
              detail={`${oversold24h.incidents} incident${oversold24h.incidents === 1 ? "" : "s"}`}
              tone={oversold24h.units > 0 ? "critical" : undefined}
              to="/app/incidents"
            />
            <Metric
              label="Oversold, last 7 days"
              value={`${oversold7d.units} units`}
              detail={`${oversold7d.incidents} incident${oversold7d.incidents === 1 ? "" : "s"}`}
              tone={oversold7d.units > 0 ? "critical" : undefined}
              to="/app/incidents"
            />
            <Metric
              label="Open sync failures"
              value={headline.openFailures}
              tone={headline.openFailures > 0 ? "critical" : undefined}
              to="/app/health"
            />
            <Metric
              label="Unmatched order lines"
              value={headline.unmatchedLines}
              tone={headline.unmatchedLines > 0 ? "critical" : undefined}
              to="/app/unmatched"
            />
            <Metric label="Catalog issues" value={headline.catalogIssues} to="/app/health" />
            <Metric
              label="Risk checks"
              value={risks.total}
              detail={`${risks.byKind.continue_selling} sell at 0, ${risks.byKind.untracked} untracked`}
              tone={risks.total > 0 ? "critical" : "success"}
              to="/app/risks"
            />
          </InlineGrid>
        </Layout.Section>

        {/* Issue 13: oversold units by root cause over the last 7 days. */}
        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <InlineStack align="space-between" blockAlign="center">
                <Text as="h2" variant="headingMd">
                  Oversold units by root cause, last 7 days
                </Text>
                <Link url="/app/incidents">Incidents</Link>
              </InlineStack>
              <IncidentChart bucket="day" periods={oversoldTrend.periods} />
            </BlockStack>
          </Card>
        </Layout.Section>

        {salesChannels.length === 0 && !linked && syncing && (
          <Layout.Section>
            <Banner
              tone="info"
              title="Connect your first sales channel"
              action={{ content: "Connect a channel", url: "/app/channels" }}
            >
              <p>
                StockGuard keeps this store&apos;s stock as the single pool. Connect another Shopify
                store or a marketplace account and every sale anywhere is committed once and pushed
                everywhere within seconds.
              </p>
            </Banner>
          </Layout.Section>
        )}

        <Layout.Section>
          <Card padding="0">
            <Box padding="400" paddingBlockEnd="200">
              <InlineStack align="space-between" blockAlign="center">
                <Text as="h2" variant="headingMd">
                  Connections
                </Text>
                {!linked && (
                  <Link url="/app/channels" removeUnderline>
                    Manage channels
                  </Link>
                )}
              </InlineStack>
            </Box>
            <IndexTable
              resourceName={{ singular: "connection", plural: "connections" }}
              itemCount={connections.length}
              selectable={false}
              emptyState={
                <Box padding="400">
                  <Text as="p" tone="subdued">
                    No connections yet.
                  </Text>
                </Box>
              }
              headings={[
                { title: "Channel" },
                { title: "Status" },
                { title: "Listings", alignment: "end" },
                { title: "Pending pushes", alignment: "end" },
                { title: "Oldest pending" },
                { title: "Last push" },
                { title: "Last reconcile" },
                { title: "Open failures", alignment: "end" },
              ]}
            >
              {connections.map((c, index) => (
                <IndexTable.Row id={c.id} key={c.id} position={index}>
                  <IndexTable.Cell>
                    <BlockStack gap="050">
                      <InlineStack gap="100" blockAlign="center" wrap={false}>
                        <Text as="span" fontWeight="semibold">
                          {c.name}
                        </Text>
                        <Badge tone={c.role === "source" ? "info" : undefined}>
                          {c.role === "source" ? "Stock source" : "Sales channel"}
                        </Badge>
                      </InlineStack>
                      <Text as="span" variant="bodySm" tone="subdued">
                        {c.kind} · {c.account}
                      </Text>
                    </BlockStack>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <ConnectionStatusBadge status={c.status} reason={c.statusReason} />
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <Text as="span" alignment="end" numeric>
                      {c.listings}
                    </Text>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    <Text
                      as="span"
                      alignment="end"
                      numeric
                      tone={c.pendingPushes > 0 ? "caution" : undefined}
                    >
                      {c.pendingPushes}
                    </Text>
                  </IndexTable.Cell>
                  <IndexTable.Cell>
                    {c.oldestPendingAgeMs === null ? "—" : formatAge(c.oldestPendingAgeMs)}
                  </IndexTable.Cell>
                  <IndexTable.Cell>{ago(c.lastPushAt, now)}</IndexTable.Cell>
                  <IndexTable.Cell>{ago(c.lastReconciledAt, now)}</IndexTable.Cell>
                  <IndexTable.Cell>
                    {c.openFailures > 0 ? (
                      <Link url="/app/health">
                        <Text as="span" tone="critical" numeric>
                          {c.openFailures}
                        </Text>
                      </Link>
                    ) : (
                      <Text as="span" alignment="end" numeric>
                        0
                      </Text>
                    )}
                  </IndexTable.Cell>
                </IndexTable.Row>
              ))}
            </IndexTable>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
