/**
 * Why a listing shows the number it shows: the chain "ATS 3 → hold back 2 (shop rule) → shows 1"
 * built from the same rules and operators the ledger publishes with (`domain/publish.ts`), and
 * the before → after preview of an admin change (what every channel would show). Pure: the
 * callers load the levels, listings and rules; the result's last step always equals what
 * `computePublished` decides (property-tested).
 */
import { ats } from "../../domain/availability";
import { resolvePolicy } from "../../domain/buffers";
import { listingAvailability } from "../../domain/bundles";
import { atsByItem, computePublished, type PublishLevel } from "../../domain/publish";
import type { BufferKind, BufferRule } from "../../domain/types";

export type ExplainListing = {
  id: string;
  connectionId: string;
  sku: string | null;
  sourceLocationId: string | null;
  components: { itemId: string; perUnit: number }[];
  /** Provisional hold on this listing (units a channel's own drop showed sold). */
  holdUnits: number;
};

export type ExplainStep = {
  /** What this step does, in the merchant's words ("Hold back 2"). */
  label: string;
  /** The quantity after this step. */
  value: number;
  /** The buffer rule that caused it, with its scope in words. */
  rule?: { id: string; kind: BufferKind; scope: string };
};

/** "shop rule", "rule for Outlet store", "rule for SKU-1", "rule for Outlet store × SKU-1". */
export function ruleScope(
  rule: Pick<BufferRule, "connectionId" | "sku">,
  connectionName: (id: string) => string,
): string {
  if (rule.connectionId && rule.sku)
    return `rule for ${connectionName(rule.connectionId)} × ${rule.sku}`;
  if (rule.connectionId) return `rule for ${connectionName(rule.connectionId)}`;
  if (rule.sku) return `rule for ${rule.sku}`;
  return "shop rule";
}

const unitsText = (n: number) => `${n} unit${n === 1 ? "" : "s"}`;

/**
 * The steps from availability to the published quantity of every listing, by listing id.
 * Mirrors `computePublished` (holds, bundles, the four operators in order, the source store's
 * per-location share) and ends with its result.
 */
export function explainPublished(input: {
  listings: readonly ExplainListing[];
  levels: readonly PublishLevel[];
  rules: readonly BufferRule[];
  connectionName: (id: string) => string;
}): Map<string, ExplainStep[]> {
  const holds = holdsByItem(input.listings);
  const published = computePublished(input.listings, input.levels, input.rules, holds);
  const itemAts = atsByItem(input.levels);
  const rulesById = new Map(input.rules.map((r) => [r.id, r]));
  const result = new Map<string, ExplainStep[]>();

  for (const listing of input.listings) {
    const steps: ExplainStep[] = [];
    const single = listing.components.length === 1 && listing.components[0]!.perUnit === 1;
    const rawAvailable = listingAvailability(listing.components, itemAts);
    if (single) {
      steps.push({ label: "Available to sell", value: rawAvailable });
    } else {
      const parts = listing.components.map((c) => `${c.perUnit} per set`).join(", ");
      steps.push({
        label: `Complete sets from available stock (${parts})`,
        value: rawAvailable,
      });
    }
    const heldUnits = listing.components.reduce(
      (s, c) => s + (holds.get(c.itemId) ?? 0) * (c.perUnit > 0 ? 1 : 0),
      0,
    );
    let available = rawAvailable;
    if (heldUnits > 0) {
      const heldAts = new Map(itemAts);
      for (const [itemId, units] of holds)
        if (heldAts.has(itemId)) heldAts.set(itemId, heldAts.get(itemId)! - units);
      available = listingAvailability(listing.components, heldAts);
      steps.push({
        label: `Held for ${unitsText(heldUnits)} a channel showed sold (order not in yet)`,
        value: available,
      });
    }
    if (available <= 0) {
      steps.push({ label: "Nothing left to sell", value: 0 });
    } else {
      const policy = resolvePolicy(input.rules, {
        connectionId: listing.connectionId,
        sku: listing.sku ?? "",
      });
      let q = available;
      const ruleOf = (kind: BufferKind, ruleId: string) => {
        const rule = rulesById.get(ruleId);
        return {
          id: ruleId,
          kind,
          scope: rule ? ruleScope(rule, input.connectionName) : "rule",
        };
      };
      const percent = policy.percent_of_ats;
      if (percent) {
        q = Math.min(q, Math.floor((available * percent.value) / 100));
        steps.push({
          label: `Show ${percent.value}% of it`,
          value: q,
          rule: ruleOf("percent_of_ats", percent.ruleId),
        });
      }
      const reserve = policy.reserve_units;
      if (reserve) {
        q = Math.min(q, available - reserve.value);
        steps.push({
          label: `Hold back ${reserve.value}`,
          value: Math.max(0, q),
          rule: ruleOf("reserve_units", reserve.ruleId),
        });
      }
      const max = policy.max_shown;
      if (max) {
        q = Math.min(q, max.value);
        steps.push({
          label: `Show at most ${max.value}`,
          value: Math.max(0, q),
          rule: ruleOf("max_shown", max.ruleId),
        });
      }
      const zeroAt = policy.zero_at_or_below;
      if (zeroAt) {
        const applies = available <= zeroAt.value;
        if (applies) q = 0;
        steps.push({
          label: applies
            ? `Show 0 at or below ${zeroAt.value}`
            : `Show 0 at or below ${zeroAt.value} (not reached)`,
          value: Math.max(0, q),
          rule: ruleOf("zero_at_or_below", zeroAt.ruleId),
        });
      }
    }
    const final = published.get(listing.id) ?? 0;
    const last = steps[steps.length - 1]!;
    if (last.value !== final && listing.sourceLocationId !== null) {
      steps.push({ label: "This location's share", value: final });
    }
    steps.push({ label: "Shows", value: final });
    result.set(listing.id, steps);
  }
  return result;
}

function holdsByItem(listings: readonly ExplainListing[]): Map<string, number> {
  const holds = new Map<string, number>();
  for (const listing of listings) {
    if (!(listing.holdUnits > 0)) continue;
    for (const c of listing.components)
      holds.set(c.itemId, (holds.get(c.itemId) ?? 0) + listing.holdUnits * c.perUnit);
  }
  return holds;
}

/** "ATS 3 → Hold back 2 (shop rule) → shows 1" (the text ExplainChain renders). */
export function chainText(steps: readonly ExplainStep[]): string {
  if (steps.length === 0) return "";
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const middle = steps.slice(1, -1);
  const parts = [
    `${first.label === "Available to sell" ? "ATS" : first.label} ${first.value}`,
    ...middle.map(
      (s) =>
        `${s.label}${s.rule ? ` (${s.rule.scope})` : ""}${middle.length > 1 ? ` = ${s.value}` : ""}`,
    ),
    `shows ${last.value}`,
  ];
  return parts.join(" → ");
}

/** What a change of one level's facts does to the item and to every listing that sells it. */
export type ChangePreview = {
  location: { before: LevelNumbers; after: LevelNumbers };
  item: { atsBefore: number; atsAfter: number; committed: number };
  listings: { id: string; before: number; after: number }[];
};
export type LevelNumbers = { onHand: number; safetyStock: number; ats: number };

export function previewLevelChange(input: {
  listings: readonly ExplainListing[];
  levels: readonly PublishLevel[];
  rules: readonly BufferRule[];
  itemId: string;
  locationId: string;
  change: { onHand?: number; safetyStock?: number };
}): ChangePreview {
  const holds = holdsByItem(input.listings);
  const target = input.levels.find(
    (l) => l.itemId === input.itemId && l.locationId === input.locationId,
  ) ?? {
    itemId: input.itemId,
    locationId: input.locationId,
    onHand: 0,
    committed: 0,
    held: 0,
    damaged: 0,
    safetyStock: 0,
  };
  const changed: PublishLevel = {
    ...target,
    onHand: target.onHand + (input.change.onHand ?? 0),
    safetyStock: target.safetyStock + (input.change.safetyStock ?? 0),
  };
  const others = input.levels.filter((l) => l !== target);
  const afterLevels = [...others, changed];
  const before = computePublished(input.listings, input.levels, input.rules, holds);
  const after = computePublished(input.listings, afterLevels, input.rules, holds);
  const itemTotal = (levels: readonly PublishLevel[]) =>
    levels.filter((l) => l.itemId === input.itemId).reduce((s, l) => s + ats(l), 0);
  const numbers = (l: PublishLevel): LevelNumbers => ({
    onHand: l.onHand,
    safetyStock: l.safetyStock,
    ats: ats(l),
  });
  return {
    location: { before: numbers(target), after: numbers(changed) },
    item: {
      atsBefore: itemTotal(input.levels),
      atsAfter: itemTotal(afterLevels),
      committed: input.levels
        .filter((l) => l.itemId === input.itemId)
        .reduce((s, l) => s + l.committed, 0),
    },
    listings: input.listings.map((l) => ({
      id: l.id,
      before: before.get(l.id) ?? 0,
      after: after.get(l.id) ?? 0,
    })),
  };
}
