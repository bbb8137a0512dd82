/**
 * What the Amazon channel stores, validated before it is stored and again before it is applied:
 * `ORDER_CHANGE` notifications (OrderChangeNotification.json), `LISTINGS_ITEM_MFN_QUANTITY_CHANGE`
 * (the notification inside the EventBridge envelope), and `ORDER_POLLED` (an order and its items
 * read with getOrders/getOrderItems when notifications may have been missed). Only the fields the
 * ledger needs are kept: zod strips the rest (postal codes, buyer e-mails, prices).
 */
import { z } from "zod";

export const TOPICS = {
  orderChange: "ORDER_CHANGE",
  mfnQuantity: "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
  orderPolled: "ORDER_POLLED",
} as const;
export type AmazonTopic = (typeof TOPICS)[keyof typeof TOPICS];

/** The merchant-fulfilled channel code; every `AMAZON_*` code is FBA (Amazon's stock). */
export const MFN_CHANNEL = "DEFAULT";
/** Units on one order item. Shipments are recorded one unit per key, so this stays modest. */
export const MAX_ITEM_QUANTITY = 10_000;
/** Units a listing can show (SP-API's own quantity is a 32-bit integer). */
export const MAX_LISTING_QUANTITY = 1_000_000_000;

/** Text PostgreSQL can store: no NUL, no lone surrogate, bounded. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine(
      (s) => !s.includes("\u0000") && s.isWellFormed(),
      "contains characters that cannot be stored",
    );
const id = text(100).pipe(z.string().min(1));
const qty = z.number().int().min(0).max(MAX_ITEM_QUANTITY);
/** An ISO-8601 time PostgreSQL can store, normalised to UTC with milliseconds (versions). */
const timestamp = z
  .string()
  .max(64)
  .refine((s) => {
    const ms = Date.parse(s);
    const year = Number.isNaN(ms) ? NaN : new Date(ms).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  }, "must be an ISO-8601 timestamp")
  .transform((s) => new Date(s).toISOString());

const ZMetadata = z.object({
  ApplicationId: text(200).optional(),
  SubscriptionId: text(200).optional(),
  PublishTime: timestamp.optional(),
  NotificationId: id,
});

export const ZOrderChangeItem = z.object({
  OrderItemId: id,
  SellerSKU: text(255).nullish(),
  OrderItemStatus: text(50).nullish(),
  Quantity: qty,
  QuantityShipped: qty.default(0),
  IsBuyerRequestedCancel: z.boolean().default(false),
});

export const ZOrderChange = z.object({
  NotificationType: z.literal("ORDER_CHANGE"),
  NotificationVersion: text(20).optional(),
  PayloadVersion: text(20).optional(),
  EventTime: timestamp,
  Payload: z.object({
    OrderChangeNotification: z.object({
      NotificationLevel: z.enum(["OrderLevel", "OrderItemLevel"]).optional(),
      SellerId: id,
      AmazonOrderId: id,
      OrderChangeType: text(50).optional(),
      OrderChangeTrigger: z
        .object({ TimeOfOrderChange: timestamp.optional(), ChangeReason: text(200).optional() })
        .optional(),
      Summary: z
        .object({
          MarketplaceId: text(50).optional(),
          OrderStatus: text(50),
          FulfillmentType: text(10).optional(),
          OrderType: text(50).optional(),
          PurchaseDate: timestamp.optional(),
          OrderItems: z.array(ZOrderChangeItem).max(500).default([]),
        })
        .optional(),
    }),
  }),
  NotificationMetadata: ZMetadata,
});
export type OrderChange = z.infer<typeof ZOrderChange>;

/** The notification EventBridge carries in `detail`. */
export const ZMfnQuantityChange = z.object({
  NotificationType: z.literal("LISTINGS_ITEM_MFN_QUANTITY_CHANGE"),
  NotificationVersion: text(20).optional(),
  PayloadVersion: text(20).optional(),
  EventTime: timestamp,
  Payload: z.object({
    SellerId: id,
    FulfillmentChannelCode: text(50),
    Sku: text(255).pipe(z.string().min(1)),
    Quantity: z.number().int().min(0).max(MAX_LISTING_QUANTITY),
  }),
  NotificationMetadata: ZMetadata,
});
export type MfnQuantityChange = z.infer<typeof ZMfnQuantityChange>;

/** Orders API v0 `BuyerRequestedCancel.IsBuyerRequestedCancel` is the string "true". */
const flag = z
  .union([z.boolean(), z.enum(["true", "false"])])
  .transform((v) => v === true || v === "true");

export const ZPolledItem = z.object({
  OrderItemId: id,
  SellerSKU: text(255).nullish(),
  QuantityOrdered: qty,
  QuantityShipped: qty.default(0),
  BuyerRequestedCancel: z.object({ IsBuyerRequestedCancel: flag.default(false) }).optional(),
});

export const ZOrderPolled = z.object({
  sellerId: id,
  order: z.object({
    AmazonOrderId: id,
    PurchaseDate: timestamp,
    LastUpdateDate: timestamp,
    OrderStatus: text(50),
    FulfillmentChannel: text(10).optional(),
    MarketplaceId: text(50).optional(),
  }),
  items: z.array(ZPolledItem).max(500),
});
export type OrderPolled = z.infer<typeof ZOrderPolled>;

export const TOPIC_SCHEMAS = {
  [TOPICS.orderChange]: ZOrderChange,
  [TOPICS.mfnQuantity]: ZMfnQuantityChange,
  [TOPICS.orderPolled]: ZOrderPolled,
} as const;

export function isAmazonTopic(topic: string): topic is AmazonTopic {
  return Object.prototype.hasOwnProperty.call(TOPIC_SCHEMAS, topic);
}

/** The envelope EventBridge wraps SP-API notifications in when it targets an SQS queue. */
export const ZEventBridgeEnvelope = z.object({
  "detail-type": z.string(),
  source: z.string(),
  account: z.string().optional(),
  time: z.string().optional(),
  detail: z.record(z.string(), z.unknown()),
});
