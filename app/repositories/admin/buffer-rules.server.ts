/** The Buffer rules page's read model: the shop's connections (rule scopes) and its rules. */
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
