/**
 * `/app/recommendations`: the Recommended buffers page of the embedded admin. Per SKU and
 * channel the buffer StockGuard computes from the shop's demand and each channel's measured
 * sync delay, each with its explanation ("λ=…, W=…, oversell risk …% (accepted 1%) → 2 units"); accept selected or all
 * (after a confirmation, with the values shown); a backtest of current vs recommended rules;
 * the service level, the tail owner and lead times; and the log of applied recommendations.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  Checkbox,
  FormLayout,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
  useIndexResourceState,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import {
  FormErrorBanner,
  fieldError,
  useSuccessToast,
  type ActionResult,
} from "../components/action-feedback";
import { ConfirmButton } from "../components/confirm";
import { describeRule, formatUtc } from "../components/format";
import {
  loadRecommendationsPage,
  recommendationAction,
  type RecommendationAnswer,
} from "../services/recommendations-page.server";
import { SERVICE_LEVELS } from "../services/recommendations-vocabulary";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return loadRecommendationsPage(session.shop);
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const result = await recommendationAction({
    shopDomain: session.shop,
    actor: `admin:user/${sessionToken?.sub ?? "unknown"}`,
    form: await request.formData(),
  });
  return data(result, { status: result.ok ? 200 : result.status });
};

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;
type Row = Loaded["rows"][number];

function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(1))} s`;
  if (ms < 3_600_000) return `${Number((ms / 60_000).toFixed(1))} min`;
  return `${Number((ms / 3_600_000).toFixed(1))} h`;
}

function percent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}

const STATUS: Record<Row["status"], { label: string; tone?: "success" | "attention" | "info" }> = {
  new: { label: "New", tone: "info" },
  change: { label: "Changes a rule", tone: "attention" },
  applied: { label: "Applied", tone: "success" },
};

function AcceptButton(props: { rows: Row[]; label: string; accessibilityLabel?: string }) {
  const n = props.rows.length;
  const channels = new Set(props.rows.map((r) => r.channelName)).size;
  return (
    <ConfirmButton
      label={props.label}
      accessibilityLabel={props.accessibilityLabel}
      variant="primary"
      disabled={n === 0}
      title={`Apply ${n} recommendation${n === 1 ? "" : "s"}?`}
      confirmLabel="Apply as buffer rules"
      body={
        <BlockStack gap="200">
          <Text as="p">
            {n} buffer rule{n === 1 ? "" : "s"} on {channels} channel{channels === 1 ? "" : "s"}{" "}
            will be created or changed to the values shown, and every channel republished. Each
            change is logged with its explanation; you can edit or delete the rules on the Buffer
            rules page.
          </Text>
          <BlockStack gap="100">
            {props.rows.slice(0, 5).map((r) => (
              <Text as="p" tone="subdued" key={r.key}>
                {r.sku} · {r.channelName}: {describeRule(r.kind, r.value)}
              </Text>
            ))}
            {n > 5 ? (
              <Text as="p" tone="subdued">
                …and {n - 5} more
              </Text>
            ) : null}
          </BlockStack>
        </BlockStack>
      }
      fields={{
        intent: "accept",
        confirmed: "yes",
        items: JSON.stringify(props.rows.map((r) => ({ key: r.key, value: r.value }))),
      }}
    />
  );
}

export default function Recommendations() {
  const page = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>() as RecommendationAnswer | undefined;
  const result = answer as ActionResult | undefined;
  useSuccessToast(answer && answer.ok && answer.intent !== "backtest" ? result : undefined);
  const navigation = useNavigation();
  const submitting = (intent: string) =>
    navigation.state === "submitting" && navigation.formData?.get("intent") === intent;

  const pending = page.rows.filter((r) => r.status !== "applied");
  const { selectedResources, allResourcesSelected, handleSelectionChange, clearSelection } =
    useIndexResourceState(pending.map((r) => ({ id: r.key })));
  const selected = allResourcesSelected
    ? pending
    : pending.filter((r) => selectedResources.includes(r.key));
  useEffect(() => {
    if (answer?.ok && answer.intent === "accept") clearSelection();
  }, [answer, clearSelection]);

  const [serviceLevel, setServiceLevel] = useState(page.settings.serviceLevel);
  const [tailOwner, setTailOwner] = useState(page.settings.tailOwner);
  const [keepApplied, setKeepApplied] = useState(page.settings.keepApplied);
  const [leadSku, setLeadSku] = useState("");
  const [supplier, setSupplier] = useState("");
  const [days, setDays] = useState("");
  const [sdDays, setSdDays] = useState("0");
  const backtest = answer?.ok && answer.intent === "backtest" ? answer.backtest : null;

  return (
    <Page
      title="Recommended buffers"
      subtitle="Computed from your orders per channel and each channel's measured sync delay"
    >
      <TitleBar title="Recommended buffers" />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Card padding="0">
              <Box padding="400">
                <BlockStack gap="200">
                  <InlineStack align="space-between" blockAlign="center" gap="200">
                    <Text as="h2" variant="headingMd">
                      {page.pending} to review · {page.total} recommendations for {page.skus} SKUs
                    </Text>
                    <AcceptButton
                      rows={pending}
                      label={`Accept all (${pending.length})`}
                      accessibilityLabel="Accept all recommendations"
                    />
                  </InlineStack>
                  <Text as="p" tone="subdued">
                    A channel shows 0 once the available quantity is at or below its buffer: the
                    fewest units that keep the chance of an oversell at each sell-out within the
                    service level, given what the other channels sell (λ, per hour) while this
                    channel still shows the old quantity (its measured updates; W is their p99).
                    From {page.orders} order lines; sorted by expected oversold units avoided at
                    each sell-out.
                  </Text>
                  <FormErrorBanner result={result} intent="accept" />
                </BlockStack>
              </Box>
              <IndexTable
                resourceName={{ singular: "recommendation", plural: "recommendations" }}
                itemCount={pending.length}
                selectedItemsCount={allResourcesSelected ? "All" : selectedResources.length}
                onSelectionChange={handleSelectionChange}
                promotedBulkActions={[]}
                emptyState={
                  <Box padding="400">
                    <Text as="p" tone="subdued">
                      Nothing to change: every channel is fast enough for its demand, or the
                      recommendations are applied.
                    </Text>
                  </Box>
                }
                headings={[
                  { title: "SKU" },
                  { title: "Channel" },
                  { title: "Now" },
                  { title: "Recommended" },
                  { title: "Oversells avoided", alignment: "end" },
                  { title: "Why" },
                ]}
              >
                {pending.map((r, index) => (
                  <IndexTable.Row
                    id={r.key}
                    key={r.key}
                    position={index}
                    selected={allResourcesSelected || selectedResources.includes(r.key)}
                  >
                    <IndexTable.Cell>
                      <BlockStack gap="050">
                        <Text as="span" fontWeight="semibold">
                          {r.sku}
                        </Text>
                        {r.title ? (
                          <Text as="span" tone="subdued">
                            {r.title}
                          </Text>
                        ) : null}
                      </BlockStack>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      <span data-row-sku={r.sku} data-row-channel={r.channelName}>
                        {r.channelName}
                      </span>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      {r.current === null ? "No rule" : describeRule(r.kind, r.current)}
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      <BlockStack gap="050">
                        <span data-recommended={`${r.kind}:${r.value}`}>
                          {describeRule(r.kind, r.value)}
                        </span>
                        <InlineStack gap="100">
                          <Badge tone={STATUS[r.status].tone}>{STATUS[r.status].label}</Badge>
                          {r.flash ? <Badge tone="warning">Flash sale</Badge> : null}
                          {r.tailOwner ? <Badge>Sells the last units</Badge> : null}
                        </InlineStack>
                      </BlockStack>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      <Text as="span" alignment="end" numeric>
                        {r.oversoldAvoided.toFixed(2)}
                      </Text>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      <div style={{ whiteSpace: "normal", minWidth: 300, maxWidth: 480 }}>
                        <Text as="span" variant="bodySm">
                          <span data-testid="explanation">{r.explanation}</span>
                        </Text>
                        <Text as="p" variant="bodySm" tone="subdued">
                          {r.formula}
                        </Text>
                      </div>
                    </IndexTable.Cell>
                  </IndexTable.Row>
                ))}
              </IndexTable>
              <Box padding="400">
                <InlineStack gap="200" blockAlign="center">
                  <AcceptButton
                    rows={selected}
                    label={`Accept selected (${selected.length})`}
                    accessibilityLabel="Accept selected recommendations"
                  />
                  {page.total > page.rows.length ? (
                    <Text as="span" tone="subdued">
                      Showing the first {page.rows.length} of {page.total}.
                    </Text>
                  ) : null}
                </InlineStack>
              </Box>
            </Card>

            <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    Channels
                  </Text>
                  {page.channels.map((c) => (
                    <div key={c.id} data-channel={c.name}>
                      <BlockStack gap="050">
                        <Text as="p" fontWeight="semibold">
                          {c.name}
                        </Text>
                        <Text as="p" tone="subdued">
                          W = {duration(c.delayMs)}{" "}
                          {c.delayMeasured ? `(p99 of ${c.samples} updates)` : "(assumed)"}
                          {c.cancellationRate !== null
                            ? ` · ${percent(c.cancellationRate)} cancelled`
                            : ""}
                        </Text>
                      </BlockStack>
                    </div>
                  ))}
                </BlockStack>
              </Card>

              <Card>
                <Form method="post">
                  <input type="hidden" name="intent" value="settings" />
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">
                      Settings
                    </Text>
                    <FormErrorBanner result={result} intent="settings" />
                    <Select
                      label="Service level"
                      name="serviceLevel"
                      options={SERVICE_LEVELS.map((l) => ({
                        label: `${Number((Number(l) * 100).toFixed(1))}%`,
                        value: l,
                      }))}
                      value={serviceLevel}
                      onChange={setServiceLevel}
                      helpText="Chance a buffer covers the race; marketplaces near their cancellation limit get more."
                      error={fieldError(result, "settings", "serviceLevel")}
                    />
                    <Checkbox
                      label="Leave the last units to the fastest channel"
                      name="tailOwner"
                      value="on"
                      checked={tailOwner}
                      onChange={setTailOwner}
                      helpText="It keeps no buffer and every other channel shows 0 first, so the last units still sell."
                    />
                    <Checkbox
                      label="Keep recommendations applied"
                      name="keepApplied"
                      value="on"
                      checked={keepApplied}
                      onChange={setKeepApplied}
                      helpText="Once a day StockGuard recomputes every recommendation and applies the ones that changed; each change is listed under Applied recommendations as auto:daily."
                    />
                    {/* Polaris' Checkbox posts nothing when unchecked: that is "off". */}
                    <Button submit loading={submitting("settings")}>
                      Save settings
                    </Button>
                  </BlockStack>
                </Form>
              </Card>

              <Card>
                <Form method="post" data-testid="lead-time-form">
                  <input type="hidden" name="intent" value="lead_time" />
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">
                      Lead time (safety stock)
                    </Text>
                    <FormErrorBanner result={result} intent="lead_time" />
                    <FormLayout>
                      <TextField
                        label="SKU"
                        name="sku"
                        value={leadSku}
                        onChange={setLeadSku}
                        autoComplete="off"
                        helpText="Empty: every SKU without its own lead time."
                        error={fieldError(result, "lead_time", "sku")}
                      />
                      <TextField
                        label="Supplier"
                        name="supplier"
                        value={supplier}
                        onChange={setSupplier}
                        autoComplete="off"
                        error={fieldError(result, "lead_time", "supplier")}
                      />
                      <TextField
                        label="Lead time (days)"
                        name="days"
                        value={days}
                        onChange={setDays}
                        autoComplete="off"
                        error={fieldError(result, "lead_time", "days")}
                      />
                      <TextField
                        label="Variation (days, standard deviation)"
                        name="sdDays"
                        value={sdDays}
                        onChange={setSdDays}
                        autoComplete="off"
                        error={fieldError(result, "lead_time", "sdDays")}
                      />
                    </FormLayout>
                    <Button submit loading={submitting("lead_time")}>
                      Save lead time
                    </Button>
                  </BlockStack>
                </Form>
              </Card>
            </InlineGrid>

            <Card>
              <BlockStack gap="300">
                <InlineStack align="space-between" blockAlign="center">
                  <Text as="h2" variant="headingMd">
                    Backtest: your last 7 days of orders
                  </Text>
                  <Form method="post">
                    <input type="hidden" name="intent" value="backtest" />
                    <Button submit loading={submitting("backtest")}>
                      Run backtest
                    </Button>
                  </Form>
                </InlineStack>
                {backtest ? (
                  <div data-testid="backtest">
                    <BlockStack gap="100">
                      <Text as="p">
                        {backtest.orders} order lines replayed against each channel&apos;s measured
                        delay.
                      </Text>
                      <Text as="p">
                        Current rules: {backtest.current.oversoldUnits} units oversold,{" "}
                        {percent(backtest.current.hiddenShare)} of stock hidden (
                        {backtest.current.hiddenUnitMinutes} unit-minutes).
                      </Text>
                      <Text as="p">
                        Recommended: {backtest.recommended.oversoldUnits} units oversold,{" "}
                        {percent(backtest.recommended.hiddenShare)} of stock hidden (
                        {backtest.recommended.hiddenUnitMinutes} unit-minutes).
                      </Text>
                    </BlockStack>
                  </div>
                ) : (
                  <Text as="p" tone="subdued">
                    Replays your recent orders against your current rules and against the
                    recommendations, and counts oversold units and stock hidden.
                  </Text>
                )}
              </BlockStack>
            </Card>

            <Card padding="0">
              <Box padding="400">
                <Text as="h2" variant="headingMd">
                  Applied recommendations
                </Text>
              </Box>
              <IndexTable
                resourceName={{ singular: "change", plural: "changes" }}
                itemCount={page.changes.length}
                selectable={false}
                emptyState={
                  <Box padding="400">
                    <Text as="p" tone="subdued">
                      No recommendation applied yet.
                    </Text>
                  </Box>
                }
                headings={[
                  { title: "When" },
                  { title: "SKU" },
                  { title: "Channel" },
                  { title: "Rule" },
                  { title: "By" },
                ]}
              >
                {page.changes.map((c, index) => (
                  <IndexTable.Row id={String(index)} key={index} position={index}>
                    <IndexTable.Cell>{formatUtc(c.appliedAt)}</IndexTable.Cell>
                    <IndexTable.Cell>{c.sku}</IndexTable.Cell>
                    <IndexTable.Cell>{c.channelName}</IndexTable.Cell>
                    <IndexTable.Cell>
                      {describeRule(c.kind, c.value)}
                      {c.previousValue !== null ? ` (was ${c.previousValue})` : ""}
                    </IndexTable.Cell>
                    <IndexTable.Cell>{c.actor}</IndexTable.Cell>
                  </IndexTable.Row>
                ))}
              </IndexTable>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
