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
 * - events in flight (receipts stored but not applied, outbox batches sent but unconfirmed):
 *   postpone the whole count;
 * - the store has fewer commitments than ours by `excess`: first the opening commitment (orders
 *   placed before StockGuard was connected, never seen as events) shrinks by up to `excess`; what
 *   is left (`unseen`) are shipments or cancellations at the store not seen yet — up to that many
 *   units of an on_hand drop are held back (not counted) and the level is read again, until the
 *   events arrive or `GIVE_UP_ATTEMPTS` reads have passed (then the shelf is the truth);
 * - everything else is counted.
 */
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
