/**
 * `/app/inventory`: the Inventory list of the embedded admin (search, SKU pagination, published
 * vs shown per channel). Unreadable query parameters are answered with 400 and a message.
 */
import { data, type LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link as RemixLink, useLoaderData, useNavigation } from "@remix-run/react";
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
  Pagination,
  Text,
  TextField,
  Tooltip,
} from "@shopify/polaris";
import { useState } from "react";
import { parseSearch } from "../services/admin/forms.server";
import {
  emptyInventoryPage,
  INVENTORY_QUERY_NAMES,
  listInventory,
  ZInventoryQuery,
  type ChannelCell,
} from "../services/admin/inventory.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const search = new URL(request.url).searchParams;
  const parsed = parseSearch(ZInventoryQuery, search, INVENTORY_QUERY_NAMES);
  if (!parsed.ok) {
    return data(
      {
        ...emptyInventoryPage(search.get("q") ?? ""),
        queryErrors: [...new Set(Object.values(parsed.fieldErrors))],
      },
      { status: parsed.status },
    );
  }
  const { q, after, before } = parsed.data;
  const page = await listInventory({ shopDomain: session.shop, query: q, after, before });
  return { ...page, queryErrors: [] as string[] };
};

function pageUrl(query: string, cursor: { after?: string; before?: string }): string {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  if (cursor.after) params.set("after", cursor.after);
  if (cursor.before) params.set("before", cursor.before);
  const search = params.toString();
  return `/app/inventory${search ? `?${search}` : ""}`;
}

/** "published / channel shows", highlighted when they differ or a write is pending. */
function ChannelQuantity(props: { cell: ChannelCell | undefined }) {
  const cell = props.cell;
  if (!cell) {
    return (
      <Text as="span" tone="subdued">
        —
      </Text>
    );
  }
  const differs = cell.remote !== null && cell.remote !== cell.published;
  const shows = cell.remote === null ? "?" : String(cell.remote);
  const label = `${cell.published} / ${shows}`;
  return (
    <InlineStack gap="100" blockAlign="center" wrap={false}>
      <Tooltip
        content={`Published ${cell.published}; the channel last showed ${cell.remote ?? "nothing yet"}`}
      >
        <span data-differs={differs ? "true" : "false"}>
          {differs ? (
            <Badge tone="warning">{label}</Badge>
          ) : (
            <Text as="span" numeric>
              {label}
            </Text>
          )}
        </span>
      </Tooltip>
      {cell.pending && <Badge tone="attention">pending</Badge>}
      {cell.failing && <Badge tone="critical">failing</Badge>}
    </InlineStack>
  );
}

export default function Inventory() {
  const { query, items, connections, pageInfo, queryErrors } = useLoaderData<typeof loader>();
  const [search, setSearch] = useState(query);
  const navigation = useNavigation();
  const searching =
    navigation.state === "loading" && navigation.location.pathname === "/app/inventory";

  return (
    <Page
      title="Inventory"
      subtitle="Available to sell (ATS) = on hand − committed − held − damaged − safety stock"
    >
      <TitleBar title="Inventory" />
      {queryErrors.length > 0 && (
        <Box paddingBlockEnd="400">
          <Banner tone="critical" title="This list could not be shown">
            {queryErrors.map((message) => (
              <p key={message}>{message}</p>
            ))}
          </Banner>
        </Box>
      )}
      <Card padding="0">
        <Box padding="300">
          <Form method="get" action="/app/inventory">
            <InlineStack gap="200" blockAlign="end" wrap={false}>
              <div style={{ flex: 1 }}>
                <TextField
                  label="Search"
                  labelHidden
                  name="q"
                  value={search}
                  onChange={setSearch}
                  placeholder="Search by SKU or title"
                  autoComplete="off"
                  clearButton
                  onClearButtonClick={() => setSearch("")}
                />
              </div>
              <Button submit loading={searching}>
                Search
              </Button>
            </InlineStack>
          </Form>
        </Box>
        <IndexTable
          resourceName={{ singular: "stock item", plural: "stock items" }}
          itemCount={items.length}
          selectable={false}
          emptyState={
            <Box padding="400">
              <Text as="p" tone="subdued">
                {query
                  ? `No stock item matches “${query}”.`
                  : "No stock items yet: import the catalog first."}
              </Text>
            </Box>
          }
          headings={[
            { title: "SKU" },
            { title: "Title" },
            { title: "On hand", alignment: "end" },
            { title: "Committed", alignment: "end" },
            { title: "Held", alignment: "end" },
            { title: "Damaged", alignment: "end" },
            { title: "Safety", alignment: "end" },
            { title: "ATS", alignment: "end" },
            ...connections.map((c) => ({
              title: `${c.name}${c.role === "source" ? " (source)" : ""}`,
              tooltipContent: "Published / what the channel last showed",
            })),
          ]}
        >
          {items.map((item, index) => (
            <IndexTable.Row id={item.id} key={item.id} position={index}>
              <IndexTable.Cell>
                <RemixLink to={`/app/inventory/${item.id}`} data-sku={item.sku}>
                  <Text as="span" fontWeight="semibold">
                    {item.sku}
                  </Text>
                </RemixLink>
              </IndexTable.Cell>
              <IndexTable.Cell>{item.title ?? ""}</IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {item.onHand}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {item.committed}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {item.held}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {item.damaged}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {item.safetyStock}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <span data-testid="ats">
                  <Text
                    as="span"
                    alignment="end"
                    numeric
                    fontWeight="semibold"
                    tone={item.ats < 0 ? "critical" : undefined}
                  >
                    {item.ats}
                  </Text>
                </span>
              </IndexTable.Cell>
              {connections.map((c) => (
                <IndexTable.Cell key={c.id}>
                  <span data-connection={c.name}>
                    <ChannelQuantity cell={item.channels[c.id]} />
                  </span>
                </IndexTable.Cell>
              ))}
            </IndexTable.Row>
          ))}
        </IndexTable>
        <Box padding="300">
          <BlockStack inlineAlign="center">
            <Pagination
              hasPrevious={pageInfo.hasPrevious}
              hasNext={pageInfo.hasNext}
              previousURL={
                pageInfo.startCursor ? pageUrl(query, { before: pageInfo.startCursor }) : undefined
              }
              nextURL={
                pageInfo.endCursor ? pageUrl(query, { after: pageInfo.endCursor }) : undefined
              }
            />
          </BlockStack>
        </Box>
      </Card>
    </Page>
  );
}
