/**
 * `/app/inventory`: the Inventory list of the embedded admin (search, filters, order by SKU or
 * ATS, pages that stay in the app, CSV export of the selection, published vs shown per channel)
 * and the bulk "Set buffer…" of the selected rows (a buffer rule per SKU, previewed first).
 * Unreadable query parameters are answered with 400 and a message.
 */
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import {
  Form,
  Link as RemixLink,
  useFetcher,
  useLoaderData,
  useNavigation,
  type ShouldRevalidateFunction,
} from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  FormLayout,
  IndexTable,
  InlineStack,
  Modal,
  Page,
  Pagination,
  Select,
  Text,
  TextField,
  Tooltip,
  useBreakpoints,
  useIndexResourceState,
} from "@shopify/polaris";
import type { IndexTableHeading } from "@shopify/polaris/build/ts/src/components/IndexTable";
import type { NonEmptyArray } from "@shopify/polaris/build/ts/src/types";
import { useEffect, useState } from "react";
import { fieldError } from "../components/action-feedback";
import { BUFFER_KIND_TEXT } from "../components/format";
import {
  RulePreviewSummary,
  useRulePreview,
  type RulePreviewAnswer,
  RuleChannelSelect,
} from "../components/rule-preview";
import { setBulkBuffer, ZBulkBuffer } from "../services/admin/buffer-rules.server";
import { parseForm, parseSearch } from "../services/admin/forms.server";
import {
  emptyInventoryPage,
  INVENTORY_QUERY_NAMES,
  listInventory,
  ZInventoryQuery,
  type ChannelCell,
} from "../services/admin/inventory.server";
import { LOW_STOCK_AT_MOST } from "../services/admin/inventory-options";
import { BUFFER_KINDS } from "../services/admin/vocabulary";
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
  const { q, after, before, filter, sort, page: number } = parsed.data;
  const page = await listInventory({
    shopDomain: session.shop,
    query: q,
    filter,
    sort,
    after,
    before,
    page: number,
  });
  return { ...page, queryErrors: [] as string[] };
};

/** Bulk "Set buffer…" of the selected items (and its preview, `step=preview`). */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseForm(ZBulkBuffer, await request.formData());
  if (!parsed.ok) return data(parsed, { status: parsed.status });
  const result = await setBulkBuffer({ shopDomain: session.shop, action: parsed.data });
  return data(result, { status: result.ok ? 200 : result.status });
};

/** A preview writes nothing: the list is not reloaded for it. */
export const shouldRevalidate: ShouldRevalidateFunction = ({
  formData,
  defaultShouldRevalidate,
}) => (formData?.get("step") === "preview" ? false : defaultShouldRevalidate);

type Selection = { query: string; filter: string; sort: string };

function listUrl(
  selection: Selection,
  cursor: { after?: string; before?: string; page?: number } = {},
  path = "/app/inventory",
): string {
  const params = new URLSearchParams();
  if (selection.query) params.set("q", selection.query);
  if (selection.filter !== "all") params.set("filter", selection.filter);
  if (selection.sort !== "sku") params.set("sort", selection.sort);
  if (cursor.after) params.set("after", cursor.after);
  if (cursor.before) params.set("before", cursor.before);
  if (cursor.page && cursor.page > 1) params.set("page", String(cursor.page));
  const search = params.toString();
  return `${path}${search ? `?${search}` : ""}`;
}

const FILTER_OPTIONS = [
  { label: "All items", value: "all" },
  { label: "Channel shows another number", value: "mismatch" },
  { label: "Write pending", value: "pending" },
  { label: `Low stock (ATS ${LOW_STOCK_AT_MOST} or less)`, value: "low" },
  { label: "On no sales channel", value: "unlisted" },
];

const SORT_OPTIONS = [
  { label: "SKU A–Z", value: "sku" },
  { label: "ATS, lowest first", value: "ats" },
  { label: "ATS, highest first", value: "ats_desc" },
];

/** Downloads the selection as CSV through the session-token fetch (works in the iframe). */
function ExportButton(props: { selection: Selection; total: number }) {
  const [state, setState] = useState<"idle" | "busy" | "failed">("idle");
  return (
    <Button
      loading={state === "busy"}
      disabled={props.total === 0}
      onClick={() => {
        setState("busy");
        void (async () => {
          try {
            const response = await fetch(listUrl(props.selection, {}, "/app/inventory/export"));
            if (!response.ok) throw new Error(await response.text());
            const blob = await response.blob();
            const name =
              /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ??
              "stockguard-inventory.csv";
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
      {state === "failed" ? "Export failed: try again" : `Export CSV (${props.total})`}
    </Button>
  );
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

type Connection = { id: string; name: string; role: string };

/**
 * "Set buffer…" for the selected items: a buffer rule of one kind and value for each of their
 * SKUs on one channel (or all, the source store included), previewed before it is applied; a
 * refusal is shown here and nothing is set.
 */
function BulkBufferModal(props: {
  open: boolean;
  items: { id: string; sku: string }[];
  /** "Select all N": every item of the list's search and filter, on every page. */
  all: { total: number; query: string; filter: string } | null;
  connections: Connection[];
  onClose: () => void;
  onApplied: () => void;
}) {
  const [connectionId, setConnectionId] = useState("all");
  const [kind, setKind] = useState<string>("reserve_units");
  const [value, setValue] = useState("");
  const apply = useFetcher<RulePreviewAnswer>();
  const itemIds = props.all ? "" : props.items.map((i) => i.id).join(",");
  const fields: Record<string, string> = props.all
    ? {
        intent: "bulk_buffer",
        connectionId,
        kind,
        value,
        allMatching: "yes",
        q: props.all.query,
        filter: props.all.filter,
      }
    : { intent: "bulk_buffer", connectionId, kind, value, itemIds };
  const preview = useRulePreview(props.open && /^\d+$/.test(value) ? fields : null);
  const answer = apply.data;
  const [answered, setAnswered] = useState<RulePreviewAnswer | undefined>(undefined);
  useEffect(() => {
    if (!answer || apply.state !== "idle") return;
    setAnswered(answer);
    if (answer.ok && "message" in answer) {
      shopify.toast.show(answer.message);
      setValue("");
      props.onApplied();
    }
    // Only a new answer matters.
  }, [answer, apply.state]);
  // A refusal stays shown until a field changes.
  const allKey = props.all ? `${props.all.query}|${props.all.filter}` : "";
  useEffect(() => setAnswered(undefined), [connectionId, kind, value, itemIds, allKey]);
  const failure = answered && !answered.ok ? answered : preview.failure;
  const formError =
    failure && !failure.ok
      ? (failure.formError ?? failure.fieldErrors.itemIds ?? failure.fieldErrors.sku)
      : undefined;
  const kindText = BUFFER_KIND_TEXT[kind];
  const count = props.all ? props.all.total : props.items.length;
  const skus = props.items.map((i) => i.sku);
  const what = props.all
    ? `all ${count} item${count === 1 ? "" : "s"} of this list`
    : `${count} selected SKU${count === 1 ? "" : "s"}`;
  return (
    <Modal
      open={props.open}
      onClose={props.onClose}
      title={`Set buffer on ${what}`}
      primaryAction={{
        content: `Set buffer on ${count} SKU${count === 1 ? "" : "s"}`,
        loading: apply.state !== "idle",
        onAction: () => apply.submit({ ...fields, step: "apply" }, { method: "post" }),
      }}
      secondaryActions={[{ content: "Cancel", onAction: props.onClose }]}
    >
      <Modal.Section>
        <div data-testid="bulk-buffer">
          <BlockStack gap="300">
            <Text as="p">
              {props.all
                ? `Every item that matches the list's search and filter, on every page (${count}).`
                : `${skus.slice(0, 8).join(", ")}${skus.length > 8 ? ` and ${skus.length - 8} more` : ""}.`}{" "}
              Each SKU gets this rule on the channel; a rule of the same kind already there takes
              the new value.
            </Text>
            {formError && (
              <Banner tone="critical" title="Nothing was set">
                <p>{formError}</p>
              </Banner>
            )}
            <FormLayout>
              <RuleChannelSelect
                connections={props.connections}
                value={connectionId}
                onChange={setConnectionId}
                error={fieldError(failure, "bulk_buffer", "connectionId")}
                explainEach
              />
              <Select
                label="Rule"
                options={BUFFER_KINDS.map((k) => ({
                  label: BUFFER_KIND_TEXT[k]?.label ?? k,
                  value: k,
                }))}
                value={kind}
                onChange={setKind}
                helpText={kindText?.help}
                error={fieldError(failure, "bulk_buffer", "kind")}
              />
              <TextField
                label={kindText?.value ?? "Value"}
                type="number"
                value={value}
                onChange={setValue}
                autoComplete="off"
                error={fieldError(failure, "bulk_buffer", "value")}
              />
            </FormLayout>
            {value !== "" && !failure && (
              <RulePreviewSummary preview={preview.preview} loading={preview.loading} />
            )}
          </BlockStack>
        </div>
      </Modal.Section>
    </Modal>
  );
}

export default function Inventory() {
  const { query, filter, sort, total, items, connections, pageInfo, queryErrors } =
    useLoaderData<typeof loader>();
  // On a phone the balances that make up ATS give way to ATS and the channels (on the item page).
  const compact = useBreakpoints().smDown;
  const selection = { query, filter, sort };
  const [search, setSearch] = useState(query);
  const [filterValue, setFilterValue] = useState<string>(filter);
  const [sortValue, setSortValue] = useState<string>(sort);
  const navigation = useNavigation();
  const searching =
    navigation.state === "loading" && navigation.location.pathname === "/app/inventory";
  const { selectedResources, allResourcesSelected, handleSelectionChange, clearSelection } =
    useIndexResourceState(items);
  const [bulkOpen, setBulkOpen] = useState(false);
  const selectedItems = items.filter((i) => selectedResources.includes(i.id));

  return (
    <Page
      title="Inventory"
      subtitle="Available to sell (ATS) = on hand − committed − held − damaged − safety stock"
    >
      <TitleBar title="Inventory" />
      {queryErrors.length > 0 && (
        <Box paddingBlockEnd="400">
          <Banner
            tone="critical"
            title="This list could not be shown"
            action={{ content: "Show all items", url: "/app/inventory" }}
          >
            {queryErrors.map((message) => (
              <p key={message}>{message}</p>
            ))}
          </Banner>
        </Box>
      )}
      <Card padding="0">
        <Box padding="300">
          <Form method="get" action="/app/inventory">
            <InlineStack gap="200" blockAlign="end" wrap>
              <div style={{ flex: "1 1 220px" }}>
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
              <Select
                label="Show"
                labelInline
                name="filter"
                options={FILTER_OPTIONS}
                value={filterValue}
                onChange={setFilterValue}
              />
              <Select
                label="Order"
                labelInline
                name="sort"
                options={SORT_OPTIONS}
                value={sortValue}
                onChange={setSortValue}
              />
              <Button submit loading={searching}>
                Search
              </Button>
            </InlineStack>
          </Form>
          <Box paddingBlockStart="200">
            <InlineStack align="space-between" blockAlign="center" gap="200">
              <span data-testid="total">
                <Text as="span" tone="subdued">
                  {total} item{total === 1 ? "" : "s"}
                  {filter !== "all" || query ? " match" : ""}
                  {pageInfo.page ? ` · page ${pageInfo.page}` : ""}
                </Text>
              </span>
              <ExportButton selection={selection} total={total} />
            </InlineStack>
          </Box>
        </Box>
        <IndexTable
          resourceName={{ singular: "stock item", plural: "stock items" }}
          itemCount={items.length}
          selectedItemsCount={allResourcesSelected ? "All" : selectedResources.length}
          // More pages: "Select all N stock items" selects the whole search and filter.
          hasMoreItems={total > items.length}
          paginatedSelectAllActionText={`Select all ${total} stock items`}
          paginatedSelectAllText={`All ${total} stock items of this list are selected`}
          onSelectionChange={handleSelectionChange}
          promotedBulkActions={[{ content: "Set buffer…", onAction: () => setBulkOpen(true) }]}
          emptyState={
            <Box padding="400">
              <Text as="p" tone="subdued">
                {query || filter !== "all"
                  ? `No stock item matches${query ? ` “${query}”` : ""}${filter !== "all" ? ` with “${FILTER_OPTIONS.find((o) => o.value === filter)?.label ?? filter}”` : ""}.`
                  : "No stock items yet: import the catalog first."}
              </Text>
            </Box>
          }
          headings={
            [
              { title: "SKU" },
              ...(compact
                ? []
                : [
                    { title: "Title" },
                    { title: "On hand", alignment: "end" },
                    { title: "Committed", alignment: "end" },
                    { title: "Held", alignment: "end" },
                    { title: "Damaged", alignment: "end" },
                    { title: "Safety", alignment: "end" },
                  ]),
              { title: "ATS", alignment: "end" },
              ...connections.map((c) => ({
                title: `${c.name}${c.role === "source" ? " (source)" : ""}`,
                tooltipContent: "Published / what the channel last showed",
              })),
            ] as NonEmptyArray<IndexTableHeading>
          }
        >
          {items.map((item, index) => (
            <IndexTable.Row
              id={item.id}
              key={item.id}
              position={index}
              selected={selectedResources.includes(item.id)}
            >
              <IndexTable.Cell>
                <RemixLink
                  to={`/app/inventory/${item.id}`}
                  data-sku={item.sku}
                  // The link opens the item; a click elsewhere on the row selects it.
                  onClick={(event) => event.stopPropagation()}
                >
                  <Text as="span" fontWeight="semibold">
                    {item.sku}
                  </Text>
                </RemixLink>
              </IndexTable.Cell>
              {!compact && (
                <>
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
                </>
              )}
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
                pageInfo.page
                  ? listUrl(selection, { page: pageInfo.page - 1 })
                  : pageInfo.startCursor
                    ? listUrl(selection, { before: pageInfo.startCursor })
                    : undefined
              }
              nextURL={
                pageInfo.page
                  ? listUrl(selection, { page: pageInfo.page + 1 })
                  : pageInfo.endCursor
                    ? listUrl(selection, { after: pageInfo.endCursor })
                    : undefined
              }
            />
          </BlockStack>
        </Box>
      </Card>
      <BulkBufferModal
        open={bulkOpen}
        items={selectedItems}
        all={allResourcesSelected && total > items.length ? { total, query, filter } : null}
        connections={connections}
        onClose={() => setBulkOpen(false)}
        onApplied={() => {
          setBulkOpen(false);
          clearSelection();
        }}
      />
    </Page>
  );
}
