/**
 * Shopify's inbound port: the webhook envelope (X-Shopify-* headers), the HMAC over the raw body,
 * payload validation per topic (customer data stripped), and translation of a stored delivery
 * into what it means for the ledger. No I/O.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type {
  DeliveryEnvelope,
  InboundMeaning,
  InboundPort,
  PayloadCheck,
  RawInbound,
} from "../channel-adapter";
import { fulfillmentOperations, orderOperations, refundOperations } from "./translate";
import { isShopifyTopic, resourceIdOf, TOPIC_SCHEMAS, type TopicPayload } from "./webhook-schemas";

const REQUIRED_HEADERS = [
  "x-shopify-topic",
  "x-shopify-shop-domain",
  "x-shopify-api-version",
  "x-shopify-webhook-id",
];

/** Header values longer than this are not Shopify's (ids, domains and topics are short). */
const MAX_HEADER_LENGTH = 255;

export const shopifyInbound: InboundPort = {
  envelope(raw: RawInbound): DeliveryEnvelope | string {
    const missing = REQUIRED_HEADERS.filter((h) => !raw.headers.get(h));
    if (missing.length > 0) return `missing headers: ${missing.join(", ")}`;
    const header = (name: string) => raw.headers.get(name) ?? "";
    for (const name of [...REQUIRED_HEADERS, "x-shopify-event-id", "x-shopify-triggered-at"]) {
      if (header(name).length > MAX_HEADER_LENGTH) return `header ${name} is too long`;
    }
    const webhookId = header("x-shopify-webhook-id");
    const triggered = header("x-shopify-triggered-at");
    const occurredAt = triggered ? parseTimestamp(triggered) : null;
    if (triggered && !occurredAt) return "x-shopify-triggered-at is not a valid timestamp";
    return {
      accountRef: header("x-shopify-shop-domain").toLowerCase(),
      topic: header("x-shopify-topic"),
      eventId: header("x-shopify-event-id") || webhookId,
      deliveryId: webhookId,
      occurredAt,
    };
  },

  verify(raw: RawInbound, secret: string): boolean {
    const header = raw.headers.get("x-shopify-hmac-sha256");
    if (!header) return false;
    const expected = createHmac("sha256", secret).update(raw.body, "utf8").digest();
    const given = Buffer.from(header, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  },

  check(topic: string, payload: unknown): PayloadCheck {
    if (!isShopifyTopic(topic)) return { ok: false, reason: `topic ${topic} is not handled` };
    const parsed = TOPIC_SCHEMAS[topic].safeParse(payload);
    if (!parsed.success) {
      return {
        ok: false,
        reason: parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
          .join("; "),
      };
    }
    return { ok: true, payload: parsed.data, resourceId: resourceIdOf(topic, parsed.data) };
  },

  translate(connectionId: string, topic: string, payload: unknown): InboundMeaning {
    if (!isShopifyTopic(topic)) return { kind: "ignored", reason: `unknown topic ${topic}` };
    switch (topic) {
      case "orders/create":
      case "orders/updated":
      case "orders/cancelled":
        return {
          kind: "ledger",
          operations: orderOperations(connectionId, topic, payload as TopicPayload<typeof topic>),
        };
      case "refunds/create":
        return {
          kind: "ledger",
          operations: refundOperations(connectionId, payload as TopicPayload<"refunds/create">),
        };
      case "fulfillments/create":
      case "fulfillments/update":
        return {
          kind: "ledger",
          operations: fulfillmentOperations(
            connectionId,
            payload as TopicPayload<"fulfillments/create">,
          ),
        };
      case "orders/edited":
        // The edit's absolute result arrives as orders/updated (same order, later updated_at),
        // which is last-writer-wins per line; deltas here would double count against it.
        return {
          kind: "ignored",
          reason: "applied through the orders/updated snapshot that follows every edit",
        };
      case "inventory_levels/update": {
        const level = payload as TopicPayload<"inventory_levels/update">;
        return {
          kind: "level",
          level: {
            remoteRef: `gid://shopify/InventoryItem/${level.inventory_item_id}`,
            remoteLocationRef: `gid://shopify/Location/${level.location_id}`,
            quantity: level.available,
            at: new Date(level.updated_at),
          },
        };
      }
      case "products/update":
      case "inventory_items/create":
      case "inventory_items/delete":
        return { kind: "catalog_changed" };
    }
  },
};

/** A timestamp PostgreSQL can store (years 1–9999), or null. */
export function parseTimestamp(value: string): Date | null {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999 ? date : null;
}
