/**
 * Shopify order webhooks → channel-neutral ledger operations (pure).
 *
 * An order payload (create / updated / cancelled) is a snapshot: every line's ordered quantity
 * (last-writer-wins on `updated_at`), plus the refunds and fulfillments it lists, each keyed by
 * its own id. `refunds/create` and `fulfillments/create` carry one of those pieces early; the
 * shared keys make whichever arrives first count and the other a no-op.
 *
 * Keys start with the connection id, so two stores' order ids can never collide.
 */
import type { LineCommand } from "../../domain/ledger";
import type { LineOperation } from "../../domain/operations";
import type { TopicPayload } from "./webhook-schemas";

type Order = TopicPayload<"orders/create">;
type Refund = TopicPayload<"refunds/create">;
type Fulfillment = TopicPayload<"fulfillments/create">;

const variantRef = (variantId: string | null | undefined) =>
  variantId ? `gid://shopify/ProductVariant/${variantId}` : null;

function lineOp(
  connectionId: string,
  orderId: string,
  lineId: string,
  sku: string | null | undefined,
  variantId: string | null | undefined,
  key: string,
  command: LineCommand,
): LineOperation {
  return {
    type: "line",
    key: `${connectionId}/${key}`,
    connectionId,
    orderId,
    lineId,
    sku: sku ?? null,
    remoteRef: variantRef(variantId),
    command,
  };
}

export function refundOperations(
  connectionId: string,
  refund: Refund,
  skuOf?: (lineId: string) => { sku?: string | null; variantId?: string | null },
): LineOperation[] {
  const ops: LineOperation[] = [];
  for (const line of refund.refund_line_items) {
    if (line.quantity === 0) continue;
    const command: LineCommand =
      line.restock_type === "cancel"
        ? { kind: "cancelled", quantity: line.quantity }
        : line.restock_type === "no_restock"
          ? { kind: "refunded_no_restock", quantity: line.quantity }
          : { kind: "returned", quantity: line.quantity }; // return, legacy_restock
    const known = skuOf?.(line.line_item_id);
    ops.push(
      lineOp(
        connectionId,
        refund.order_id,
        line.line_item_id,
        line.line_item?.sku ?? known?.sku,
        line.line_item?.variant_id ?? known?.variantId,
        `refund/${refund.id}/line/${line.line_item_id}`,
        command,
      ),
    );
  }
  return ops;
}

/** Only successful fulfillments move stock; cancelled or pending ones are ignored. */
export function fulfillmentOperations(
  connectionId: string,
  fulfillment: Fulfillment,
  skuOf?: (lineId: string) => { sku?: string | null; variantId?: string | null },
): LineOperation[] {
  if (fulfillment.status !== "success") return [];
  return fulfillment.line_items
    .filter((line) => line.quantity > 0)
    .map((line) => {
      const known = skuOf?.(line.id);
      return lineOp(
        connectionId,
        fulfillment.order_id,
        line.id,
        line.sku ?? known?.sku,
        line.variant_id ?? known?.variantId,
        `fulfillment/${fulfillment.id}/line/${line.id}`,
        { kind: "shipped", quantity: line.quantity },
      );
    });
}

export function orderOperations(
  connectionId: string,
  topic: "orders/create" | "orders/updated" | "orders/cancelled",
  order: Order,
): LineOperation[] {
  const ops: LineOperation[] = [];
  const refunded = new Map<string, number>();
  for (const refund of order.refunds) {
    for (const line of refund.refund_line_items) {
      refunded.set(line.line_item_id, (refunded.get(line.line_item_id) ?? 0) + line.quantity);
    }
  }
  const lines = new Map(order.line_items.map((l) => [l.id, l]));
  const skuOf = (lineId: string) => ({
    sku: lines.get(lineId)?.sku,
    variantId: lines.get(lineId)?.variant_id,
  });

  for (const line of order.line_items) {
    // `current_quantity` is the quantity after edits and refunds; adding the refunded units
    // back gives the ordered quantity after edits, while refunds count on their own below.
    const ordered = (line.current_quantity ?? line.quantity) + (refunded.get(line.id) ?? 0);
    ops.push(
      lineOp(
        connectionId,
        order.id,
        line.id,
        line.sku,
        line.variant_id,
        `order/${order.id}/line/${line.id}/ordered`,
        {
          kind: topic === "orders/create" && ordered > 0 ? "placed" : "edited",
          quantity: ordered,
          version: order.updated_at,
          soldAt: order.created_at,
        },
      ),
    );
    if (order.cancelled_at) {
      ops.push(
        lineOp(
          connectionId,
          order.id,
          line.id,
          line.sku,
          line.variant_id,
          `order/${order.id}/line/${line.id}/cancelled`,
          {
            kind: "cancelled_all",
          },
        ),
      );
    }
  }
  for (const refund of order.refunds) ops.push(...refundOperations(connectionId, refund, skuOf));
  for (const fulfillment of order.fulfillments)
    ops.push(...fulfillmentOperations(connectionId, fulfillment, skuOf));
  return ops;
}
