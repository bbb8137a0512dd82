/**
 * The buffer rule aggregate: one rule per shop, scope (connection or all × SKU or all) and kind
 * (unique in the database, NULLS NOT DISTINCT), plus the lookups that check a rule's scope
 * belongs to the shop. Every statement is scoped by shop.
 */
import { Prisma, type BufferKind, type BufferRule } from "@prisma/client";
import prisma from "../db.server";

export type SavedRule = BufferRule;

export type RuleScope = {
  shopId: string;
  connectionId: string | null;
  sku: string | null;
  kind: BufferKind;
};

/** Whether the connection is one of the shop's. */
export async function connectionInShop(input: {
  shopId: string;
  connectionId: string;
}): Promise<boolean> {
  const owned = await prisma.connection.count({
    where: { id: input.connectionId, shopId: input.shopId },
  });
  return owned > 0;
}

/** Whether a stock item or a listing of the shop has this (normalised) SKU. */
export async function skuInShop(input: { shopId: string; sku: string }): Promise<boolean> {
  const [items, listings] = await Promise.all([
    prisma.stockItem.count({ where: { shopId: input.shopId, sku: input.sku } }),
    prisma.listing.count({ where: { shopId: input.shopId, sku: input.sku } }),
  ]);
  return items + listings > 0;
}

/** Inserts the rule; null when the shop already has a rule of this scope and kind. */
export async function insertRule(input: RuleScope & { value: number }): Promise<SavedRule | null> {
  try {
    return await prisma.bufferRule.create({ data: input });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      return null;
    }
    throw error;
  }
}

/** Sets the value of the shop's rule of this scope and kind (which must exist). */
export async function updateRuleValue(input: RuleScope & { value: number }): Promise<SavedRule> {
  const { value, ...scope } = input;
  const existing = await prisma.bufferRule.findFirstOrThrow({ where: scope });
  return prisma.bufferRule.update({
    where: { id: existing.id, shopId: input.shopId },
    data: { value },
  });
}

/**
 * Sets every rule (insert, or the new value for an existing rule of the same scope and kind) in
 * one transaction: all of them are saved or none is.
 */
export async function upsertRules(
  shopId: string,
  rules: readonly Omit<RuleScope & { value: number }, "shopId">[],
): Promise<number> {
  const counts = await prisma.$transaction(
    rules.map(
      (r) => prisma.$executeRaw`
        INSERT INTO buffer_rule (id, shop_id, connection_id, sku, kind, value, updated_at)
        VALUES (gen_random_uuid(), ${shopId}::uuid, ${r.connectionId}::uuid, ${r.sku},
                ${r.kind}::"BufferKind", ${r.value}, now())
        ON CONFLICT (shop_id, connection_id, sku, kind)
        DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
    ),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/**
 * Changes one rule of the shop in place (its channel, kind and value; the SKU stays): null when
 * the shop has no such rule, "exists" when another rule already has the new scope and kind.
 */
export async function updateShopRule(input: {
  shopId: string;
  ruleId: string;
  connectionId: string | null;
  kind: BufferKind;
  value: number;
}): Promise<SavedRule | "exists" | null> {
  try {
    const updated = await prisma.bufferRule.updateMany({
      where: { id: input.ruleId, shopId: input.shopId },
      data: { connectionId: input.connectionId, kind: input.kind, value: input.value },
    });
    if (updated.count === 0) return null;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      return "exists";
    }
    throw error;
  }
  return prisma.bufferRule.findFirst({ where: { id: input.ruleId, shopId: input.shopId } });
}

/** Deletes one rule of the shop; false when it has no such rule. */
export async function deleteShopRule(input: { shopId: string; ruleId: string }): Promise<boolean> {
  const deleted = await prisma.bufferRule.deleteMany({
    where: { id: input.ruleId, shopId: input.shopId },
  });
  return deleted.count > 0;
}

/** Whether the shop pushes to its channels (false when paused, uninstalled or unknown). */
export async function isSyncEnabled(input: { shopId: string }): Promise<boolean> {
  const shop = await prisma.shop.findUnique({
    where: { id: input.shopId },
    select: { syncEnabled: true },
  });
  return shop?.syncEnabled ?? false;
}
