/**
 * The Inventory list's read model: stock items of one shop (searched by SKU or title, keyset
 * paginated by SKU, unique per shop) with their source-location levels and the listings that
 * consume them, plus the open failures and connections the page shows beside them.
 */
import type { Prisma } from "@prisma/client";
import prisma from "../../db.server";

/** Items of the shop whose SKU or title contains `query` (case-insensitive); all when empty. */
function searchFilter(shopId: string, query: string): Prisma.StockItemWhereInput {
  return {
    shopId,
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

/**
 * One page of items in SKU order (`asc`, or `desc` to page backwards), strictly after
 * `skuAfter` / before `skuBefore` when given.
 */
export async function findInventoryItems(input: {
  shopId: string;
  query: string;
  skuAfter?: string;
  skuBefore?: string;
  order: "asc" | "desc";
  take: number;
}) {
  const cursor: Prisma.StockItemWhereInput =
    input.skuAfter !== undefined
      ? { sku: { gt: input.skuAfter } }
      : input.skuBefore !== undefined
        ? { sku: { lt: input.skuBefore } }
        : {};
  return prisma.stockItem.findMany({
    where: { AND: [searchFilter(input.shopId, input.query), cursor] },
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
export async function hasInventoryItemBeyond(input: {
  shopId: string;
  query: string;
  sku: string;
  side: "lt" | "gt";
}): Promise<boolean> {
  const found = await prisma.stockItem.findFirst({
    where: {
      AND: [searchFilter(input.shopId, input.query), { sku: { [input.side]: input.sku } }],
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
