/**
 * Buffer rules, shared by the admin and the CLI: one rule per scope (connection or all × SKU or
 * all) and kind. Every change republishes the shop's listings under the ledger's item locks and
 * queues the pushes it causes. Persistence in `repositories/rules.server.ts`.
 */
import { z } from "zod";
import { validateRule } from "../domain/buffers";
import { type DomainError, RuleError } from "../domain/errors";
import { normalizeSku } from "../domain/sku";
import { enqueuePushes, enqueueSafely } from "../queues/jobs.server";
import {
  connectionInShop,
  deleteShopRule,
  insertRule,
  isSyncEnabled,
  skuInShop,
  updateRuleValue,
  updateShopRule,
  upsertRules,
  type SavedRule,
} from "../repositories/rules.server";
import { findShopRule } from "../repositories/admin/buffer-rules.server";
import { republishShop } from "./ledger/republish.server";

export const ZRuleInput = z.object({
  connectionId: z.uuid().nullable().default(null),
  sku: z
    .string()
    .trim()
    .nullable()
    .default(null)
    .transform((s) => (s === null ? null : normalizeSku(s))),
  kind: z.enum(["reserve_units", "percent_of_ats", "max_shown", "zero_at_or_below"]),
  value: z.coerce
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(1_000_000_000, "must be at most 1,000,000,000"),
});
export type RuleInput = z.input<typeof ZRuleInput>;

async function checkScope(shopId: string, rule: z.output<typeof ZRuleInput>): Promise<void> {
  try {
    validateRule(rule);
  } catch (error) {
    throw new RuleError("invalid_rule", (error as DomainError).message, "value");
  }
  if (rule.connectionId && !(await connectionInShop({ shopId, connectionId: rule.connectionId }))) {
    throw new RuleError("invalid_rule", "Unknown channel", "connectionId");
  }
  if (rule.sku && !(await skuInShop({ shopId, sku: rule.sku }))) {
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
  /** `republish: false`: the caller applies several rules, then calls `applyRuleChange` once. */
  options: { replace?: boolean; republish?: boolean } = {},
): Promise<SavedRule> {
  const rule = ZRuleInput.parse(input);
  await checkScope(shopId, rule);
  let saved = await insertRule({ shopId, ...rule });
  if (!saved) {
    if (!options.replace) {
      throw new RuleError(
        "rule_exists",
        "A rule of this kind already exists for this channel and SKU; delete it first",
        "kind",
      );
    }
    saved = await updateRuleValue({ shopId, ...rule });
  }
  if (options.republish !== false) await applyRuleChange(shopId);
  return saved;
}

/**
 * Changes one of the shop's rules in place: its value, and optionally its channel (null: all
 * channels) and kind (its SKU stays). Null when the shop has no such rule (any more); a
 * `rule_exists` RuleError when another rule already has the new channel, SKU and kind.
 */
export async function updateRule(
  shopId: string,
  ruleId: string,
  change: { value: number; connectionId?: string | null; kind?: RuleInput["kind"] },
): Promise<SavedRule | null> {
  const rule = await findShopRule({ shopId, ruleId });
  if (!rule) return null;
  const input = ZRuleInput.parse({
    connectionId: change.connectionId === undefined ? rule.connectionId : change.connectionId,
    sku: rule.sku,
    kind: change.kind ?? rule.kind,
    value: change.value,
  });
  // The SKU is the rule's own (it may since have left the catalog): only the rest is checked.
  await checkScope(shopId, { ...input, sku: null });
  const saved = await updateShopRule({
    shopId,
    ruleId,
    connectionId: input.connectionId,
    kind: input.kind,
    value: input.value,
  });
  if (saved === "exists") {
    throw new RuleError(
      "rule_exists",
      "A rule of this kind already exists for this channel and SKU; change or delete that one",
      "kind",
    );
  }
  // Deleted in between (by another tab or the CLI): the merchant is told, nothing changes.
  if (!saved) return null;
  await applyRuleChange(shopId);
  return saved;
}

/**
 * Sets several rules at once (the Inventory page's bulk "Set buffer…"): every rule is checked
 * first, then all are saved in one transaction (an existing rule of the same scope and kind
 * takes the new value), and the shop is republished once. Any bad rule: a RuleError, nothing
 * saved.
 */
export async function setRules(shopId: string, inputs: readonly RuleInput[]): Promise<number> {
  const rules = inputs.map((input) => ZRuleInput.parse(input));
  if (rules.length === 0) throw new RuleError("invalid_rule", "No rule to set", "sku");
  const checkedConnections = new Set<string>();
  for (const rule of rules) {
    // One lookup per channel; each SKU is checked against the shop.
    const connectionId =
      rule.connectionId && checkedConnections.has(rule.connectionId) ? null : rule.connectionId;
    await checkScope(shopId, { ...rule, connectionId });
    if (rule.connectionId) checkedConnections.add(rule.connectionId);
  }
  const saved = await upsertRules(shopId, rules);
  await applyRuleChange(shopId);
  return saved;
}

export async function deleteRule(shopId: string, ruleId: string): Promise<boolean> {
  const deleted = await deleteShopRule({ shopId, ruleId });
  if (deleted) await applyRuleChange(shopId);
  return deleted;
}

/** Republishes every listing of the shop and queues the pushes; returns the connections. */
export async function applyRuleChange(shopId: string): Promise<Set<string>> {
  const connections = await republishShop(shopId);
  if (connections.size > 0 && (await isSyncEnabled({ shopId }))) {
    await enqueueSafely("push after a buffer rule change", () => enqueuePushes(connections));
  }
  return connections;
}
