import type { Prisma } from "@prisma/client";
import prisma from "../../db.server";
import { ats } from "../../domain/availability";
import { requireShop } from "./shop.server";

export const INVENTORY_PAGE_SIZE = 25;

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

/**
 * The Inventory list: stock items of one shop, searched by SKU or title, paginated by SKU
 * (unique per shop) in either direction, with per-connection published vs observed quantities.
 */
export async function listInventory(input: {
  shopDomain: string;
  query?: string;
  after?: string | null;
  before?: string | null;
  pageSize?: number;
}): Promise<InventoryPage> {
  const shop = await requireShop(input.shopDomain);
  const size = input.pageSize ?? INVENTORY_PAGE_SIZE;
  const query = (input.query ?? "").trim().slice(0, 200);
  const where: Prisma.StockItemWhereInput = {
    shopId: shop.id,
    ...(query
      ? {
          OR: [
            { sku: { contains: query, mode: "insensitive" } },
            { title: { contains: query, mode: "insensitive" } },
          ],
        }
      : {}),
  };
  const backwards = !input.after && Boolean(input.before);
  const cursor = input.after
    ? { sku: { gt: input.after } }
    : input.before
      ? { sku: { lt: input.before } }
      : {};

  const rows = await prisma.stockItem.findMany({
    where: { AND: [where, cursor] },
    orderBy: { sku: backwards ? "desc" : "asc" },
    take: size + 1,
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
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (backwards) page.reverse();

  const first = page[0]?.sku ?? null;
  const last = page[page.length - 1]?.sku ?? null;
  const exists = async (sku: Prisma.StringFilter) =>
    (await prisma.stockItem.findFirst({
      where: { AND: [where, { sku }] },
      select: { id: true },
    })) !== null;
  const hasPrevious = backwards ? more : first !== null && (await exists({ lt: first }));
  const hasNext = backwards ? last !== null && (await exists({ gt: last })) : more;

  const listingIds = page.flatMap((item) => item.components.map((c) => c.listing.id));
  const failing = new Set(
    (
      await prisma.syncFailure.findMany({
        where: { shopId: shop.id, resolvedAt: null, listingId: { in: listingIds } },
        select: { listingId: true },
      })
    ).map((f) => f.listingId),
  );
  const connections = await prisma.connection.findMany({
    where: { shopId: shop.id, status: { not: "disconnected" } },
    orderBy: [{ role: "asc" }, { createdAt: "asc" }],
    select: { id: true, name: true, role: true, kind: true },
  });

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
