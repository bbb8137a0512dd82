import { Prisma } from "@prisma/client";
import { z } from "zod";
import { validateRule } from "../domain/buffers";
import { type DomainError, RuleError } from "../domain/errors";
import { normalizeSku } from "../domain/sku";
import prisma from "../db.server";
import { enqueuePushes, enqueueSafely } from "../queues/jobs.server";
import { republishShop } from "./ledger/republish.server";

/**
 * Buffer rules, shared by the admin and the CLI: one rule per scope (connection or all × SKU or
 * all) and kind. Every change republishes the shop's listings under the ledger's item locks and
 * queues the pushes it causes.
 */
export const ZRuleInput = z.object({
  connectionId: z.uuid().nullable().default(null),
  sku: z
    .string()
    .trim()
    .nullable()
    .default(null)
    .transform((s) => (s === null ? null : normalizeSku(s))),
  kind: z.enum(["reserve_units", "percent_of_ats", "max_shown", "zero_at_or_below"]),
  value: z.coerce.number().int("must be a whole number").min(0, "must be 0 or more"),
});
export type RuleInput = z.input<typeof ZRuleInput>;

async function checkScope(shopId: string, rule: z.output<typeof ZRuleInput>): Promise<void> {
  try {
    validateRule(rule);
  } catch (error) {
    throw new RuleError("invalid_rule", (error as DomainError).message, "value");
  }
  if (rule.connectionId) {
    const owned = await prisma.connection.count({ where: { id: rule.connectionId, shopId } });
    if (!owned) throw new RuleError("invalid_rule", "Unknown channel", "connectionId");
  }
  if (rule.sku) {
    const [items, listings] = await Promise.all([
      prisma.stockItem.count({ where: { shopId, sku: rule.sku } }),
      prisma.listing.count({ where: { shopId, sku: rule.sku } }),
    ]);
    if (items + listings === 0)
      throw new RuleError("invalid_rule", `No stock item or listing has SKU ${rule.sku}`, "sku");
  }
}

/**
 * Creates a rule. With `replace`, an existing rule of the same scope and kind takes the new value
 * (the CLI's `rule:set`); without, it is refused with `rule_exists` (the admin form).
 */
export async function createRule(
  shopId: string,
  input: RuleInput,
  options: { replace?: boolean } = {},
) {
  const rule = ZRuleInput.parse(input);
  await checkScope(shopId, rule);
  const where = { shopId, connectionId: rule.connectionId, sku: rule.sku, kind: rule.kind };
  let saved;
  try {
    saved = await prisma.bufferRule.create({ data: { shopId, ...rule } });
  } catch (error) {
    if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== "P2002")
      throw error;
    if (!options.replace) {
      throw new RuleError(
        "rule_exists",
        "A rule of this kind already exists for this channel and SKU; delete it first",
        "kind",
      );
    }
    const existing = await prisma.bufferRule.findFirstOrThrow({ where });
    saved = await prisma.bufferRule.update({
      where: { id: existing.id },
      data: { value: rule.value },
    });
  }
  await applyRuleChange(shopId);
  return saved;
}

export async function deleteRule(shopId: string, ruleId: string): Promise<boolean> {
  const deleted = await prisma.bufferRule.deleteMany({ where: { id: ruleId, shopId } });
  if (deleted.count > 0) await applyRuleChange(shopId);
  return deleted.count > 0;
}

/** Republishes every listing of the shop and queues the pushes; returns the connections. */
export async function applyRuleChange(shopId: string): Promise<Set<string>> {
  const connections = await republishShop(shopId);
  const shop = await prisma.shop.findUnique({
    where: { id: shopId },
    select: { syncEnabled: true },
  });
  if (shop?.syncEnabled && connections.size > 0) {
    await enqueueSafely("push after a buffer rule change", () => enqueuePushes(connections));
  }
  return connections;
}
