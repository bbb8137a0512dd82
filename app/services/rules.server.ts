import { Prisma } from "@prisma/client";
import { z } from "zod";
import { validateRule } from "../domain/buffers";
import { DomainError } from "../domain/errors";
import { normalizeSku } from "../domain/sku";
import prisma from "../db.server";
import { enqueuePushes, enqueueSafely } from "../queues/jobs.server";
import { republishShop } from "./ledger/republish.server";

/**
 * Buffer rules: one per scope (connection or all × SKU or all) and kind. A change republishes the
 * shop's listings under the item locks and queues the pushes it causes.
 */
export const ZRuleInput = z.object({
  connectionId: z.uuid().nullable().default(null),
  sku: z
    .string()
    .trim()
    .transform((s) => normalizeSku(s))
    .nullable()
    .default(null),
  kind: z.enum(["reserve_units", "percent_of_ats", "max_shown", "zero_at_or_below"]),
  value: z.coerce.number().int("must be a whole number").min(0, "must be 0 or more"),
});
export type RuleInput = z.input<typeof ZRuleInput>;

export async function setRule(shopId: string, input: RuleInput) {
  const rule = ZRuleInput.parse(input);
  validateRule(rule);
  if (rule.connectionId) {
    const connection = await prisma.connection.findFirst({
      where: { id: rule.connectionId, shopId },
    });
    if (!connection)
      throw new DomainError("invalid_rule", "that channel is not connected to this shop");
  }
  // One rule per scope and kind: replace the value of an existing one.
  const existing = await prisma.bufferRule.findFirst({
    where: { shopId, connectionId: rule.connectionId, sku: rule.sku, kind: rule.kind },
  });
  const saved = existing
    ? await prisma.bufferRule.update({ where: { id: existing.id }, data: { value: rule.value } })
    : await prisma.bufferRule
        .create({ data: { shopId, ...rule } })
        .catch(async (error: unknown) => {
          // A concurrent create of the same scope and kind: update that one instead.
          if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
            const other = await prisma.bufferRule.findFirstOrThrow({
              where: { shopId, connectionId: rule.connectionId, sku: rule.sku, kind: rule.kind },
            });
            return prisma.bufferRule.update({
              where: { id: other.id },
              data: { value: rule.value },
            });
          }
          throw error;
        });
  await applyRuleChange(shopId);
  return saved;
}

export async function deleteRule(shopId: string, ruleId: string): Promise<boolean> {
  const deleted = await prisma.bufferRule.deleteMany({ where: { id: ruleId, shopId } });
  if (deleted.count > 0) await applyRuleChange(shopId);
  return deleted.count > 0;
}

export async function listRules(shopId: string) {
  return prisma.bufferRule.findMany({
    where: { shopId },
    orderBy: [{ connectionId: "asc" }, { sku: "asc" }, { kind: "asc" }],
  });
}

async function applyRuleChange(shopId: string): Promise<void> {
  const connections = await republishShop(shopId);
  await enqueueSafely("push", () => enqueuePushes(connections));
}
