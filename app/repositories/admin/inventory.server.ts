/**
 * The Inventory list's read model: stock items of one shop (searched by SKU or title, narrowed by
 * a filter — channel shows another number, write pending, low stock, on no sales channel — keyset
 * paginated by SKU, or ordered by ATS) with their source-location levels and the listings that
 * consume them, plus the open failures and connections the page shows beside them.
 */
import type { Prisma } from "@prisma/client";
import prisma from "../../db.server";

/** What the list can be narrowed to (besides the search). */
export type InventoryFilter = "all" | "mismatch" | "pending" | "low" | "unlisted";

export type ItemSelection = {
  shopId: string;
  query: string;
  filter?: InventoryFilter;
  /** Item ids the low-stock filter found (`findLowStockItemIds`). */
  lowIds?: string[];
};

/**
 * Items of the shop whose SKU or title contains `query` (case-insensitive; all when empty), and
 * that pass the filter: a channel shows another number than published (mismatch), a write is
 * waiting (pending), ATS at or below the low-stock line (ids found first), or no sales-channel
 * listing at all (unlisted).
 */
function searchFilter(selection: ItemSelection): Prisma.StockItemWhereInput {
  const { shopId, query } = selection;
  const listing = prisma.listing.fields;
  const filter: Prisma.StockItemWhereInput =
    selection.filter === "mismatch"
      ? {
          components: {
            some: {
              listing: {
                status: { not: "disabled" },
                remoteQuantity: { not: null },
                NOT: { remoteQuantity: { equals: listing.publishedQuantity } },
              },
            },
          },
        }
      : selection.filter === "pending"
        ? {
            components: {
              some: {
                listing: {
                  status: { not: "disabled" },
                  publishedVersion: { gt: listing.pushedVersion },
                },
              },
            },
          }
        : selection.filter === "low"
          ? { id: { in: selection.lowIds ?? [] } }
          : selection.filter === "unlisted"
            ? {
                components: {
                  none: { listing: { connection: { role: "sales" }, status: { not: "disabled" } } },
                },
              }
            : {};
  return {
    shopId,
    ...filter,
    ...(query
      ? {
          OR: [
            { sku: { contains: query, mode: "insensitive" } },
            { title: { contains: query, mode: "insensitive" } },
          ],
        }
      : {}),
  };
}

/** Ids of the shop's items whose ATS over the source locations is at or below `atMost`. */
export async function findLowStockItemIds(input: {
  shopId: string;
  atMost: number;
}): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT i.id::text AS id
      FROM stock_item i
      LEFT JOIN stock_level s ON s.item_id = i.id
      LEFT JOIN location l ON l.id = s.location_id AND l.is_source
     WHERE i.shop_id = ${input.shopId}::uuid
     GROUP BY i.id
    HAVING COALESCE(sum(s.on_hand - s.committed - s.held - s.damaged - s.safety_stock)
                    FILTER (WHERE l.id IS NOT NULL), 0) <= ${input.atMost}`;
  return rows.map((r) => r.id);
}

/** Every selected item's id and ATS (the list ordered by ATS, and the CSV export). */
export async function findItemAts(
  selection: ItemSelection,
): Promise<{ id: string; sku: string; ats: number }[]> {
  const items = await prisma.stockItem.findMany({
    where: searchFilter(selection),
    select: {
      id: true,
      sku: true,
      levels: {
        where: { location: { isSource: true } },
        select: { onHand: true, committed: true, held: true, damaged: true, safetyStock: true },
      },
    },
  });
  return items.map((i) => ({
    id: i.id,
    sku: i.sku,
    ats: i.levels.reduce(
      (s, l) => s + l.onHand - l.committed - l.held - l.damaged - l.safetyStock,
      0,
    ),
  }));
}

/**
 * One page of items in SKU order (`asc`, or `desc` to page backwards), strictly after
 * `skuAfter` / before `skuBefore` when given.
 */
export async function findInventoryItems(
  input: ItemSelection & {
    skuAfter?: string;
    skuBefore?: string;
    /** These items only (a page already chosen, e.g. by ATS). */
    ids?: string[];
    order: "asc" | "desc";
    take: number;
  },
) {
  const cursor: Prisma.StockItemWhereInput =
    input.skuAfter !== undefined
      ? { sku: { gt: input.skuAfter } }
      : input.skuBefore !== undefined
        ? { sku: { lt: input.skuBefore } }
        : {};
  return prisma.stockItem.findMany({
    where: {
      AND: [searchFilter(input), cursor, ...(input.ids ? [{ id: { in: input.ids } }] : [])],
    },
    orderBy: { sku: input.order },
    take: input.take,
    include: {
      levels: { where: { location: { isSource: true } } },
      components: {
        include: {
          listing: {
            select: {
              id: true,
              connectionId: true,
              status: true,
              publishedQuantity: true,
              publishedVersion: true,
              pushedVersion: true,
              remoteQuantity: true,
              failureCount: true,
              _count: { select: { components: true } },
            },
          },
        },
      },
    },
  });
}

export type InventoryItemRow = Awaited<ReturnType<typeof findInventoryItems>>[number];

/** Whether any item matching `query` sorts before (`lt`) or after (`gt`) the given SKU. */
export async function hasInventoryItemBeyond(
  input: ItemSelection & { sku: string; side: "lt" | "gt" },
): Promise<boolean> {
  const found = await prisma.stockItem.findFirst({
    where: {
      AND: [searchFilter(input), { sku: { [input.side]: input.sku } }],
    },
    select: { id: true },
  });
  return found !== null;
}

/** Of these listings of the shop, the ones with an unresolved sync failure. */
export async function listListingsWithOpenFailures(input: {
  shopId: string;
  listingIds: string[];
}): Promise<Set<string>> {
  const rows = await prisma.syncFailure.findMany({
    where: { shopId: input.shopId, resolvedAt: null, listingId: { in: input.listingIds } },
    select: { listingId: true },
  });
  return new Set(rows.map((f) => f.listingId).filter((id): id is string => id !== null));
}

/** The shop's connections that are still connected: the list's channel columns. */
export async function listInventoryConnections(input: { shopId: string }) {
  return prisma.connection.findMany({
    where: { shopId: input.shopId, status: { not: "disconnected" } },
    orderBy: [{ role: "asc" }, { createdAt: "asc" }],
    select: { id: true, name: true, role: true, kind: true },
  });
}

/** How many items the selection holds (search and filter). */
export async function countInventoryItems(selection: ItemSelection): Promise<number> {
  return prisma.stockItem.count({ where: searchFilter(selection) });
}
