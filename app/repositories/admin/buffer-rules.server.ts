/**
 * The Buffer rules page's read model: the shop's connections (rule scopes), its rules, and what
 * its listings publish from (the preview of a rule change).
 */
import prisma from "../../db.server";

/** Every connection of the shop, source first, then by creation. */
export async function listRuleConnections(input: { shopId: string }) {
  return prisma.connection.findMany({
    where: { shopId: input.shopId },
    orderBy: [{ role: "asc" }, { createdAt: "asc" }],
    select: { id: true, name: true, role: true, kind: true },
  });
}

/** Every buffer rule of the shop (unordered: the page sorts by specificity). */
export async function listShopRules(input: { shopId: string }) {
  return prisma.bufferRule.findMany({ where: { shopId: input.shopId } });
}

/**
 * Everything the shop's listings publish from (a rule preview): every listing with its
 * components and provisional hold, the source levels of every item, and the rules. One read per
 * table; a preview is rare and a shop's catalog fits in memory.
 */
export async function loadShopPublishInputs(input: { shopId: string }) {
  const [listings, levels, rules] = await Promise.all([
    prisma.listing.findMany({
      where: { shopId: input.shopId },
      select: {
        id: true,
        connectionId: true,
        sku: true,
        sourceLocationId: true,
        publishedQuantity: true,
        components: { select: { itemId: true, quantity: true } },
        hold: { select: { units: true } },
      },
    }),
    prisma.stockLevel.findMany({
      where: { shopId: input.shopId, location: { isSource: true, active: true } },
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

/** One rule of the shop, or null. */
export async function findShopRule(input: { shopId: string; ruleId: string }) {
  return prisma.bufferRule.findFirst({ where: { id: input.ruleId, shopId: input.shopId } });
}
