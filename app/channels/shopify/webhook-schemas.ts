/**
 * Webhook payloads (REST JSON at API 2026-10), validated at the edge. Only the fields the ledger
 * needs are kept: zod strips everything else, so customer names, emails and addresses never
 * reach the database.
 */
import { z } from "zod";

/**
 * Ids are 64-bit: integers past 2^53 arrive as their exact digits (app/lib/json.ts), so both forms
 * are accepted and kept as strings.
 */
const id = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)])
  .transform(String);
/** Units on one order line: bounded so no sum of them can overflow a 32-bit balance. */
export const MAX_LINE_QUANTITY = 1_000_000;
/** Units at one level (Shopify's own bound on inventory quantities is ±1,000,000,000). */
export const MAX_LEVEL_QUANTITY = 1_000_000_000;
const qty = z.number().int().min(0).max(MAX_LINE_QUANTITY);
/** Text PostgreSQL can store: no NUL, no lone surrogate, bounded. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine(
      (s) => !s.includes("\u0000") && s.isWellFormed(),
      "contains characters that cannot be stored",
    );
const timestamp = z
  .string()
  .max(64)
  .refine((s) => {
    const ms = Date.parse(s);
    const year = Number.isNaN(ms) ? NaN : new Date(ms).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  }, "must be an ISO-8601 timestamp")
  // Normalised to UTC so versions compare as strings across time-zone offsets.
  .transform((s) => new Date(s).toISOString());

export const ZLineItem = z.object({
  id,
  variant_id: id.nullish(),
  product_id: id.nullish(),
  sku: text(255).nullish(),
  quantity: qty,
  current_quantity: qty.optional(),
  fulfillable_quantity: qty.optional(),
});

export const ZRefundLine = z.object({
  id: id.optional(),
  line_item_id: id,
  quantity: qty,
  restock_type: z.enum(["no_restock", "cancel", "return", "legacy_restock"]),
  location_id: id.nullish(),
  line_item: z.object({ sku: text(255).nullish(), variant_id: id.nullish() }).optional(),
});

export const ZRefund = z.object({
  id,
  order_id: id,
  created_at: timestamp,
  refund_line_items: z.array(ZRefundLine).default([]),
});

export const ZFulfillment = z.object({
  id,
  order_id: id,
  status: text(64),
  created_at: timestamp.optional(),
  location_id: id.nullish(),
  line_items: z
    .array(z.object({ id, quantity: qty, sku: text(255).nullish(), variant_id: id.nullish() }))
    .default([]),
});

export const ZOrder = z.object({
  id,
  name: text(255).optional(),
  created_at: timestamp,
  updated_at: timestamp,
  cancelled_at: timestamp.nullish(),
  test: z.boolean().optional(),
  line_items: z.array(ZLineItem),
  refunds: z.array(ZRefund).default([]),
  fulfillments: z.array(ZFulfillment).default([]),
});

export const ZOrderEdit = z.object({
  order_edit: z.object({
    id,
    order_id: id,
    created_at: timestamp,
    line_items: z
      .object({
        additions: z.array(z.object({ id, delta: z.number().int() })).default([]),
        removals: z.array(z.object({ id, delta: z.number().int() })).default([]),
      })
      .default({ additions: [], removals: [] }),
  }),
});

export const ZInventoryLevelUpdate = z.object({
  inventory_item_id: id,
  location_id: id,
  available: z.number().int().min(-MAX_LEVEL_QUANTITY).max(MAX_LEVEL_QUANTITY).nullable(),
  updated_at: timestamp,
});

export const ZProduct = z.object({
  id,
  title: text(1000).optional(),
  variants: z
    .array(
      z.object({
        id,
        sku: text(255).nullish(),
        inventory_item_id: id.nullish(),
        title: text(1000).optional(),
      }),
    )
    .default([]),
});

export const ZInventoryItem = z.object({
  id,
  sku: text(255).nullish(),
  tracked: z.boolean().optional(),
});
export const ZInventoryItemDelete = z.object({ id });

/** Topic (as in shopify.app.toml) → payload schema. */
export const TOPIC_SCHEMAS = {
  "orders/create": ZOrder,
  "orders/updated": ZOrder,
  "orders/cancelled": ZOrder,
  "orders/edited": ZOrderEdit,
  "refunds/create": ZRefund,
  "fulfillments/create": ZFulfillment,
  "fulfillments/update": ZFulfillment,
  "inventory_levels/update": ZInventoryLevelUpdate,
  "products/update": ZProduct,
  "inventory_items/create": ZInventoryItem,
  "inventory_items/delete": ZInventoryItemDelete,
} as const;

export type ShopifyTopic = keyof typeof TOPIC_SCHEMAS;
export type TopicPayload<T extends ShopifyTopic> = z.infer<(typeof TOPIC_SCHEMAS)[T]>;

export function isShopifyTopic(topic: string): topic is ShopifyTopic {
  return Object.hasOwn(TOPIC_SCHEMAS, topic);
}

/** The resource a payload is about (order id, inventory item id, ...), for support and redaction. */
export function resourceIdOf(topic: ShopifyTopic, payload: unknown): string | null {
  const p = payload as Record<string, unknown>;
  switch (topic) {
    case "orders/create":
    case "orders/updated":
    case "orders/cancelled":
      return String(p.id);
    case "orders/edited":
      return String((p.order_edit as { order_id: string }).order_id);
    case "refunds/create":
    case "fulfillments/create":
    case "fulfillments/update":
      return String(p.order_id);
    case "inventory_levels/update":
      return String(p.inventory_item_id);
    default:
      return p.id === undefined ? null : String(p.id);
  }
}
