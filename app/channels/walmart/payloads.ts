/**
 * Walmart payload schemas (zod): the webhook envelope `{ source, payload }` of the events
 * StockGuard subscribes to, and the purchase order of `GET /v3/orders` (polled snapshots and
 * orders read back). Only what StockGuard uses is kept: zod strips every other field, so buyer
 * names, addresses, phone numbers and relay e-mails never reach the database. Pure.
 */
import { z } from "zod";

/** Largest quantity accepted anywhere (PostgreSQL int, and far beyond any real order line). */
const MAX_QUANTITY = 1_000_000;

/** Walmart sends quantities as strings in orders and events ("2"), numbers elsewhere. */
export const ZQuantity = z
  .union([z.string().regex(/^\d{1,9}$/, "must be a whole number"), z.number().int()])
  .transform(Number)
  .pipe(z.number().int().min(0).max(MAX_QUANTITY));

/** An instant: epoch milliseconds (orders) or an ISO 8601 string (events), years 1970–9999. */
export const ZInstant = z
  .union([z.number(), z.string().max(40)])
  .transform((v) => (typeof v === "number" ? v : Date.parse(v)))
  .pipe(z.number().int().min(0).max(253_402_300_799_999));

const ZText = (max: number) => z.string().max(max);
const ZId = z.union([z.string().min(1).max(64), z.number().int().min(0)]).transform(String);
const ZSku = z.string().max(255);

// --- webhook events ------------------------------------------------------------------------

export const ZSource = z.object({
  eventType: ZText(100).min(1),
  eventId: ZText(255).min(1),
  eventTime: ZInstant,
});

/** One line of PO_CREATED / PO_LINE_AUTOCANCELLED / INTENT_TO_CANCEL (and ORDER_UPDATES.order). */
export const ZEventLine = z.object({
  lineNumber: ZId,
  sku: ZSku,
  quantity: z.object({ measurementValue: ZQuantity }),
  status: ZText(40).optional(),
  statusDate: ZInstant.optional(),
});

export const ZOrderEvent = z.object({
  purchaseOrderId: ZId,
  orderDate: ZInstant.optional(),
  orderLines: z.array(ZEventLine).max(1_000),
});

export const ZOrderUpdates = z.object({
  subEventType: ZText(60).optional(),
  meta: z.object({ subEventType: ZText(60).optional() }).optional(),
  order: ZOrderEvent,
});

export const ZInventoryOos = z.object({
  sku: ZSku,
  shipNodes: z
    .array(z.object({ shipNode: ZText(64).optional(), availToSellQty: ZQuantity }))
    .max(1_000)
    .default([]),
});

export const ZOfferUnpublished = z.object({
  sku: ZSku,
  publishStatus: ZText(40).optional(),
  lifecycleStatus: ZText(40).optional(),
  statusChangeReasons: z.record(ZText(100), ZText(1_000)).optional(),
});

export const EVENT_PAYLOADS = {
  PO_CREATED: ZOrderEvent,
  PO_LINE_AUTOCANCELLED: ZOrderEvent,
  INTENT_TO_CANCEL: ZOrderEvent,
  ORDER_UPDATES: ZOrderUpdates,
  INVENTORY_OOS: ZInventoryOos,
  OFFER_UNPUBLISHED: ZOfferUnpublished,
} as const;

export type WalmartEventType = keyof typeof EVENT_PAYLOADS;

export function isWalmartEvent(topic: string): topic is WalmartEventType {
  return Object.hasOwn(EVENT_PAYLOADS, topic);
}

export type EventPayload<T extends WalmartEventType> = {
  source: z.infer<typeof ZSource>;
  payload: z.infer<(typeof EVENT_PAYLOADS)[T]>;
};

// --- purchase orders (GET /v3/orders, GET /v3/orders/{id}) ---------------------------------

export const ZOrderLine = z.object({
  lineNumber: ZId,
  item: z.object({ sku: ZSku }),
  orderLineQuantity: z.object({ amount: ZQuantity }),
  statusDate: ZInstant.optional(),
  orderLineStatuses: z
    .object({
      orderLineStatus: z
        .array(z.object({ status: ZText(40), statusQuantity: z.object({ amount: ZQuantity }) }))
        .max(1_000)
        .default([]),
    })
    .default({ orderLineStatus: [] }),
});

export const ZOrder = z.object({
  purchaseOrderId: ZId,
  orderDate: ZInstant,
  orderLines: z.object({ orderLine: z.array(ZOrderLine).max(1_000) }),
});

export type WalmartOrder = z.infer<typeof ZOrder>;

/**
 * A polled order as StockGuard stores it (topic `ORDER_SNAPSHOT`). `adopted`: found by the
 * connection's first poll, i.e. placed before StockGuard watched the account — its units already
 * shipped then left the shelf before the ledger knew the order, so they only release the
 * commitment (see translate.ts).
 */
export const ZOrderSnapshot = z.object({
  order: ZOrder,
  adopted: z.boolean().optional(),
});

export type OrderSnapshot = z.infer<typeof ZOrderSnapshot>;

export const SNAPSHOT_TOPIC = "ORDER_SNAPSHOT";

/**
 * A check of one SKU the poll asks for (topic `LISTING_CHECK`): an order reserved or released
 * units on Walmart, which may now offer other than StockGuard publishes (when the published
 * quantity could not move by as much: a cap, an oversold SKU); the push reads it.
 */
export const ZListingCheck = z.object({ sku: ZSku, at: ZInstant });
export type ListingCheck = z.infer<typeof ZListingCheck>;

export const CHECK_TOPIC = "LISTING_CHECK";

// --- errors ---------------------------------------------------------------------------------

/** Walmart error bodies: `{"error":[…]}` as the gateway answers, `{"errors":[…]}` in the specs. */
const ZErrorEntry = z.object({
  code: z.string().optional(),
  field: z.string().optional(),
  description: z.string().optional(),
  info: z.string().optional(),
});

export function errorEntries(body: unknown): { code: string; field?: string; message: string }[] {
  if (typeof body !== "object" || body === null) return [];
  const record = body as Record<string, unknown>;
  const list = Array.isArray(record.error)
    ? record.error
    : Array.isArray(record.errors)
      ? record.errors
      : null;
  if (!list) return [];
  return list.flatMap((e) => {
    const parsed = ZErrorEntry.safeParse(e);
    if (!parsed.success) return [];
    return [
      {
        code: parsed.data.code ?? "UNKNOWN",
        field: parsed.data.field,
        message: parsed.data.description ?? parsed.data.info ?? parsed.data.code ?? "error",
      },
    ];
  });
}
