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
