/**
 * Buffer rules: their validation, the choice per kind of the most specific rule for a listing,
 * and the published quantity a channel may show once they are applied to its availability.
 */
import { DomainError } from "./errors";
import type { BufferKind, BufferPolicy, BufferRule } from "./types";

/** Scope weight: channel×SKU (3) > SKU (2) > channel (1) > shop default (0). */
export function ruleSpecificity(rule: Pick<BufferRule, "connectionId" | "sku">): number {
  return (rule.sku !== null ? 2 : 0) + (rule.connectionId !== null ? 1 : 0);
}

export function validateRule(rule: Pick<BufferRule, "kind" | "value">): void {
  if (!Number.isInteger(rule.value) || rule.value < 0) {
    throw new DomainError(
      "invalid_rule",
      `buffer value must be a non-negative integer, got ${rule.value}`,
    );
  }
  if (rule.kind === "percent_of_ats" && rule.value > 100) {
    throw new DomainError("invalid_rule", `percent must be between 0 and 100, got ${rule.value}`);
  }
}

/**
 * For one listing (connection, SKU), pick per operator kind the most specific matching rule.
 * Kinds resolve independently: a shop-wide "hold back 2" and a SKU's "show at most 10" both
 * apply; a SKU-level "hold back 0" overrides the shop-wide 2 for that SKU only.
 */
export function resolvePolicy(
  rules: readonly BufferRule[],
  listing: { connectionId: string; sku: string },
): BufferPolicy {
  const best = new Map<BufferKind, BufferRule>();
  for (const rule of rules) {
    if (rule.connectionId !== null && rule.connectionId !== listing.connectionId) continue;
    if (rule.sku !== null && rule.sku !== listing.sku) continue;
    const current = best.get(rule.kind);
    if (
      !current ||
      ruleSpecificity(rule) > ruleSpecificity(current) ||
      // Same scope twice (should not happen: unique in the database): lowest id wins, stably.
      (ruleSpecificity(rule) === ruleSpecificity(current) && rule.id < current.id)
    ) {
      best.set(rule.kind, rule);
    }
  }
  const policy: BufferPolicy = {};
  for (const [kind, rule] of best) policy[kind] = { value: rule.value, ruleId: rule.id };
  return policy;
}

/**
 * Published quantity: the buffered number a channel may show for a listing whose availability
 * is `available` (ATS, or bundle availability).
 *
 *   q = available
 *   q = min(q, ⌊available × p / 100⌋)    percent of ATS
 *   q = min(q, available − n)            hold back n units
 *   q = min(q, m)                        show at most m
 *   q = 0 if available ≤ z               zero at or below z
 *   q = max(q, 0)
 *
 * Never negative, never above max(available, 0), and monotone in `available` (each operator
 * is), which the property tests check.
 */
export function publishedQuantity(available: number, policy: BufferPolicy = {}): number {
  if (available <= 0) return 0;
  let q = available;
  const percent = policy.percent_of_ats?.value;
  if (percent !== undefined) q = Math.min(q, Math.floor((available * percent) / 100));
  const reserve = policy.reserve_units?.value;
  if (reserve !== undefined) q = Math.min(q, available - reserve);
  const max = policy.max_shown?.value;
  if (max !== undefined) q = Math.min(q, max);
  const zeroAt = policy.zero_at_or_below?.value;
  if (zeroAt !== undefined && available <= zeroAt) q = 0;
  return Math.max(0, q);
}
