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
 * - a drop nothing explains is counted only once reads have shown it for `CONFIRM_DROP_MS`: the
 *   store's own order and a shipment, both not seen yet, leave `committed` where it was and take
 *   the shipped units off on_hand — exactly what a loss on the shelf looks like. Counted at once,
 *   the shipment was counted twice when its webhook landed (the chaos of webhooks delayed up to
 *   300 ms was enough: a source level ended 2 units below the shelf in a CI run). Both webhooks
 *   arrive within seconds; a real loss is still there after them;
 * - everything else (a rise: a receipt, a restock; the part of a drop the opening commitment's
 *   shipments explain) is counted at once.
 */
export const GIVE_UP_ATTEMPTS = 150;
/**
 * How long an unexplained drop must have been seen before it is counted: longer than Shopify's
 * webhooks usually take, and than the chaos world's delays (up to 1.5 s, a dropped first attempt
 * retried 1–3 s later).
 */
export const CONFIRM_DROP_MS = 5_000;

/** An unexplained drop seen by earlier reads and not counted yet: its units and since when. */
export type SeenDrop = { units: number; since: number };

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
  /** The unexplained drop earlier reads saw (null: none). */
  seenDrop: SeenDrop | null;
  /** This read's time (ms). */
  now: number;
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
      /** The unexplained drop to remember for the next read (null: none left). */
      seenDrop: SeenDrop | null;
    };

export function sourceCountDecision(input: SourceCountInput): SourceCountDecision {
  if (input.eventsInFlight) return { action: "postpone" };
  const excess = input.ownCommitted - input.shopifyCommitted;
  const openingRelease = excess > 0 ? Math.min(excess, Math.max(0, input.openingCommitted)) : 0;
  const unseen = Math.max(0, excess - openingRelease);
  const expected = input.ledgerOnHand - input.pendingToSource;
  const drop = Math.max(0, expected - input.shopifyOnHand);
  const waiting = unseen > 0 && input.attempt < GIVE_UP_ATTEMPTS;
  const shipments = waiting ? Math.min(unseen, drop) : 0;
  // The opening orders' shipments are explained (no webhook of theirs will change the ledger);
  // what is left of the drop is counted once seen long enough, as much of it as was seen then.
  const unexplained = Math.max(0, drop - shipments - openingRelease);
  const seen = input.seenDrop;
  const confirmed =
    seen && input.now - seen.since >= CONFIRM_DROP_MS ? Math.min(unexplained, seen.units) : 0;
  const waitingDrop = unexplained - confirmed;
  const seenDrop: SeenDrop | null =
    waitingDrop <= 0
      ? null
      : confirmed === 0 && seen && seen.units >= waitingDrop
        ? { units: waitingDrop, since: seen.since } // the same drop (or part of it), still waiting
        : { units: waitingDrop, since: input.now }; // a new or larger drop: its own wait
  const heldBack = shipments + waitingDrop;
  return {
    action: "count",
    onHand: input.shopifyOnHand + heldBack,
    openingRelease,
    heldBack,
    recheck: waiting || seenDrop !== null,
    seenDrop,
  };
}
