/**
 * Walmart events and purchase orders → channel-neutral ledger operations (pure).
 *
 * A Walmart order line has an ordered quantity that never changes, and cumulative cancelled and
 * shipped quantities. The ledger's line algebra is fed so that any set of deliveries — pushed
 * events, orders read back for a cancellation, polled snapshots — in any order and any number of
 * times ends in the same commitment:
 *
 * - the line's **ordered** quantity is `quantity − cancelled`, last-writer-wins on Walmart's own
 *   time: the event's `eventTime` for PO_CREATED (nothing is cancelled yet), the line's
 *   `statusDate` for an order read back (every change of a line moves it forward). Cancelled
 *   units therefore count once however many snapshots show them;
 * - **shipped** units are keyed one by one (`…/unit/<k>/shipped`, k = 1…shipped), so the second
 *   snapshot that shows 3 shipped units adds only the third.
 *
 * Cancellation events (PO_LINE_AUTOCANCELLED, FRAUD_CANCEL) carry only the units they cancel,
 * not the line's total, so they are not applied as deltas (a polled snapshot showing the same
 * cancellation would count it twice): they name the order, which is read back and applied as a
 * snapshot. INTENT_TO_CANCEL cancels nothing (the seller decides) and is only recorded.
 *
 * Keys start with the connection id, so two accounts' purchase orders never collide.
 */
import type { LineCommand } from "../../domain/ledger";
import type { LineOperation } from "../../domain/operations";
import type { InboundMeaning } from "../channel-adapter";
import {
  CHECK_TOPIC,
  SNAPSHOT_TOPIC,
  isWalmartEvent,
  type ListingCheck,
  type EventPayload,
  type OrderSnapshot,
  type WalmartOrder,
} from "./payloads";

/**
 * The one pseudo-location of a Walmart connection: the ship node StockGuard writes (the seller's
 * default node, or `settings.shipNode`). Constant, so inbound events can name it without knowing
 * the connection's settings.
 */
export const WALMART_LOCATION = "WALMART_US";

const iso = (ms: number) => new Date(ms).toISOString();

function lineOp(
  connectionId: string,
  orderId: string,
  lineId: string,
  sku: string,
  key: string,
  command: LineCommand,
): LineOperation {
  return {
    type: "line",
    key: `${connectionId}/wm/${orderId}/line/${lineId}/${key}`,
    connectionId,
    orderId,
    lineId,
    sku: sku || null,
    remoteRef: sku || null,
    command,
  };
}

/** PO_CREATED (or ORDER_UPDATES PO_CREATED): every line as placed at the event's time. */
export function createdOperations(
  connectionId: string,
  order: EventPayload<"PO_CREATED">["payload"],
  eventTime: number,
): LineOperation[] {
  return order.orderLines
    .filter((line) => line.quantity.measurementValue > 0)
    .map((line) =>
      lineOp(connectionId, order.purchaseOrderId, line.lineNumber, line.sku, "ordered", {
        kind: "placed",
        quantity: line.quantity.measurementValue,
        version: iso(eventTime),
      }),
    );
}

const SHIPPED_STATUSES = new Set(["shipped", "delivered"]);

export function lineTotals(line: WalmartOrder["orderLines"]["orderLine"][number]) {
  let cancelled = 0;
  let shipped = 0;
  for (const s of line.orderLineStatuses.orderLineStatus) {
    const status = s.status.toLowerCase();
    if (status === "cancelled") cancelled += s.statusQuantity.amount;
    else if (SHIPPED_STATUSES.has(status)) shipped += s.statusQuantity.amount;
  }
  const ordered = line.orderLineQuantity.amount;
  cancelled = Math.min(cancelled, ordered);
  shipped = Math.min(shipped, ordered - cancelled);
  return { ordered, cancelled, shipped, open: ordered - cancelled - shipped };
}

/**
 * A purchase order as Walmart shows it now → the operations that make the ledger's line equal
 * it (see the file comment). An adopted order's already shipped units release the commitment
 * instead of leaving on_hand: they left before StockGuard knew the order, and the shelf count
 * the source store imported already reflects that.
 */
export function snapshotOperations(connectionId: string, snapshot: OrderSnapshot): LineOperation[] {
  const { order, adopted } = snapshot;
  const ops: LineOperation[] = [];
  for (const line of order.orderLines.orderLine) {
    const totals = lineTotals(line);
    if (totals.ordered === 0) continue;
    const sku = line.item.sku;
    const remaining = totals.ordered - totals.cancelled;
    const version = iso(line.statusDate ?? order.orderDate);
    ops.push(
      lineOp(
        connectionId,
        order.purchaseOrderId,
        line.lineNumber,
        sku,
        "ordered",
        totals.cancelled === 0
          ? { kind: "placed", quantity: remaining, version }
          : { kind: "edited", quantity: remaining, version },
      ),
    );
    for (let k = 1; k <= totals.shipped; k++) {
      ops.push(
        lineOp(
          connectionId,
          order.purchaseOrderId,
          line.lineNumber,
          sku,
          `unit/${k}/shipped`,
          adopted ? { kind: "cancelled", quantity: 1 } : { kind: "shipped", quantity: 1 },
        ),
      );
    }
  }
  return ops;
}

/** The latest change of an order (its newest line status date). */
export function orderUpdatedAt(order: WalmartOrder): string {
  const times = order.orderLines.orderLine.map((l) => l.statusDate ?? order.orderDate);
  return iso(Math.max(order.orderDate, ...times));
}

/** A stored, checked delivery (a webhook event or a polled snapshot) → its meaning. */
export function translateDelivery(
  connectionId: string,
  topic: string,
  payload: unknown,
): InboundMeaning {
  if (topic === SNAPSHOT_TOPIC) {
    return {
      kind: "ledger",
      operations: snapshotOperations(connectionId, payload as OrderSnapshot),
    };
  }
  if (topic === CHECK_TOPIC) {
    // What Walmart offers is not known here: an unknown level makes the push read and write it.
    const check = payload as ListingCheck;
    return {
      kind: "level",
      level: {
        remoteRef: check.sku,
        remoteLocationRef: WALMART_LOCATION,
        quantity: null,
        at: new Date(check.at),
      },
    };
  }
  if (!isWalmartEvent(topic)) return { kind: "ignored", reason: `event ${topic} is not used` };
  switch (topic) {
    case "PO_CREATED": {
      const event = payload as EventPayload<"PO_CREATED">;
      return {
        kind: "ledger",
        operations: createdOperations(connectionId, event.payload, event.source.eventTime),
      };
    }
    case "PO_LINE_AUTOCANCELLED":
      return {
        kind: "order_reference",
        orderId: (payload as EventPayload<"PO_LINE_AUTOCANCELLED">).payload.purchaseOrderId,
      };
    case "INTENT_TO_CANCEL":
      return intentToCancel();
    case "ORDER_UPDATES": {
      const event = payload as EventPayload<"ORDER_UPDATES">;
      const sub = event.payload.subEventType ?? event.payload.meta?.subEventType ?? "";
      if (sub === "PO_CREATED") {
        return {
          kind: "ledger",
          operations: createdOperations(connectionId, event.payload.order, event.source.eventTime),
        };
      }
      if (sub === "INTENT_TO_CANCEL") return intentToCancel();
      // PO_LINE_AUTOCANCELLED, FRAUD_CANCEL and anything newer: read the order back.
      return { kind: "order_reference", orderId: event.payload.order.purchaseOrderId };
    }
    case "INVENTORY_OOS": {
      // Walmart shows 0. Its own sales arrive as orders (emitted at the same moment), and
      // StockGuard's own write of 0 triggers it too: as a level drop it would be taken for a
      // sale and hold units on every channel. Recorded; reads show what Walmart offers.
      const event = payload as EventPayload<"INVENTORY_OOS">;
      return {
        kind: "ignored",
        reason: `Walmart shows ${event.payload.sku} out of stock (orders and reads carry the numbers)`,
      };
    }
    case "OFFER_UNPUBLISHED":
      // Unpublishing sells nothing (a level drop would be taken for a sale and held): the
      // catalog is read again, and reads show the offer at 0 with its `unpublished` state.
      return { kind: "catalog_changed" };
  }
}

function intentToCancel(): InboundMeaning {
  return {
    kind: "ignored",
    reason: "the buyer asked to cancel; units are released when Walmart or the seller cancels",
  };
}
