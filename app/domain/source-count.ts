/**
 * Counting physical stock from the source store's levels without counting anything twice.
 *
 * A read gives the store's `on_hand` and `committed` at one level. StockGuard's ledger holds its
 * own view of both, plus the outbox (physical changes written to the store later). A difference in
 * on_hand is a real change at the source (a receipt, a count, damage) — unless it is an event the
 * ledger has not seen yet: the store's own fulfilment ships a unit (on_hand and committed both
 * drop) before its webhook arrives. Counting that drop would count the shipment twice (once now,
 * once when the webhook lands). So:
 *
 * - events in flight that can move this level (the store's receipts stored but not applied that
 *   name its SKU, item or variant — `inFlightScope` — and outbox batches sent but unconfirmed):
 *   postpone the count;
 * - the store has fewer commitments than ours by `excess`: first the opening commitment (orders
 *   placed before StockGuard was connected, never seen as events) shrinks by up to `excess`; what
 *   is left (`unseen`) are shipments or cancellations at the store not seen yet — up to that many
 *   units of an on_hand drop are held back (not counted) and the level is read again, until the
 *   events arrive or `GIVE_UP_ATTEMPTS` reads have passed (then the shelf is the truth);
 * - everything else is counted.
 */
import type { LedgerOperation } from "./operations";
import { normalizeSku } from "./sku";

export const GIVE_UP_ATTEMPTS = 150;

export type SourceCountInput = {
  shopifyOnHand: number;
  shopifyCommitted: number;
  ledgerOnHand: number;
  /** The source's own orders' commitments in the ledger (not other channels'). */
  ownCommitted: number;
  /** Net on_hand change in the outbox not yet written to the store. */
  pendingToSource: number;
  /** The opening commitment's units still committed (0 when there is none). */
  openingCommitted: number;
  eventsInFlight: boolean;
  /** Reads of this level postponed so far. */
  attempt: number;
};

export type SourceCountDecision =
  | { action: "postpone" }
  | {
      action: "count";
      /** The on_hand to count (the store's, plus units held back for unseen shipments). */
      onHand: number;
      /** Units the opening commitment gives up. */
      openingRelease: number;
      heldBack: number;
      /** Read this level again (unseen events may still arrive). */
      recheck: boolean;
    };

export function sourceCountDecision(input: SourceCountInput): SourceCountDecision {
  if (input.eventsInFlight) return { action: "postpone" };
  const excess = input.ownCommitted - input.shopifyCommitted;
  const openingRelease = excess > 0 ? Math.min(excess, Math.max(0, input.openingCommitted)) : 0;
  const unseen = Math.max(0, excess - openingRelease);
  const expected = input.ledgerOnHand - input.pendingToSource;
  const drop = Math.max(0, expected - input.shopifyOnHand);
  const waiting = unseen > 0 && input.attempt < GIVE_UP_ATTEMPTS;
  const heldBack = waiting ? Math.min(unseen, drop) : 0;
  return {
    action: "count",
    onHand: input.shopifyOnHand + heldBack,
    openingRelease,
    heldBack,
    recheck: waiting,
  };
}

/**
 * Which source levels the store's own events still in flight (stored, not applied) can move.
 * Only those wait: a receipt at the source is counted while the storefront keeps selling other
 * SKUs (postponing every count while any order of the store was in flight held receipts back for
 * as long as the store kept selling — 10–20 s tails in a storm). An event whose lines cannot be
 * named (an order to fetch, a line with neither SKU nor variant) concerns every level.
 */
export type InFlightScope =
  | { everything: true }
  | {
      everything: false;
      skus: ReadonlySet<string>;
      refs: ReadonlySet<string>;
      itemIds: ReadonlySet<string>;
    };

/** One pending event: its ledger operations, or `unknown` when it cannot be read without I/O. */
export type PendingEvent = readonly LedgerOperation[] | "unknown";

export function inFlightScope(events: readonly PendingEvent[]): InFlightScope {
  const skus = new Set<string>();
  const refs = new Set<string>();
  const itemIds = new Set<string>();
  for (const event of events) {
    if (event === "unknown") return { everything: true };
    for (const op of event) {
      if (op.type === "hold") continue;
      const sku = normalizeSku(op.sku ?? null);
      const ref = op.type === "line" ? (op.remoteRef ?? null) : null;
      const itemId = op.type === "item" ? (op.itemId ?? null) : null;
      if (sku === null && ref === null && itemId === null) return { everything: true };
      if (sku !== null) skus.add(sku);
      if (ref !== null) refs.add(ref);
      if (itemId !== null) itemIds.add(itemId);
    }
  }
  return { everything: false, skus, refs, itemIds };
}

/** Whether a level (its item, the item's SKU, the listing's variant) is in the scope. */
export function inScope(
  scope: InFlightScope,
  level: { itemId: string; sku: string | null; variantRef: string | null },
): boolean {
  if (scope.everything) return true;
  const sku = normalizeSku(level.sku);
  return (
    scope.itemIds.has(level.itemId) ||
    (sku !== null && scope.skus.has(sku)) ||
    (level.variantRef !== null && scope.refs.has(level.variantRef))
  );
}
