/**
 * The Buffer rules page's read model: the shop's connections (rule scopes), its rules, and what
 * its listings publish from (the preview of a rule change).
 */
import prisma from "../../db.server";
import { loadPublishInputs } from "./publish-inputs.server";

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

/** Everything the shop's listings publish from (a rule preview). */
export function loadShopPublishInputs(input: { shopId: string }) {
  return loadPublishInputs({ shopId: input.shopId });
}

/** One rule of the shop, or null. */
export async function findShopRule(input: { shopId: string; ruleId: string }) {
  return prisma.bufferRule.findFirst({ where: { id: input.ruleId, shopId: input.shopId } });
}

/** The SKUs of those of `itemIds` that are stock items of the shop. */
export async function findShopItemSkus(input: { shopId: string; itemIds: readonly string[] }) {
  return prisma.stockItem.findMany({
    where: { shopId: input.shopId, id: { in: [...input.itemIds] } },
    select: { id: true, sku: true },
  });
}
