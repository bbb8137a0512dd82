/**
 * What listings publish from, as the ledger computes it, for the admin's previews and
 * explanations (read without locks): listings with their components and provisional holds, the
 * source levels of every item they consume, and the shop's buffer rules. For one item: the
 * listings that consume it; for the whole shop (a rule preview): every listing.
 */
import prisma from "../../db.server";

export async function loadPublishInputs(input: { shopId: string; itemId?: string }) {
  const listings = await prisma.listing.findMany({
    where: {
      shopId: input.shopId,
      ...(input.itemId ? { components: { some: { itemId: input.itemId } } } : {}),
    },
    select: {
      id: true,
      connectionId: true,
      sku: true,
      sourceLocationId: true,
      publishedQuantity: true,
      components: { select: { itemId: true, quantity: true } },
      hold: { select: { units: true } },
    },
  });
  const itemIds = input.itemId
    ? [...new Set([input.itemId, ...listings.flatMap((l) => l.components.map((c) => c.itemId))])]
    : null;
  const [levels, rules] = await Promise.all([
    prisma.stockLevel.findMany({
      where: {
        shopId: input.shopId,
        ...(itemIds ? { itemId: { in: itemIds } } : {}),
        location: { isSource: true, active: true },
      },
      include: { location: { select: { isPrimary: true } } },
    }),
    prisma.bufferRule.findMany({
      where: { shopId: input.shopId },
      select: { id: true, connectionId: true, sku: true, kind: true, value: true },
    }),
  ]);
  return {
    listings: listings.map((l) => ({
      id: l.id,
      connectionId: l.connectionId,
      sku: l.sku,
      sourceLocationId: l.sourceLocationId,
      published: l.publishedQuantity,
      components: l.components.map((c) => ({ itemId: c.itemId, perUnit: c.quantity })),
      holdUnits: l.hold?.units ?? 0,
    })),
    levels: levels.map((l) => ({
      itemId: l.itemId,
      locationId: l.locationId,
      isPrimary: l.location.isPrimary,
      onHand: l.onHand,
      committed: l.committed,
      held: l.held,
      damaged: l.damaged,
      safetyStock: l.safetyStock,
    })),
    rules,
  };
}
