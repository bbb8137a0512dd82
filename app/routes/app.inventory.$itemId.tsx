/**
 * `/app/inventory/<item id>`: one stock item of the embedded admin (levels, listings, movements)
 * and its actions (adjust on hand, inspect held units, safety stock). An id that names no item
 * of this shop is a 404; a form the ledger cannot take comes back with its errors (400/422).
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import {
  Form,
  useActionData,
  useFetcher,
  useLoaderData,
  useNavigation,
  type ShouldRevalidateFunction,
} from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  FormLayout,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
  useBreakpoints,
} from "@shopify/polaris";
import { useState } from "react";
import {
  FormErrorBanner,
  fieldError,
  useSuccessToast,
  type ActionResult,
} from "../components/action-feedback";
import { ChangePreviewPanel } from "../components/change-preview";
import { ExplainChain } from "../components/explain-chain";
import { ago, formatUtc, movementKindLabel, signed } from "../components/format";
import { NotFoundPage } from "../components/not-found";
import { parseForm } from "../services/admin/forms.server";
import {
  performItemAction,
  ZItemAction,
  type ItemChangePreview,
} from "../services/admin/item-actions.server";
import { getItemDetail, ZItemParams, type ItemDetail } from "../services/admin/item-detail.server";
import { authenticate } from "../shopify.server";

const notFound = () => new Response("Stock item not found", { status: 404 });

/** An unknown item id: the styled in-app 404 with a way back to Inventory. */
export function ErrorBoundary() {
  return <NotFoundPage what="stock item" back={{ content: "Inventory", url: "/app/inventory" }} />;
}

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const item = ZItemParams.safeParse(params);
  if (!item.success) throw notFound();
  const detail = await getItemDetail({ shopDomain: session.shop, itemId: item.data.itemId });
  if (!detail) throw notFound();
  return detail;
};

/** A preview changes nothing: the page keeps its data (and its forms their keys). */
export const shouldRevalidate: ShouldRevalidateFunction = ({
  formData,
  defaultShouldRevalidate,
}) => (formData?.get("step") === "preview" ? false : defaultShouldRevalidate);

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session, sessionToken } = await authenticate.admin(request);
  const item = ZItemParams.safeParse(params);
  if (!item.success) throw notFound();
  const parsed = parseForm(ZItemAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await performItemAction({
    shopDomain: session.shop,
    itemId: item.data.itemId,
    actor: `admin:user/${sessionToken?.sub ?? "unknown"}`,
    action: parsed.data,
  });
  if (!result) throw notFound();
  return data(result, { status: result.ok ? 200 : result.status });
};

type Locations = ItemDetail["locations"];

function LocationSelect(props: {
  locations: Locations;
  value: string;
  onChange: (id: string) => void;
  error?: string;
}) {
  if (props.locations.length <= 1) {
    return <input type="hidden" name="locationId" value={props.value} />;
  }
  return (
    <Select
      label="Location"
      name="locationId"
      options={props.locations.map((l) => ({
        label: l.isPrimary ? `${l.name} (primary)` : l.name,
        value: l.id,
      }))}
      value={props.value}
      onChange={props.onChange}
      error={props.error}
    />
  );
}

function useSubmitting(intent: string): boolean {
  const navigation = useNavigation();
  return navigation.state === "submitting" && navigation.formData?.get("intent") === intent;
}

/** The failure to show on a form: its own last apply, else its last preview. */
function pickFailure(
  applied: ActionResult | undefined,
  previewed: ActionResult | undefined,
  intent: string,
): ActionResult | undefined {
  if (applied && !applied.ok && applied.intent === intent) return applied;
  return previewed;
}

type PreviewData = { ok: true; intent: "preview"; preview: ItemChangePreview } | ActionResult;

/**
 * A stock change in two steps: "Preview change" asks the server what it would do (nothing is
 * written), then the preview's button applies exactly the previewed values.
 */
function usePreview(intent: string) {
  const fetcher = useFetcher<PreviewData>();
  const data = fetcher.data;
  const preview =
    data && data.ok && "preview" in data && data.preview.intent === intent ? data.preview : null;
  const failure = data && !data.ok ? data : undefined;
  const request = (fields: Record<string, string>) =>
    fetcher.submit({ ...fields, step: "preview" }, { method: "post" });
  return {
    preview,
    failure,
    request,
    loading: fetcher.state !== "idle",
    previewed: fetcher.formData ?? null,
  };
}

function AdjustForm(props: { formKey: string; locations: Locations; result?: ActionResult }) {
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState("");
  const [locationId, setLocationId] = useState(props.locations[0]?.id ?? "");
  const submitting = useSubmitting("adjust");
  const preview = usePreview("adjust");
  const fields = { intent: "adjust", key: props.formKey, locationId, delta, reason };
  const [previewedFields, setPreviewedFields] = useState<string | null>(null);
  const current = JSON.stringify(fields);
  const shown = preview.preview && previewedFields === current ? preview.preview : null;
  const result = pickFailure(props.result, preview.failure, "adjust");
  return (
    <Card>
      <Form method="post" data-testid="adjust-form">
        <input type="hidden" name="intent" value="adjust" />
        <input type="hidden" name="key" value={props.formKey} />
        <input type="hidden" name="step" value="apply" />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Adjust on hand
          </Text>
          <FormErrorBanner result={result} intent="adjust" />
          <FormLayout>
            <LocationSelect
              locations={props.locations}
              value={locationId}
              onChange={setLocationId}
              error={fieldError(result, "adjust", "locationId")}
            />
            <TextField
              label="Change (units)"
              name="delta"
              type="number"
              value={delta}
              onChange={setDelta}
              helpText="Positive adds units, negative removes them. On hand never goes below 0."
              autoComplete="off"
              error={fieldError(result, "adjust", "delta")}
            />
            <TextField
              label="Reason"
              name="reason"
              value={reason}
              onChange={setReason}
              placeholder="Cycle count, found in back room, …"
              autoComplete="off"
              error={fieldError(result, "adjust", "reason")}
            />
            {shown ? (
              <ChangePreviewPanel
                preview={shown}
                fields={fields}
                applyLabel={submitting ? "Applying…" : "Apply adjustment"}
              />
            ) : (
              <Button
                variant="primary"
                loading={preview.loading}
                onClick={() => {
                  setPreviewedFields(current);
                  preview.request(fields);
                }}
              >
                Preview change
              </Button>
            )}
          </FormLayout>
        </BlockStack>
      </Form>
    </Card>
  );
}

function InspectForm(props: {
  formKey: string;
  locations: Locations;
  held: number;
  result?: ActionResult;
}) {
  const [quantity, setQuantity] = useState("");
  const [outcome, setOutcome] = useState("passed");
  const [locationId, setLocationId] = useState(props.locations[0]?.id ?? "");
  const submitting = useSubmitting("inspect");
  return (
    <Card>
      <Form method="post" data-testid="inspect-form">
        <input type="hidden" name="intent" value="inspect" />
        <input type="hidden" name="key" value={props.formKey} />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Inspect held units
          </Text>
          <Text as="p" tone="subdued">
            {props.held} unit{props.held === 1 ? "" : "s"} held (returns awaiting inspection).
            Passed units become sellable; failed ones are kept as damaged.
          </Text>
          <FormErrorBanner result={props.result} intent="inspect" />
          <FormLayout>
            <LocationSelect
              locations={props.locations}
              value={locationId}
              onChange={setLocationId}
              error={fieldError(props.result, "inspect", "locationId")}
            />
            <Select
              label="Outcome"
              name="outcome"
              options={[
                { label: "Passed: back to stock", value: "passed" },
                { label: "Failed: damaged", value: "failed" },
              ]}
              value={outcome}
              onChange={setOutcome}
              error={fieldError(props.result, "inspect", "outcome")}
            />
            <TextField
              label="Units"
              name="quantity"
              type="number"
              value={quantity}
              onChange={setQuantity}
              autoComplete="off"
              error={fieldError(props.result, "inspect", "quantity")}
            />
            <Button submit loading={submitting} disabled={props.held === 0}>
              Record inspection
            </Button>
          </FormLayout>
        </BlockStack>
      </Form>
    </Card>
  );
}

function SafetyStockForm(props: {
  formKey: string;
  locations: Locations;
  current: (locationId: string) => number;
  result?: ActionResult;
}) {
  const [locationId, setLocationId] = useState(props.locations[0]?.id ?? "");
  const [quantity, setQuantity] = useState(String(props.current(locationId)));
  const submitting = useSubmitting("safety_stock");
  const preview = usePreview("safety_stock");
  const fields = { intent: "safety_stock", key: props.formKey, locationId, quantity };
  const [previewedFields, setPreviewedFields] = useState<string | null>(null);
  const current = JSON.stringify(fields);
  const shown = preview.preview && previewedFields === current ? preview.preview : null;
  const result = pickFailure(props.result, preview.failure, "safety_stock");
  return (
    <Card>
      <Form method="post" data-testid="safety-stock-form">
        <input type="hidden" name="intent" value="safety_stock" />
        <input type="hidden" name="key" value={props.formKey} />
        <input type="hidden" name="step" value="apply" />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Safety stock
          </Text>
          <Text as="p" tone="subdued">
            Units of on hand this location keeps back from every channel (including the source
            store). Per-channel buffers are buffer rules.
          </Text>
          <FormErrorBanner result={result} intent="safety_stock" />
          <FormLayout>
            <LocationSelect
              locations={props.locations}
              value={locationId}
              onChange={(id) => {
                setLocationId(id);
                setQuantity(String(props.current(id)));
              }}
              error={fieldError(result, "safety_stock", "locationId")}
            />
            <TextField
              label="Units kept back from every channel"
              name="quantity"
              type="number"
              value={quantity}
              onChange={setQuantity}
              autoComplete="off"
              error={fieldError(result, "safety_stock", "quantity")}
            />
            {shown ? (
              <ChangePreviewPanel
                preview={shown}
                fields={fields}
                applyLabel={submitting ? "Saving…" : "Save safety stock"}
              />
            ) : (
              <Button
                loading={preview.loading}
                onClick={() => {
                  setPreviewedFields(current);
                  preview.request(fields);
                }}
              >
                Preview safety stock
              </Button>
            )}
          </FormLayout>
        </BlockStack>
      </Form>
    </Card>
  );
}

/** Who made a movement, in words ("admin:user/12" is a person in the admin). */
function actorLabel(actor: string): string {
  if (actor.startsWith("admin:")) return "You or your staff, in StockGuard";
  if (actor === "cli" || actor.startsWith("cli:")) return "StockGuard command line";
  if (actor === "reconcile") return "Reconciliation";
  const topic = /^[a-z]+:([a-z_]+\/[a-z_]+)$/.exec(actor)?.[1];
  return topic ? `Channel event (${topic.replace("_", " ")})` : actor;
}

function Fact(props: { label: string; value: number; tone?: "critical" | "success" | "caution" }) {
  return (
    <BlockStack gap="050">
      <Text as="span" variant="bodySm" tone="subdued">
        {props.label}
      </Text>
      <span data-fact={props.label}>
        <Text as="span" variant="headingLg" numeric tone={props.tone}>
          {props.value}
        </Text>
      </span>
    </BlockStack>
  );
}

type Listing = ItemDetail["listings"][number];

/** The channel's sync state: its status, a pending write or when it was last written, errors. */
function SyncState(props: { listing: Listing; now: string }) {
  const l = props.listing;
  return (
    <InlineStack gap="100" wrap={false}>
      {l.status !== "active" && (
        <Badge tone="critical">{`${l.status}${l.statusReason ? `: ${l.statusReason}` : ""}`}</Badge>
      )}
      {l.pending ? (
        <Badge tone="attention">pending</Badge>
      ) : (
        <Text as="span" tone="subdued">
          {ago(l.lastPushedAt, props.now)}
        </Text>
      )}
      {l.lastError && <Badge tone="critical">{l.lastError}</Badge>}
    </InlineStack>
  );
}

/** What the channel shows, what StockGuard wrote, and whether they differ. */
function ChannelShows(props: { listing: Listing }) {
  const l = props.listing;
  const differs = l.remote !== null && l.remote !== l.published;
  return (
    <BlockStack gap="050" inlineAlign="end">
      <span data-testid="channel-shows">
        <Text as="span" alignment="end" numeric tone={differs ? "caution" : undefined}>
          {l.remote ?? "not seen yet"}
        </Text>
      </span>
      <Text as="span" variant="bodySm" tone="subdued" alignment="end">
        {l.pushed === null ? "nothing written yet" : `we wrote ${l.pushed}`}
      </Text>
      {differs && (
        <Text as="span" variant="bodySm" tone="caution" alignment="end">
          {l.pending ? "differs: a write is on its way" : "differs: reconcile will correct it"}
        </Text>
      )}
    </BlockStack>
  );
}

/** The channel's name, whether it is the source, the listing's SKU and what it is made of. */
function ChannelName(props: { listing: Listing }) {
  const l = props.listing;
  return (
    <BlockStack gap="050">
      <Text as="span" fontWeight="semibold" breakWord>
        {l.connectionName}
      </Text>
      <span data-testid="listing-sku">
        <Text as="span" variant="bodySm" tone="subdued" breakWord>
          {l.connectionRole === "source" ? "stock source" : "sales channel"} ·{" "}
          {l.sku ?? l.remoteRef}
        </Text>
      </span>
      {(l.bundle || l.perUnit > 1) && (
        <Text as="span" variant="bodySm" tone="subdued">
          {l.bundle ? "bundle" : "multipack"}: {l.perUnit} unit
          {l.perUnit === 1 ? "" : "s"} of this item each
        </Text>
      )}
    </BlockStack>
  );
}

/**
 * Each listing of the item: the channel, what it should show and why, what it shows, its sync.
 * On a phone the columns give way to two that fit (channel with its SKU, chain and sync; then
 * should show / shows), and the table still scrolls sideways inside its card if a name is long.
 */
function ListingsCard(props: { listings: Listing[]; now: string }) {
  const { listings, now } = props;
  const compact = useBreakpoints().smDown;
  return (
    <Card padding="0">
      <Box padding="400" paddingBlockEnd="200">
        <Text as="h2" variant="headingMd">
          Listings
        </Text>
      </Box>
      <div data-testid="listings-table" data-compact={compact ? "true" : "false"}>
        {compact ? (
          <IndexTable
            resourceName={{ singular: "listing", plural: "listings" }}
            itemCount={listings.length}
            selectable={false}
            headings={[
              { title: "Channel · SKU" },
              { title: "Should show / shows", alignment: "end" },
            ]}
          >
            {listings.map((l, index) => (
              <IndexTable.Row id={l.id} key={l.id} position={index}>
                <IndexTable.Cell>
                  <div style={{ whiteSpace: "normal", minWidth: 150, maxWidth: 220 }}>
                    <BlockStack gap="100">
                      <ChannelName listing={l} />
                      <Text as="span" variant="bodySm">
                        <ExplainChain steps={l.explain} />
                      </Text>
                      <SyncState listing={l} now={now} />
                    </BlockStack>
                  </div>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <div style={{ whiteSpace: "normal", minWidth: 90 }}>
                    <BlockStack gap="100" inlineAlign="end">
                      <span data-testid="published">
                        <Text as="span" numeric fontWeight="semibold" alignment="end">
                          {l.published}
                        </Text>
                      </span>
                      <ChannelShows listing={l} />
                    </BlockStack>
                  </div>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        ) : (
          <IndexTable
            resourceName={{ singular: "listing", plural: "listings" }}
            itemCount={listings.length}
            selectable={false}
            headings={[
              { title: "Channel" },
              {
                title: "Should show, and why",
                tooltipContent:
                  "Available to sell, then each buffer rule that applies (click it to edit), then what StockGuard publishes",
              },
              {
                title: "Channel shows",
                alignment: "end",
                tooltipContent: "What the channel last showed, and what StockGuard last wrote",
              },
              { title: "Sync" },
            ]}
          >
            {listings.map((l, index) => (
              <IndexTable.Row id={l.id} key={l.id} position={index}>
                <IndexTable.Cell>
                  <ChannelName listing={l} />
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <span data-testid="published">
                      <Text as="span" numeric fontWeight="semibold">
                        {l.published}
                      </Text>
                    </span>
                    <div style={{ whiteSpace: "normal", minWidth: 180 }}>
                      <Text as="span" variant="bodySm">
                        <ExplainChain steps={l.explain} />
                      </Text>
                    </div>
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <ChannelShows listing={l} />
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <SyncState listing={l} now={now} />
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        )}
      </div>
    </Card>
  );
}

export default function ItemDetailPage() {
  const detail = useLoaderData<typeof loader>();
  const answer = useActionData<typeof action>();
  // The page's own forms only apply (previews go through a fetcher).
  const result: ActionResult | undefined =
    answer && "preview" in answer && answer.ok ? undefined : (answer as ActionResult | undefined);
  useSuccessToast(result);
  const { item, totals, levels, listings, movements, locations, formKeys, now, decisions } = detail;

  return (
    <Page
      title={item.sku}
      subtitle={item.title ?? undefined}
      backAction={{ content: "Inventory", url: "/app/inventory" }}
    >
      <TitleBar title={item.sku} />
      <Layout>
        <Layout.Section>
          <BlockStack gap="400">
            <Card>
              <InlineGrid columns={{ xs: 3, md: 6 }} gap="300">
                <Fact label="On hand" value={totals.onHand} />
                <Fact label="Committed" value={totals.committed} />
                <Fact label="Held" value={totals.held} />
                <Fact label="Damaged" value={totals.damaged} />
                <Fact label="Safety stock" value={totals.safetyStock} />
                <Fact
                  label="Available to sell"
                  value={totals.ats}
                  tone={totals.ats < 0 ? "critical" : totals.ats === 0 ? "caution" : "success"}
                />
              </InlineGrid>
            </Card>

            <Card padding="0">
              <Box padding="400" paddingBlockEnd="200">
                <Text as="h2" variant="headingMd">
                  Balances per location
                </Text>
              </Box>
              <IndexTable
                resourceName={{ singular: "location", plural: "locations" }}
                itemCount={levels.length}
                selectable={false}
                headings={[
                  { title: "Location" },
                  { title: "On hand", alignment: "end" },
                  { title: "Committed", alignment: "end" },
                  { title: "Held", alignment: "end" },
                  { title: "Damaged", alignment: "end" },
                  { title: "Safety", alignment: "end" },
                  { title: "ATS", alignment: "end" },
                ]}
              >
                {levels.map((l, index) => (
                  <IndexTable.Row id={l.locationId} key={l.locationId} position={index}>
                    <IndexTable.Cell>
                      {l.locationName} {l.isPrimary && <Badge>primary</Badge>}
                    </IndexTable.Cell>
                    {[l.onHand, l.committed, l.held, l.damaged, l.safetyStock, l.ats].map(
                      (n, i) => (
                        <IndexTable.Cell key={i}>
                          <Text as="span" alignment="end" numeric>
                            {n}
                          </Text>
                        </IndexTable.Cell>
                      ),
                    )}
                  </IndexTable.Row>
                ))}
              </IndexTable>
            </Card>

            <ListingsCard listings={listings} now={now} />

            {decisions.length > 0 && (
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    Your decisions
                  </Text>
                  <Text as="p" tone="subdued">
                    Changes you confirmed although orders already took more than was left. They are
                    not counted as oversells.
                  </Text>
                  {decisions.map((d) => (
                    <Text as="p" key={d.id}>
                      <span data-decision={d.kind}>
                        {formatUtc(d.decidedAt)}: {movementKindLabel(d.kind)}, available to sell{" "}
                        {d.atsBefore} → {d.atsAfter} ({d.shortfall} sold unit
                        {d.shortfall === 1 ? "" : "s"} not covered)
                        {d.reason ? ` · ${d.reason}` : ""}
                      </span>
                    </Text>
                  ))}
                </BlockStack>
              </Card>
            )}

            <Card padding="0">
              <Box padding="400" paddingBlockEnd="200">
                <Text as="h2" variant="headingMd">
                  Last {movements.length} movements
                </Text>
              </Box>
              <IndexTable
                resourceName={{ singular: "movement", plural: "movements" }}
                itemCount={movements.length}
                selectable={false}
                emptyState={
                  <Box padding="400">
                    <Text as="p" tone="subdued">
                      No movements yet: opening balances come from the catalog import.
                    </Text>
                  </Box>
                }
                headings={[
                  { title: "When (UTC)" },
                  { title: "Kind" },
                  { title: "Changes" },
                  { title: "Reason / actor" },
                ]}
              >
                {movements.map((m, index) => {
                  const changes = [
                    ["on hand", m.dOnHand],
                    ["committed", m.dCommitted],
                    ["held", m.dHeld],
                    ["damaged", m.dDamaged],
                    ["safety", m.dSafetyStock],
                  ] as const;
                  const text = changes
                    .filter(([, d]) => d !== 0)
                    .map(([label, d]) => `${label} ${signed(d)}`)
                    .join(", ");
                  return (
                    <IndexTable.Row id={m.id} key={m.id} position={index}>
                      <IndexTable.Cell>
                        {formatUtc(m.createdAt).replace(" UTC", "")}
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <BlockStack gap="050">
                          <span data-movement-kind={m.kind}>{movementKindLabel(m.kind)}</span>
                          <Text as="span" variant="bodySm" tone="subdued">
                            {m.locationName}
                          </Text>
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>{text || "no change"}</IndexTable.Cell>
                      <IndexTable.Cell>
                        <BlockStack gap="050">
                          <Text as="span">
                            {m.reason ?? (m.orderRef ? `order ${m.orderRef}` : "—")}
                          </Text>
                          <Text as="span" variant="bodySm" tone="subdued">
                            {actorLabel(m.actor)}
                          </Text>
                        </BlockStack>
                      </IndexTable.Cell>
                    </IndexTable.Row>
                  );
                })}
              </IndexTable>
            </Card>
          </BlockStack>
        </Layout.Section>

        <Layout.Section variant="oneThird">
          <BlockStack gap="400">
            <AdjustForm
              key={formKeys.adjust}
              formKey={formKeys.adjust}
              locations={locations}
              result={result}
            />
            <InspectForm
              key={formKeys.inspect}
              formKey={formKeys.inspect}
              locations={locations}
              held={totals.held}
              result={result}
            />
            <SafetyStockForm
              key={`${formKeys.safetyStock}-${totals.safetyStock}`}
              formKey={formKeys.safetyStock}
              locations={locations}
              current={(id) => levels.find((l) => l.locationId === id)?.safetyStock ?? 0}
              result={result}
            />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
