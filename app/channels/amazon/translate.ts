/**
 * Amazon orders → channel-neutral ledger operations (pure).
 *
 * An ORDER_CHANGE notification (OrderLevel: every item; OrderItemLevel: the changed item) and a
 * polled order are snapshots of the order's items. Per item:
 * - ordered = `Quantity` / `QuantityOrdered`, last-writer-wins with the purchase time as its
 *   version. Amazon never changes an order's ordered quantity (a canceled order keeps it), so
 *   every snapshot carries the same value and the order in which they arrive cannot matter; the
 *   purchase time is what the ledger needs to know when the channel took the units off its
 *   storefront (a later change's time — the first notification seen may be a shipment — would
 *   make it count a sale the channel's quantity already showed). Without a purchase date, Amazon's
 *   time of the change (`TimeOfOrderChange`, else `EventTime`);
 * - a buyer-requested cancellation (`IsBuyerRequestedCancel`) releases the unshipped units at once
 *   (Amazon asks the seller to honour it; a seller who ships anyway records the shipment too);
 * - `OrderStatus: Canceled` cancels the whole line;
 * - shipped units (`QuantityShipped` is cumulative) are keyed one unit each, so every message and
 *   every poll that reports them counts each unit once, in any order.
 * Orders fulfilled by Amazon (AFN) are ignored: FBA stock is Amazon's, not the shop's.
 *
 * Keys start with the connection id, so two sellers' order ids never collide.
 */
import type { LineCommand } from "../../domain/ledger";
import type { LineOperation } from "../../domain/operations";
import type { OrderChange, OrderPolled } from "./payloads";

export type OrderSnapshot = {
  orderId: string;
  status: string;
  fulfillment: string | undefined;
  /** LWW version of the ordered quantities (ISO, UTC, milliseconds). */
  version: string;
  items: {
    itemId: string;
    sku: string | null;
    quantity: number;
    shipped: number;
    buyerRequestedCancel: boolean;
  }[];
};

export function snapshotOfChange(notification: OrderChange): OrderSnapshot {
  const change = notification.Payload.OrderChangeNotification;
  return {
    orderId: change.AmazonOrderId,
    status: change.Summary?.OrderStatus ?? "Unknown",
    fulfillment: change.Summary?.FulfillmentType,
    version:
      change.Summary?.PurchaseDate ??
      change.OrderChangeTrigger?.TimeOfOrderChange ??
      notification.EventTime,
    items: (change.Summary?.OrderItems ?? []).map((i) => ({
      itemId: i.OrderItemId,
      sku: i.SellerSKU ?? null,
      quantity: i.Quantity,
      shipped: i.QuantityShipped,
      buyerRequestedCancel: i.IsBuyerRequestedCancel,
    })),
  };
}

export function snapshotOfPolled(polled: OrderPolled): OrderSnapshot {
  return {
    orderId: polled.order.AmazonOrderId,
    status: polled.order.OrderStatus,
    fulfillment: polled.order.FulfillmentChannel,
    version: polled.order.PurchaseDate,
    items: polled.items.map((i) => ({
      itemId: i.OrderItemId,
      sku: i.SellerSKU ?? null,
      quantity: i.QuantityOrdered,
      shipped: i.QuantityShipped,
      buyerRequestedCancel: i.BuyerRequestedCancel?.IsBuyerRequestedCancel ?? false,
    })),
  };
}

/** Whether an order is Amazon's to fulfil (FBA): its units are not the shop's stock. */
export function isFulfilledByAmazon(snapshot: OrderSnapshot): boolean {
  return snapshot.fulfillment === "AFN";
}

export function orderOperations(connectionId: string, order: OrderSnapshot): LineOperation[] {
  const ops: LineOperation[] = [];
  const op = (
    item: OrderSnapshot["items"][number],
    key: string,
    command: LineCommand,
  ): LineOperation => ({
    type: "line",
    key: `${connectionId}/order/${order.orderId}/item/${item.itemId}/${key}`,
    connectionId,
    orderId: order.orderId,
    lineId: item.itemId,
    sku: item.sku,
    remoteRef: item.sku,
    command,
  });
  for (const item of order.items) {
    ops.push(
      op(
        item,
        "ordered",
        item.quantity > 0
          ? { kind: "placed", quantity: item.quantity, version: order.version }
          : { kind: "edited", quantity: 0, version: order.version },
      ),
    );
    const shipped = Math.min(item.shipped, item.quantity);
    if (order.status === "Canceled") {
      ops.push(op(item, "cancelled", { kind: "cancelled_all" }));
    } else if (item.buyerRequestedCancel && shipped < item.quantity) {
      ops.push(op(item, "buyer-cancel", { kind: "cancelled", quantity: item.quantity - shipped }));
    }
    for (let unit = 1; unit <= shipped; unit++) {
      ops.push(op(item, `shipped/${unit}`, { kind: "shipped", quantity: 1 }));
    }
  }
  return ops;
}
