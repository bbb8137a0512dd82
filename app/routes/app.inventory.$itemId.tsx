/**
 * `/app/inventory/<item id>`: one stock item of the embedded admin (levels, listings, movements)
 * and its actions (adjust on hand, inspect held units, safety stock). An id that names no item
 * of this shop is a 404; a form the ledger cannot take comes back with its errors (400/422).
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
  FormLayout,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import { useState } from "react";
import {
  FormErrorBanner,
  fieldError,
  useSuccessToast,
  type ActionResult,
} from "../components/action-feedback";
import { ago, formatUtc, movementKindLabel, signed } from "../components/format";
import { parseForm } from "../services/admin/forms.server";
import { performItemAction, ZItemAction } from "../services/admin/item-actions.server";
import { getItemDetail, ZItemParams, type ItemDetail } from "../services/admin/item-detail.server";
import { authenticate } from "../shopify.server";

const notFound = () => new Response("Stock item not found", { status: 404 });

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const item = ZItemParams.safeParse(params);
  if (!item.success) throw notFound();
  const detail = await getItemDetail({ shopDomain: session.shop, itemId: item.data.itemId });
  if (!detail) throw notFound();
  return detail;
};

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

function LocationSelect(props: { locations: Locations; error?: string }) {
  const [value, setValue] = useState(props.locations[0]?.id ?? "");
  if (props.locations.length <= 1) {
    return <input type="hidden" name="locationId" value={value} />;
  }
  return (
    <Select
      label="Location"
      name="locationId"
      options={props.locations.map((l) => ({
        label: l.isPrimary ? `${l.name} (primary)` : l.name,
        value: l.id,
      }))}
      value={value}
      onChange={setValue}
      error={props.error}
    />
  );
}

function useSubmitting(intent: string): boolean {
  const navigation = useNavigation();
  return navigation.state === "submitting" && navigation.formData?.get("intent") === intent;
}

function AdjustForm(props: { formKey: string; locations: Locations; result?: ActionResult }) {
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState("");
  const submitting = useSubmitting("adjust");
  return (
    <Card>
      <Form method="post" data-testid="adjust-form">
        <input type="hidden" name="intent" value="adjust" />
        <input type="hidden" name="key" value={props.formKey} />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Adjust on hand
          </Text>
          <FormErrorBanner result={props.result} intent="adjust" />
          <FormLayout>
            <LocationSelect
              locations={props.locations}
              error={fieldError(props.result, "adjust", "locationId")}
            />
            <TextField
              label="Change (units)"
              name="delta"
              type="number"
              value={delta}
              onChange={setDelta}
              helpText="Positive adds units, negative removes them."
              autoComplete="off"
              error={fieldError(props.result, "adjust", "delta")}
            />
            <TextField
              label="Reason"
              name="reason"
              value={reason}
              onChange={setReason}
              placeholder="Cycle count, found in back room, …"
              autoComplete="off"
              error={fieldError(props.result, "adjust", "reason")}
            />
            <Button submit variant="primary" loading={submitting}>
              Apply adjustment
            </Button>
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
            <Button submit loading={submitting}>
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
  current: number;
  result?: ActionResult;
}) {
  const [quantity, setQuantity] = useState(String(props.current));
  const submitting = useSubmitting("safety_stock");
  return (
    <Card>
      <Form method="post" data-testid="safety-stock-form">
        <input type="hidden" name="intent" value="safety_stock" />
        <input type="hidden" name="key" value={props.formKey} />
        <BlockStack gap="300">
          <Text as="h2" variant="headingMd">
            Safety stock
          </Text>
          <FormErrorBanner result={props.result} intent="safety_stock" />
          <FormLayout>
            <LocationSelect
              locations={props.locations}
              error={fieldError(props.result, "safety_stock", "locationId")}
            />
            <TextField
              label="Units kept back from every channel"
              name="quantity"
              type="number"
              value={quantity}
              onChange={setQuantity}
              autoComplete="off"
              error={fieldError(props.result, "safety_stock", "quantity")}
            />
            <Button submit loading={submitting}>
              Save safety stock
            </Button>
          </FormLayout>
        </BlockStack>
      </Form>
    </Card>
  );
}

function Fact(props: { label: string; value: number; tone?: "critical" | "success" }) {
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

export default function ItemDetailPage() {
  const detail = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const { item, totals, levels, listings, movements, locations, formKeys, now } = detail;

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
                  tone={totals.ats < 0 ? "critical" : "success"}
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

            <Card padding="0">
              <Box padding="400" paddingBlockEnd="200">
                <Text as="h2" variant="headingMd">
                  Listings
                </Text>
              </Box>
              <IndexTable
                resourceName={{ singular: "listing", plural: "listings" }}
                itemCount={listings.length}
                selectable={false}
                headings={[
                  { title: "Channel" },
                  { title: "Listing" },
                  { title: "Published", alignment: "end" },
                  {
                    title: "Pushed / shows",
                    alignment: "end",
                    tooltipContent: "Last written by StockGuard / last seen on the channel",
                  },
                  { title: "Sync" },
                ]}
              >
                {listings.map((l, index) => {
                  const differs = l.remote !== null && l.remote !== l.published;
                  return (
                    <IndexTable.Row id={l.id} key={l.id} position={index}>
                      <IndexTable.Cell>
                        <BlockStack gap="050">
                          <Text as="span" fontWeight="semibold">
                            {l.connectionName}
                          </Text>
                          <Text as="span" variant="bodySm" tone="subdued">
                            {l.connectionRole === "source" ? "stock source" : "sales channel"} ·{" "}
                            {l.kind}
                          </Text>
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <BlockStack gap="050">
                          <Text as="span">{l.sku ?? l.remoteRef}</Text>
                          {(l.bundle || l.perUnit > 1) && (
                            <Text as="span" variant="bodySm" tone="subdued">
                              {l.bundle ? "bundle" : "multipack"}: {l.perUnit} unit
                              {l.perUnit === 1 ? "" : "s"} of this item each
                            </Text>
                          )}
                        </BlockStack>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" alignment="end" numeric fontWeight="semibold">
                          {l.published}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text
                          as="span"
                          alignment="end"
                          numeric
                          tone={differs ? "caution" : undefined}
                        >
                          {l.pushed ?? "—"} / {l.remote ?? "—"}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <InlineStack gap="100" wrap={false}>
                          {l.status !== "active" && (
                            <Badge tone="critical">{`${l.status}${l.statusReason ? `: ${l.statusReason}` : ""}`}</Badge>
                          )}
                          {l.pending ? (
                            <Badge tone="attention">pending</Badge>
                          ) : (
                            <Text as="span" tone="subdued">
                              {ago(l.lastPushedAt, now)}
                            </Text>
                          )}
                          {l.lastError && <Badge tone="critical">{l.lastError}</Badge>}
                        </InlineStack>
                      </IndexTable.Cell>
                    </IndexTable.Row>
                  );
                })}
              </IndexTable>
            </Card>

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
                            {m.actor}
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
              current={levels[0]?.safetyStock ?? 0}
              result={result}
            />
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
