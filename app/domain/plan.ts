/**
 * Push planning: what to write to a channel, given what we want it to show (published) and what
 * we know it shows (remote), and for the source store the quantity states that make it offer the
 * published quantity. Pure; the push service feeds it rows and executes the result.
 */
import type { LevelFacts } from "./types";

export type ListingPlanInput = {
  listingId: string;
  published: number;
  /** What we know the channel shows (null: unknown). */
  remoteQuantity: number | null;
};

export type SalesPlan = {
  /** Absolute writes; `expected` is the compare-and-set value (null: unknown, write blindly). */
  writes: { listingId: string; quantity: number; expected: number | null }[];
  /** Already showing the right number. */
  upToDate: string[];
};

/**
 * Every listing whose channel shows something else than its published quantity is written now,
 * up or down, with what we know it shows as the compare-and-set expectation.
 *
 * A channel's own drop that no order explains yet is not a reason to wait here: it is a
 * provisional hold (app/services/ingest/drops.server.ts), already taken off every listing's
 * published quantity — the dropping channel's included — until its order consumes it or it
 * expires. So raising to `published` never offers units a channel has sold unseen. (Waiting
 * here instead, a settle window keyed on the last observation, was renewed by every sale on a
 * hot SKU and held raises back for 10–20 s.)
 */
export function planSalesWrites(listings: readonly ListingPlanInput[]): SalesPlan {
  const plan: SalesPlan = { writes: [], upToDate: [] };
  for (const l of listings) {
    const target = Math.max(0, l.published);
    if (showsPublished(l.remoteQuantity, l.published)) plan.upToDate.push(l.listingId);
    else plan.writes.push({ listingId: l.listingId, quantity: target, expected: l.remoteQuantity });
  }
  return plan;
}

/**
 * Whether a channel showing `remote` (StockGuard's model of it) shows what the listing
 * publishes (a negative published quantity is shown as 0): the planner leaves it alone.
 */
export function showsPublished(remote: number | null, published: number): boolean {
  return remote === Math.max(0, published);
}

/** The Shopify states StockGuard owns on the source store. */
export const OWNED_STATES = ["reserved", "quality_control", "damaged", "safety_stock"] as const;
export type OwnedState = (typeof OWNED_STATES)[number];
export type StateMap = Record<OwnedState, number>;

/**
 * What the source store's quantity states should be at one location, so its storefront offers
 * exactly `published` while on_hand keeps matching the shelf. The units not taken by the store's
 * own orders (on_hand − own committed) are handed out in order:
 *
 *   quality_control = returns held for inspection
 *   damaged         = damaged units
 *   reserved        = units committed to other channels' orders (not yet shipped)
 *   safety_stock    = everything above `published` (safety stock + this storefront's buffer)
 *   available       = the rest = published
 *
 * Each state takes only what is physically left, so when the pool is oversold the storefront
 * shows 0 instead of a negative number (units that do not exist cannot be reserved either: the
 * shortfall is an incident in the ledger, not a negative state in Shopify).
 */
export function sourceTargets(
  facts: LevelFacts,
  committedOther: number,
  published: number,
): StateMap {
  const capacity = facts.onHand - (facts.committed - committedOther);
  let left = Math.max(0, capacity);
  const take = (want: number) => {
    const taken = Math.min(Math.max(0, want), left);
    left -= taken;
    return taken;
  };
  const quality_control = take(facts.held);
  const damaged = take(facts.damaged);
  const reserved = take(committedOther);
  const safety_stock = take(left - Math.max(0, published));
  return { reserved, quality_control, damaged, safety_stock };
}

/** Per owned state, how many units move between it and `available` (positive: into the state). */
export function stateMoves(
  targets: StateMap,
  remote: StateMap,
): { state: OwnedState; diff: number }[] {
  return OWNED_STATES.map((state) => ({ state, diff: targets[state] - remote[state] })).filter(
    (m) => m.diff !== 0,
  );
}
