import { storeDelivery, type DeliveryTarget } from "../../app/services/inbound/deliveries.server";
import type { SeededShop } from "./shop";

/** The shop's source store as the delivery target the web resolves for it. */
export function sourceTarget(
  shop: Pick<SeededShop, "shopId" | "sourceConnectionId">,
): DeliveryTarget {
  return {
    connectionId: shop.sourceConnectionId,
    shopId: shop.shopId,
    role: "source",
    active: true,
    ownSecret: null,
  };
}

/** The line's references when a test needs others than `sku` and variant 1. */
export type LineRefs = { sku?: string | null; variant_id?: number | null };

/** A Shopify order snapshot (orders/create) of one unit of `sku`, as the web has checked it. */
export function orderSnapshot(id: number, sku: string, refs: LineRefs = {}) {
  return {
    id,
    created_at: "2026-11-26T10:00:00Z",
    updated_at: "2026-11-26T10:00:00Z",
    cancelled_at: null,
    line_items: [{ id: id * 10, variant_id: 1, sku, quantity: 1, current_quantity: 1, ...refs }],
    refunds: [],
    fulfillments: [],
  };
}

/** Stores order `id` for `target` as a verified orders/create delivery; returns its receipt. */
export async function storeOrder(
  target: DeliveryTarget,
  id: number,
  sku: string,
  refs: LineRefs = {},
): Promise<bigint> {
  const stored = await storeDelivery({
    target,
    sameAccount: [target],
    topic: "orders/create",
    eventId: `evt-${target.shopId}-${id}`,
    deliveryId: `wh-${target.shopId}-${id}`,
    resourceId: String(id),
    occurredAt: new Date(),
    payload: orderSnapshot(id, sku, refs),
  });
  if (stored.replayed) throw new Error("unexpected replay");
  return stored.receiptId;
}
