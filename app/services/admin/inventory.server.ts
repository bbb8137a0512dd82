/**
 * The Inventory list: stock items of one shop, searched by SKU or title, paginated by SKU in
 * either direction, with per-connection published vs observed quantities. Reads through
 * `repositories/admin/inventory.server.ts`.
 */
import { z } from "zod";
import { ats } from "../../domain/availability";
import {
  findInventoryItems,
  hasInventoryItemBeyond,
  listInventoryConnections,
  listListingsWithOpenFailures,
} from "../../repositories/admin/inventory.server";
import { STALE_PAGE, storable } from "./forms.server";
import { requireShop } from "./shop.server";

export const INVENTORY_PAGE_SIZE = 25;

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
});
export type InventoryQuery = z.infer<typeof ZInventoryQuery>;
export const INVENTORY_QUERY_NAMES = ["q", "after", "before"] as const;

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
  connections: { id: string; name: string; role: string; kind: string }[];
  items: InventoryRow[];
  pageInfo: {
    hasPrevious: boolean;
    hasNext: boolean;
    /** SKU of the first / last row: the cursors for `before` / `after`. */
    startCursor: string | null;
    endCursor: string | null;
  };
};

/** One page of the list (`after` wins over `before`, as the pagination links never send both). */
export async function listInventory(input: {
  shopDomain: string;
  query?: string;
  after?: string | null;
  before?: string | null;
  pageSize?: number;
}): Promise<InventoryPage> {
  const shop = await requireShop(input.shopDomain);
  const size = input.pageSize ?? INVENTORY_PAGE_SIZE;
  const query = (input.query ?? "").trim().slice(0, SEARCH_MAX);
  const backwards = !input.after && Boolean(input.before);
  const rows = await findInventoryItems({
    shopId: shop.id,
    query,
    skuAfter: input.after || undefined,
    skuBefore: input.after ? undefined : input.before || undefined,
    order: backwards ? "desc" : "asc",
    take: size + 1,
  });
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (backwards) page.reverse();

  const first = page[0]?.sku ?? null;
  const last = page[page.length - 1]?.sku ?? null;
  const exists = (side: "lt" | "gt", sku: string) =>
    hasInventoryItemBeyond({ shopId: shop.id, query, sku, side });
  const hasPrevious = backwards ? more : first !== null && (await exists("lt", first));
  const hasNext = backwards ? last !== null && (await exists("gt", last)) : more;

  const failing = await listListingsWithOpenFailures({
    shopId: shop.id,
    listingIds: page.flatMap((item) => item.components.map((c) => c.listing.id)),
  });
  const connections = await listInventoryConnections({ shopId: shop.id });

  return {
    query,
    connections,
    items: page.map((item) => {
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
    }),
    pageInfo: { hasPrevious, hasNext, startCursor: first, endCursor: last },
  };
}

/** The list answered for query parameters that could not be read: nothing listed. */
export function emptyInventoryPage(query: string): InventoryPage {
  return {
    query: query.replaceAll("\u0000", "").trim().slice(0, SEARCH_MAX),
    connections: [],
    items: [],
    pageInfo: { hasPrevious: false, hasNext: false, startCursor: null, endCursor: null },
  };
}
