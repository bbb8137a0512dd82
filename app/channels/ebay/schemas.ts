/**
 * eBay payloads StockGuard reads, validated with zod and stripped to what the ledger needs:
 * Notification API envelopes (ORDER_CONFIRMATION, MARKETPLACE_ACCOUNT_DELETION) and Fulfillment
 * API orders. Buyer names, addresses, emails and the deleted user's identifiers never pass
 * through: unknown fields are dropped, and the account-deletion subject is kept only as SHA-256
 * hashes. Every schema accepts its own output (ingest checks a stored payload again).
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export const TOPICS = {
  orderConfirmation: "ORDER_CONFIRMATION",
  accountDeletion: "MARKETPLACE_ACCOUNT_DELETION",
  /** Not an eBay topic: an order read back by polling (cancellations, missed notifications). */
  orderSnapshot: "order_snapshot",
  /**
   * Not an eBay topic: a listing's quantity read after eBay put a cancelled order's units back
   * on it by itself (eBay restocks on cancellation; StockGuard did not write that number).
   */
  level: "inventory_level",
} as const;

/** Units on one order line (a bound no sum can overflow a 32-bit balance with). */
export const MAX_LINE_QUANTITY = 1_000_000;

/** Text PostgreSQL can store: no NUL, no lone surrogate, bounded. */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine(
      (s) => !s.includes("\u0000") && s.isWellFormed(),
      "contains characters that cannot be stored",
    );

/** An ISO-8601 time PostgreSQL can store, normalised to UTC (versions compare as strings). */
export const timestamp = z
  .string()
  .max(64)
  .refine((s) => {
    const ms = Date.parse(s);
    const year = Number.isNaN(ms) ? NaN : new Date(ms).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  }, "must be an ISO-8601 timestamp")
  .transform((s) => new Date(s).toISOString());

const id = text(100).pipe(z.string().min(1));
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export function sha256(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

const ZMetadata = z.object({
  topic: text(100),
  schemaVersion: text(20).optional(),
  deprecated: z.boolean().optional(),
});

const notification = <T extends z.ZodType>(data: T) =>
  z.object({
    metadata: ZMetadata,
    notification: z.object({
      notificationId: id,
      eventDate: timestamp,
      publishDate: timestamp.optional(),
      publishAttemptCount: z.number().int().min(0).max(1_000_000).optional(),
      data,
    }),
  });

export const ZOrderConfirmation = notification(z.object({ orderId: id }));
export type OrderConfirmation = z.infer<typeof ZOrderConfirmation>;

/**
 * MARKETPLACE_ACCOUNT_DELETION: `{username, userId, eiasToken}` as eBay sends it, or the hashes
 * StockGuard stores instead. The output is always the hashed form.
 */
export const ZAccountDeletion = notification(
  z.union([
    z.object({ userIdSha256: sha256Hex, usernameSha256: sha256Hex.optional() }),
    z
      .object({
        username: text(255).optional(),
        userId: id,
        eiasToken: text(1_000).optional(),
      })
      .transform((d) => ({
        userIdSha256: sha256(d.userId),
        usernameSha256: d.username === undefined ? undefined : sha256(d.username),
      })),
  ]),
);
export type AccountDeletion = z.infer<typeof ZAccountDeletion>;

/** A Fulfillment API order, stripped to what moves stock (`getOrder` / `getOrders`). */
export const ZOrder = z.object({
  orderId: id,
  creationDate: timestamp,
  lastModifiedDate: timestamp,
  orderFulfillmentStatus: text(40),
  cancelStatus: z.object({ cancelState: text(40), cancelledDate: timestamp.optional() }).optional(),
  lineItems: z
    .array(
      z.object({
        lineItemId: id,
        legacyItemId: text(100).nullish(),
        sku: text(255).nullish(),
        quantity: z.number().int().min(0).max(MAX_LINE_QUANTITY),
        lineItemFulfillmentStatus: text(40).optional(),
      }),
    )
    .max(1_000),
});
export type EbayOrder = z.infer<typeof ZOrder>;

export const ZOrderSnapshot = z.object({ order: ZOrder });

export const ZLevel = z.object({
  level: z.object({
    sku: text(255).pipe(z.string().min(1)),
    quantity: z.number().int().min(0).max(1_000_000_000).nullable(),
    at: timestamp,
  }),
});
export type EbayLevel = z.infer<typeof ZLevel>;

export type EbayTopic = (typeof TOPICS)[keyof typeof TOPICS];

export const TOPIC_SCHEMAS = {
  [TOPICS.orderConfirmation]: ZOrderConfirmation,
  [TOPICS.accountDeletion]: ZAccountDeletion,
  [TOPICS.orderSnapshot]: ZOrderSnapshot,
  [TOPICS.level]: ZLevel,
} as const;

export function isEbayTopic(topic: string): topic is EbayTopic {
  return Object.hasOwn(TOPIC_SCHEMAS, topic);
}
