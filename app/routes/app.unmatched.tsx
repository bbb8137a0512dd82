/**
 * `/app/unmatched`: order lines no listing or SKU matched, with "Map to item": an item picker
 * (search by SKU or title) whose choice applies the line once; mapped lines leave the list.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { useActionData, useFetcher, useLoaderData, useSubmit } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  BlockStack,
  Box,
  Button,
  Card,
  ChoiceList,
  IndexTable,
  InlineStack,
  Modal,
  Page,
  Text,
  TextField,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import { FormErrorBanner, fieldError, useSuccessToast } from "../components/action-feedback";
import { ago, formatUtc } from "../components/format";
import { parseForm, parseSearch } from "../services/admin/forms.server";
import {
  getUnmatchedPage,
  mapLine,
  UNMATCHED_QUERY_NAMES,
  ZMapAction,
  ZUnmatchedQuery,
  type UnmatchedLineView,
} from "../services/admin/unmatched.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const search = new URL(request.url).searchParams;
  const parsed = parseSearch(ZUnmatchedQuery, search, UNMATCHED_QUERY_NAMES);
  const q = parsed.ok ? parsed.data.q : "";
  return getUnmatchedPage(session.shop, { pick: search.get("pick") === "1", q });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZMapAction, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await mapLine({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

function ItemPicker(props: { line: UnmatchedLineView; onClose: () => void }) {
  const { line } = props;
  const picker = useFetcher<typeof loader>();
  const submit = useSubmit();
  const [query, setQuery] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const load = picker.load;
  useEffect(() => {
    const timer = setTimeout(
      () => load(`/app/unmatched?pick=1&q=${encodeURIComponent(query)}`),
      query ? 250 : 0,
    );
    return () => clearTimeout(timer);
  }, [query, load]);
  const choices = picker.data?.choices ?? [];
  return (
    <Modal
      open
      onClose={props.onClose}
      title={`Map ${line.sku ?? "this line"} (order ${line.orderId}) to a stock item`}
      primaryAction={{
        content: "Map to item",
        disabled: chosen.length === 0,
        onAction: () => {
          submit(
            { intent: "map", unmatchedId: line.id, itemId: chosen[0] ?? "" },
            { method: "post" },
          );
          props.onClose();
        },
      }}
      secondaryActions={[{ content: "Cancel", onAction: props.onClose }]}
    >
      <Modal.Section>
        <BlockStack gap="300">
          <Text as="p" tone="subdued">
            {`From now on ${line.connectionName}'s ${line.sku ? `SKU ${line.sku}` : "reference"} means the item you choose, and this order's line is applied once.`}
          </Text>
          <TextField
            label="Search SKU or title"
            value={query}
            onChange={setQuery}
            autoComplete="off"
            clearButton
            onClearButtonClick={() => setQuery("")}
          />
          {picker.state !== "idle" && choices.length === 0 ? (
            <Text as="p" tone="subdued">
              Searching…
            </Text>
          ) : choices.length === 0 ? (
            <Text as="p" tone="subdued">
              No stock item matches.
            </Text>
          ) : (
            <ChoiceList
              title="Stock items"
              titleHidden
              choices={choices.map((c) => ({
                label: c.title ? `${c.sku} — ${c.title}` : c.sku,
                value: c.id,
              }))}
              selected={chosen}
              onChange={setChosen}
            />
          )}
        </BlockStack>
      </Modal.Section>
    </Modal>
  );
}

export default function UnmatchedLines() {
  const { now, lines, total } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  useSuccessToast(result);
  const [picking, setPicking] = useState<UnmatchedLineView | null>(null);

  return (
    <Page
      title="Unmatched order lines"
      subtitle="Sold on a channel, but no listing or SKU of your stock matched"
    >
      <TitleBar title="Unmatched order lines" />
      <BlockStack gap="300">
        <FormErrorBanner result={result} intent="map" />
        {result && !result.ok && fieldError(result, "map", "itemId") && (
          <Text as="p" tone="critical">
            {fieldError(result, "map", "itemId")}
          </Text>
        )}
        <Card padding="0">
          <IndexTable
            resourceName={{ singular: "unmatched line", plural: "unmatched lines" }}
            itemCount={lines.length}
            selectable={false}
            emptyState={
              <Box padding="400">
                <Text as="p" tone="subdued">
                  No unmatched order lines: every line sold was matched to your stock.
                </Text>
              </Box>
            }
            headings={[
              { title: "Channel" },
              { title: "Order" },
              { title: "SKU" },
              { title: "Quantity", alignment: "end" },
              { title: "First seen" },
              { title: "Last seen" },
              { title: "" },
            ]}
          >
            {lines.map((line, index) => (
              <IndexTable.Row id={line.id} key={line.id} position={index}>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span" fontWeight="semibold">
                      {line.connectionName}
                    </Text>
                    <Text as="span" variant="bodySm" tone="subdued">
                      {line.kind}
                    </Text>
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span">{`order ${line.orderId}`}</Text>
                    <Text as="span" variant="bodySm" tone="subdued">
                      {`line ${line.lineId}`}
                    </Text>
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <BlockStack gap="050">
                    <Text as="span" fontWeight="semibold">
                      {line.sku ?? "no SKU"}
                    </Text>
                    {line.remoteRef && (
                      <Text as="span" variant="bodySm" tone="subdued" breakWord>
                        {line.remoteRef}
                      </Text>
                    )}
                  </BlockStack>
                </IndexTable.Cell>
                <IndexTable.Cell>
                  <Text as="span" alignment="end" numeric>
                    {line.quantity}
                  </Text>
                </IndexTable.Cell>
                <IndexTable.Cell>{formatUtc(line.firstSeenAt)}</IndexTable.Cell>
                <IndexTable.Cell>{ago(line.lastSeenAt, now)}</IndexTable.Cell>
                <IndexTable.Cell>
                  <Button
                    size="slim"
                    onClick={() => setPicking(line)}
                    accessibilityLabel={`Map ${line.sku ?? "line"} of order ${line.orderId} to an item`}
                  >
                    Map to item
                  </Button>
                </IndexTable.Cell>
              </IndexTable.Row>
            ))}
          </IndexTable>
        </Card>
        {total > lines.length && (
          <InlineStack>
            <Text as="p" tone="subdued">
              {`Showing the ${lines.length} most recent of ${total} lines.`}
            </Text>
          </InlineStack>
        )}
      </BlockStack>
      {picking && <ItemPicker line={picking} onClose={() => setPicking(null)} />}
    </Page>
  );
}
