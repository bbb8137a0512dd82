/**
 * Physical changes the source store has not seen. The source's own orders, counts and restocks
 * already happened there, but a marketplace shipment, a marketplace return restocked in the
 * warehouse, or an adjustment made in StockGuard must be written to the store so its on_hand keeps
 * matching the shelf. Decides which quantity state such a change goes to (or none).
 */
import type { FactDelta } from "./types";

export function sourceAdjustmentFor(
  kind: string,
  delta: FactDelta,
  connectionId: string | null,
  sourceConnectionId: string | null,
): { stateName: string; delta: number; reason?: string } | null {
  if (delta.onHand === 0 || connectionId === sourceConnectionId) return null;
  switch (kind) {
    case "shipped": // the unit sat in `reserved` for the other channel's order
      return { stateName: "reserved", delta: delta.onHand };
    case "returned": // back in the warehouse, awaiting inspection
      return { stateName: "quality_control", delta: delta.onHand };
    case "written_off":
      return { stateName: "damaged", delta: delta.onHand };
    case "manual_adjustment":
      return { stateName: "available", delta: delta.onHand };
    case "cycle_counted": // Shopify's own reason for a counted correction (platform/shopify.md §2.9)
      return { stateName: "available", delta: delta.onHand, reason: "cycle_count_available" };
    default:
      return null;
  }
}

/**
 * The source store's own order moved its on_hand (its fulfilment shipped a unit, its refund
 * restocked one): Shopify did it before we heard of it, so a counting read made in between may
 * have counted it already — an order placed and shipped before either webhook leaves no
 * commitment behind to tell the shipment from a count, and the shipment then takes the unit a
 * second time. Such a level is read again once the event is applied: the read finds nothing to
 * count if it had not been counted, and puts the unit back if it had.
 */
export function recountAfter(
  kind: string,
  delta: FactDelta,
  connectionId: string | null,
  sourceConnectionId: string | null,
): boolean {
  return (
    delta.onHand !== 0 &&
    connectionId !== null &&
    connectionId === sourceConnectionId &&
    (kind === "shipped" || kind === "returned")
  );
}
