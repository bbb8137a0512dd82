/**
 * The item detail page's read model, and the reads its actions check input against: one stock
 * item of a shop with its levels (by location), the listings that consume it, the source
 * locations an action can target, and its latest movements.
 */
import prisma from "../../db.server";

/** The item with its levels (and their locations) and every listing component using it. */
export async function findItemDetail(input: { shopId: string; itemId: string }) {
  return prisma.stockItem.findFirst({
    where: { id: input.itemId, shopId: input.shopId },
    include: {
      levels: { include: { location: true } },
      components: {
        include: {
          listing: {
            include: {
              connection: { select: { name: true, role: true, kind: true } },
              _count: { select: { components: true } },
            },
          },
        },
      },
    },
  });
}

/** Active source locations of the shop (the primary first): where stock can be adjusted. */
export async function listActionLocations(input: { shopId: string }) {
  return prisma.location.findMany({
    where: { shopId: input.shopId, isSource: true, active: true },
    orderBy: [{ isPrimary: "desc" }, { name: "asc" }],
    select: { id: true, name: true, isPrimary: true },
  });
}

/** The item's newest movements, newest first. */
export async function listRecentMovements(input: {
  shopId: string;
  itemId: string;
  limit: number;
}) {
  return prisma.movement.findMany({
    where: { shopId: input.shopId, itemId: input.itemId },
    orderBy: { id: "desc" },
    take: input.limit,
  });
}

/** Whether the shop has this stock item. */
export async function stockItemExists(input: { shopId: string; itemId: string }): Promise<boolean> {
  const item = await prisma.stockItem.findFirst({
    where: { id: input.itemId, shopId: input.shopId },
    select: { id: true },
  });
  return item !== null;
}

/** On hand of the item at a location now (null: no level there yet, i.e. 0 units). */
export async function findOnHand(input: {
  shopId: string;
  itemId: string;
  locationId: string;
}): Promise<number | null> {
  const level = await prisma.stockLevel.findFirst({
    where: { shopId: input.shopId, itemId: input.itemId, locationId: input.locationId },
    select: { onHand: true },
  });
  return level?.onHand ?? null;
}

/** Whether the shop's ledger already holds the movement with this idempotency key. */
export async function movementRecorded(input: {
  shopId: string;
  idempotencyKey: string;
}): Promise<boolean> {
  const movement = await prisma.movement.findFirst({
    where: { shopId: input.shopId, idempotencyKey: input.idempotencyKey },
    select: { id: true },
  });
  return movement !== null;
}

export { loadPublishInputs } from "./publish-inputs.server";

/** The item's merchant decisions (changes confirmed although orders exceeded them), newest first. */
export async function listMerchantDecisions(input: {
  shopId: string;
  itemId: string;
  limit: number;
}) {
  return prisma.merchantDecision.findMany({
    where: { shopId: input.shopId, itemId: input.itemId },
    orderBy: { id: "desc" },
    take: input.limit,
  });
}

/** The shop's connection names by id (rule scopes in explanations). */
export async function listConnectionNames(input: { shopId: string }) {
  return prisma.connection.findMany({
    where: { shopId: input.shopId },
    select: { id: true, name: true, role: true },
  });
}
