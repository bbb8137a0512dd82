/**
 * The Inventory list: stock items of one shop, searched by SKU or title, narrowed by a filter
 * (channel shows another number, write pending, low stock, on no sales channel), in SKU order
 * (keyset pages in either direction) or by ATS (numbered pages), with per-connection published vs
 * observed quantities; and the same selection as CSV. Reads through
 * `repositories/admin/inventory.server.ts`.
 */
import { z } from "zod";
import { ats } from "../../domain/availability";
import {
  countInventoryItems,
  findInventoryItems,
  findItemAts,
  findLowStockItemIds,
  hasInventoryItemBeyond,
  listInventoryConnections,
  listListingsWithOpenFailures,
  type InventoryFilter,
  type ItemSelection,
} from "../../repositories/admin/inventory.server";
import { STALE_PAGE, storable } from "./forms.server";
import {
  INVENTORY_FILTERS,
  INVENTORY_SORTS,
  LOW_STOCK_AT_MOST,
  type InventorySort,
} from "./inventory-options";
import { requireShop } from "./shop.server";

export const INVENTORY_PAGE_SIZE = 25;

/** The most rows one CSV export holds. */
export const EXPORT_LIMIT = 50_000;

const SEARCH_MAX = 200;

/** A page cursor: the SKU of the first or last row the page showed. */
const cursor = z.string().max(1_000, STALE_PAGE).refine(storable, STALE_PAGE);

/** The list's query parameters: `q` (search), `after` / `before` (cursors). */
export const ZInventoryQuery = z.object({
  /** Longer searches are cut, as the search field does. */
  q: z
    .string()
    .refine(storable, "The search contains a character that is not allowed")
    .trim()
    .transform((q) => q.slice(0, SEARCH_MAX))
    .default(""),
  after: cursor.optional(),
  before: cursor.optional(),
  filter: z.enum(INVENTORY_FILTERS, "Unknown filter: choose one from the list").default("all"),
  sort: z.enum(INVENTORY_SORTS, "Unknown order: choose one from the list").default("sku"),
  /** Numbered pages, for the orders by ATS. */
  page: z
    .string()
    .regex(/^\d{1,5}$/, "That page does not exist; go back to the first page")
    .transform(Number)
    .refine((n) => n >= 1, "That page does not exist; go back to the first page")
    .optional(),
});
export type InventoryQuery = z.infer<typeof ZInventoryQuery>;
export const INVENTORY_QUERY_NAMES = ["q", "after", "before", "filter", "sort", "page"] as const;

export type ChannelCell = {
  /** What StockGuard wants the channel to show (sum over the item's plain listings there). */
  published: number;
  /** What the channel last showed (null: never observed on at least one listing). */
  remote: number | null;
  /** A change is waiting to be written (published version ahead of pushed version). */
  pending: boolean;
  /** A listing is broken, its last write failed, or it has an open sync failure. */
  failing: boolean;
  listings: number;
};

export type InventoryRow = {
  id: string;
  sku: string;
  title: string | null;
  onHand: number;
  committed: number;
  held: number;
  damaged: number;
  safetyStock: number;
  ats: number;
  /** By connection id; connections where the item has no plain listing are absent. */
  channels: Record<string, ChannelCell>;
  /** Bundles / multipacks that consume the item (shown on the detail page). */
  bundleListings: number;
};

export type InventoryPage = {
  query: string;
  filter: InventoryFilter;
  sort: InventorySort;
  /** Items the search and filter select (all pages). */
  total: number;
  connections: { id: string; name: string; role: string; kind: string }[];
  items: InventoryRow[];
  pageInfo: {
    hasPrevious: boolean;
    hasNext: boolean;
    /** SKU of the first / last row: the cursors for `before` / `after`. */
    startCursor: string | null;
    endCursor: string | null;
    /** The numbered page (orders by ATS); null in SKU order. */
    page: number | null;
  };
};

async function selectionOf(
  shopId: string,
  query: string,
  filter: InventoryFilter,
): Promise<ItemSelection> {
  const lowIds =
    filter === "low" ? await findLowStockItemIds({ shopId, atMost: LOW_STOCK_AT_MOST }) : undefined;
  return { shopId, query, filter, lowIds };
}

/**
 * One page of the list. In SKU order, keyset pages (`after` wins over `before`, as the
 * pagination links never send both); ordered by ATS, numbered pages.
 */
export async function listInventory(input: {
  shopDomain: string;
  query?: string;
  filter?: InventoryFilter;
  sort?: InventorySort;
  after?: string | null;
  before?: string | null;
  page?: number | null;
  pageSize?: number;
}): Promise<InventoryPage> {
  const shop = await requireShop(input.shopDomain);
  const size = input.pageSize ?? INVENTORY_PAGE_SIZE;
  const query = (input.query ?? "").trim().slice(0, SEARCH_MAX);
  const filter = input.filter ?? "all";
  const sort = input.sort ?? "sku";
  const selection = await selectionOf(shop.id, query, filter);

  let page: InventoryItemRows;
  let pageInfo: InventoryPage["pageInfo"];
  let total: number;
  if (sort === "sku") {
    const backwards = !input.after && Boolean(input.before);
    const rows = await findInventoryItems({
      ...selection,
      skuAfter: input.after || undefined,
      skuBefore: input.after ? undefined : input.before || undefined,
      order: backwards ? "desc" : "asc",
      take: size + 1,
    });
    const more = rows.length > size;
    page = rows.slice(0, size);
    if (backwards) page.reverse();
    const first = page[0]?.sku ?? null;
    const last = page[page.length - 1]?.sku ?? null;
    const exists = (side: "lt" | "gt", sku: string) =>
      hasInventoryItemBeyond({ ...selection, sku, side });
    const hasPrevious = backwards ? more : first !== null && (await exists("lt", first));
    const hasNext = backwards ? last !== null && (await exists("gt", last)) : more;
    total = await countInventoryItems(selection);
    pageInfo = { hasPrevious, hasNext, startCursor: first, endCursor: last, page: null };
  } else {
    const all = await findItemAts(selection);
    all.sort((a, b) =>
      sort === "ats"
        ? a.ats - b.ats || a.sku.localeCompare(b.sku)
        : b.ats - a.ats || a.sku.localeCompare(b.sku),
    );
    total = all.length;
    const pages = Math.max(1, Math.ceil(total / size));
    const number = Math.min(input.page ?? 1, pages);
    const ids = all.slice((number - 1) * size, number * size).map((r) => r.id);
    const rows = await findInventoryItems({ ...selection, ids, order: "asc", take: size });
    const order = new Map(ids.map((id, i) => [id, i]));
    page = rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    pageInfo = {
      hasPrevious: number > 1,
      hasNext: number < pages,
      startCursor: null,
      endCursor: null,
      page: number,
    };
  }

  const failing = await listListingsWithOpenFailures({
    shopId: shop.id,
    listingIds: page.flatMap((item) => item.components.map((c) => c.listing.id)),
  });
  const connections = await listInventoryConnections({ shopId: shop.id });

  return {
    query,
    filter,
    sort,
    total,
    connections,
    items: page.map((item) => toRow(item, failing)),
    pageInfo,
  };
}

type InventoryItemRows = Awaited<ReturnType<typeof findInventoryItems>>;

function toRow(item: InventoryItemRows[number], failing: Set<string>): InventoryRow {
  const total = (pick: (l: (typeof item.levels)[number]) => number) =>
    item.levels.reduce((sum, level) => sum + pick(level), 0);
  const channels: Record<string, ChannelCell> = {};
  let bundleListings = 0;
  for (const component of item.components) {
    const listing = component.listing;
    if (listing.status === "disabled") continue;
    if (listing._count.components !== 1 || component.quantity !== 1) {
      bundleListings++;
      continue;
    }
    const cell = (channels[listing.connectionId] ??= {
      published: 0,
      remote: 0,
      pending: false,
      failing: false,
      listings: 0,
    });
    cell.listings++;
    cell.published += listing.publishedQuantity;
    cell.remote =
      cell.remote === null || listing.remoteQuantity === null
        ? null
        : cell.remote + listing.remoteQuantity;
    cell.pending ||= listing.publishedVersion > listing.pushedVersion;
    cell.failing ||=
      listing.status === "broken" || listing.failureCount > 0 || failing.has(listing.id);
  }
  return {
    id: item.id,
    sku: item.sku,
    title: item.title,
    onHand: total((l) => l.onHand),
    committed: total((l) => l.committed),
    held: total((l) => l.held),
    damaged: total((l) => l.damaged),
    safetyStock: total((l) => l.safetyStock),
    ats: total((l) => ats(l)),
    channels,
    bundleListings,
  };
}

/** A CSV field: quoted when needed; a leading = + - @ is defused so spreadsheets show text. */
function csvField(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Every item of the list's selection (search and filter, every page), in SKU order: what the
 * bulk "Set buffer…" applies to when "all N items" are selected.
 */
export async function findSelectedItems(input: {
  shopDomain: string;
  query?: string;
  filter?: InventoryFilter;
}): Promise<{ id: string; sku: string }[]> {
  const shop = await requireShop(input.shopDomain);
  const query = (input.query ?? "").trim().slice(0, SEARCH_MAX);
  const selection = await selectionOf(shop.id, query, input.filter ?? "all");
  return (await findItemAts(selection))
    .map((i) => ({ id: i.id, sku: i.sku }))
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/**
 * The whole selection (search and filter, every page, in the chosen order) as CSV: balances,
 * ATS, and per connection what StockGuard publishes and what the channel last showed.
 */
export async function exportInventoryCsv(input: {
  shopDomain: string;
  query?: string;
  filter?: InventoryFilter;
  sort?: InventorySort;
}): Promise<{ csv: string; rows: number; truncated: boolean }> {
  const shop = await requireShop(input.shopDomain);
  const query = (input.query ?? "").trim().slice(0, SEARCH_MAX);
  const sort = input.sort ?? "sku";
  const selection = await selectionOf(shop.id, query, input.filter ?? "all");
  const all = await findItemAts(selection);
  all.sort((a, b) =>
    sort === "ats"
      ? a.ats - b.ats || a.sku.localeCompare(b.sku)
      : sort === "ats_desc"
        ? b.ats - a.ats || a.sku.localeCompare(b.sku)
        : a.sku < b.sku
          ? -1
          : a.sku > b.sku
            ? 1
            : 0,
  );
  const chosen = all.slice(0, EXPORT_LIMIT);
  const connections = await listInventoryConnections({ shopId: shop.id });
  const header = [
    "sku",
    "title",
    "on_hand",
    "committed",
    "held",
    "damaged",
    "safety_stock",
    "available_to_sell",
    ...connections.flatMap((c) => [`${c.name} published`, `${c.name} shows`]),
  ];
  const lines = [header.map(csvField).join(",")];
  const CHUNK = 500;
  for (let i = 0; i < chosen.length; i += CHUNK) {
    const ids = chosen.slice(i, i + CHUNK).map((r) => r.id);
    const rows = await findInventoryItems({ ...selection, ids, order: "asc", take: CHUNK });
    const order = new Map(ids.map((id, index) => [id, index]));
    rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    for (const item of rows) {
      const row = toRow(item, new Set());
      lines.push(
        [
          row.sku,
          row.title,
          row.onHand,
          row.committed,
          row.held,
          row.damaged,
          row.safetyStock,
          row.ats,
          ...connections.flatMap((c) => {
            const cell = row.channels[c.id];
            return cell ? [cell.published, cell.remote] : [null, null];
          }),
        ]
          .map(csvField)
          .join(","),
      );
    }
  }
  return {
    csv: `${lines.join("\r\n")}\r\n`,
    rows: chosen.length,
    truncated: all.length > chosen.length,
  };
}

/** The list answered for query parameters that could not be read: nothing listed. */
export function emptyInventoryPage(query: string): InventoryPage {
  return {
    query: query.replaceAll("\u0000", "").trim().slice(0, SEARCH_MAX),
    filter: "all",
    sort: "sku",
    total: 0,
    connections: [],
    items: [],
    pageInfo: {
      hasPrevious: false,
      hasNext: false,
      startCursor: null,
      endCursor: null,
      page: null,
    },
  };
}
