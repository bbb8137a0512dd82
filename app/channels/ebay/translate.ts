/**
 * An eBay order (Fulfillment API) → channel-neutral ledger operations (pure).
 *
 * The order is a snapshot, read whenever eBay says something about it (ORDER_CONFIRMATION, which
 * fires once per line item and sometimes again) or the poll finds it modified: each line's
 * ordered quantity is last-writer-wins on the order's `lastModifiedDate`, a completed
 * cancellation (eBay cancels whole orders) releases every line once, and a fulfilled line ships
 * its units once. Keys start with the connection id and name the order and the line, so reading
 * the same order any number of times, in any order, changes the ledger once.
 */
import type { LineCommand } from "../../domain/ledger";
import type { LineOperation } from "../../domain/operations";
import type { EbayOrder } from "./schemas";

export function orderOperations(connectionId: string, order: EbayOrder): LineOperation[] {
  const cancelled = order.cancelStatus?.cancelState === "CANCELED";
  const orderShipped = order.orderFulfillmentStatus === "FULFILLED";
  const ops: LineOperation[] = [];
  const op = (
    line: EbayOrder["lineItems"][number],
    what: string,
    command: LineCommand,
  ): LineOperation => ({
    type: "line",
    key: `${connectionId}/order/${order.orderId}/line/${line.lineItemId}/${what}`,
    connectionId,
    orderId: order.orderId,
    lineId: line.lineItemId,
    sku: line.sku ?? null,
    // Listings of an eBay connection are addressed by seller SKU.
    remoteRef: line.sku ?? null,
    command,
  });
  for (const line of order.lineItems) {
    if (line.quantity <= 0) continue;
    ops.push(
      op(line, "ordered", {
        kind: "placed",
        quantity: line.quantity,
        version: order.lastModifiedDate,
      }),
    );
    if (cancelled) ops.push(op(line, "cancelled", { kind: "cancelled_all" }));
    else if (orderShipped || line.lineItemFulfillmentStatus === "FULFILLED")
      ops.push(op(line, "shipped", { kind: "shipped", quantity: line.quantity }));
  }
  return ops;
}
