import { createHmac, timingSafeEqual } from "node:crypto";
import {
  isShopifyTopic,
  resourceIdOf,
  TOPIC_SCHEMAS,
  type ShopifyTopic,
} from "../channels/shopify/webhook-schemas";
import { db, sql } from "../lib/sql.server";
import { metrics } from "../lib/metrics.server";
import { log } from "../logger.server";
import { enqueueIngest, enqueueSafely } from "../queues/jobs.server";
import { recordRejected, storeReceipt } from "../repositories/receipts.server";
import { openShopifyCredentials } from "../services/channels.server";
import { authenticateWebhook, badPayload } from "./authenticate.server";

type Target = {
  connectionId: string;
  shopId: string;
  role: "source" | "sales";
  shopStatus: string;
  credentials: string | null;
};

/** Every connection of any shop that is this Shopify store (usually exactly one). */
async function targetsFor(domain: string): Promise<Target[]> {
  return db().query<Target>(sql`
    SELECT c.id AS "connectionId", c.shop_id AS "shopId", c.role::text AS role, s.status::text AS "shopStatus",
           c.credentials
      FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.kind = 'shopify' AND c.account_ref = ${domain}`);
}

function hmacMatches(raw: string, header: string, secret: string): boolean {
  const expected = createHmac("sha256", secret).update(raw, "utf8").digest();
  const given = Buffer.from(header, "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const REQUIRED_HEADERS = [
  "x-shopify-topic",
  "x-shopify-shop-domain",
  "x-shopify-api-version",
  "x-shopify-webhook-id",
];

/**
 * The inbound path of every Shopify topic StockGuard consumes:
 * verify the HMAC (the app's secret through `authenticate.webhook`, or the store's own webhook
 * secret for a token-connected store) → validate the payload with zod → store a durable receipt
 * keyed by X-Shopify-Event-Id (falling back to the webhook id) → enqueue → 200.
 *
 * Unsigned or wrongly signed: 401, nothing stored. Unknown store: 401 (we hold no secret for it).
 * Schema violation: 400, recorded as rejected for support. Duplicate: 200, nothing new.
 * Receipt not stored (database down): 503, so Shopify retries.
 */
export async function handleShopifyWebhook(
  request: Request,
  allowed: readonly ShopifyTopic[],
): Promise<Response> {
  const started = performance.now();
  const answer = (response: Response, topic: string, outcome: string) => {
    metrics().webhookAckSeconds.observe({ topic, outcome }, (performance.now() - started) / 1000);
    metrics().receipts.inc({ channel: "shopify", outcome });
    return response;
  };
  if (request.method !== "POST") return new Response(null, { status: 405 });
  const hmac = request.headers.get("x-shopify-hmac-sha256");
  const topic = request.headers.get("x-shopify-topic") ?? "";
  if (!hmac) return answer(new Response(null, { status: 401 }), topic, "unauthorized");
  const domain = (request.headers.get("x-shopify-shop-domain") ?? "").toLowerCase();

  const targets = domain ? await targetsFor(domain) : [];
  if (targets.length === 0)
    return answer(new Response(null, { status: 401 }), topic, "unauthorized");

  // Stores connected with their own custom-app token sign with that app's secret.
  const raw = await request.clone().text();
  const ownSecret = targets.filter((t) => {
    const secret =
      t.role === "sales" ? openShopifyCredentials(t.credentials)?.webhookSecret : undefined;
    return secret !== undefined && hmacMatches(raw, hmac, secret);
  });
  let payload: unknown;
  let verified: Target[];
  let webhookId: string;
  let eventId: string;
  let triggeredAt: Date | null;
  if (ownSecret.length > 0) {
    const missing = REQUIRED_HEADERS.filter((h) => !request.headers.get(h));
    if (missing.length > 0)
      return answer(badPayload(`missing headers: ${missing.join(", ")}`), topic, "rejected");
    try {
      payload = JSON.parse(raw);
    } catch {
      return answer(
        Response.json({ error: "malformed JSON body" }, { status: 400 }),
        topic,
        "rejected",
      );
    }
    verified = ownSecret;
    webhookId = request.headers.get("x-shopify-webhook-id")!;
    eventId = request.headers.get("x-shopify-event-id") ?? webhookId;
    const t = request.headers.get("x-shopify-triggered-at");
    triggeredAt = t && !Number.isNaN(Date.parse(t)) ? new Date(t) : null;
  } else {
    let context: Awaited<ReturnType<typeof authenticateWebhook>>;
    try {
      context = await authenticateWebhook(request);
    } catch (error) {
      if (error instanceof Response)
        return answer(error, topic, error.status === 401 ? "unauthorized" : "rejected");
      throw error;
    }
    payload = context.payload;
    verified = targets.filter(
      (t) => t.role === "source" || !openShopifyCredentials(t.credentials)?.webhookSecret,
    );
    webhookId = context.webhookId;
    eventId = context.eventId ?? context.webhookId;
    triggeredAt =
      context.triggeredAt && !Number.isNaN(Date.parse(context.triggeredAt))
        ? new Date(context.triggeredAt)
        : null;
  }
  const logger = log({ shop: domain, topic, eventId, webhookId });

  const active = verified.filter((t) => t.shopStatus === "active");
  if (active.length === 0) {
    logger.info("delivery for an uninstalled shop; acknowledged, not stored");
    return answer(new Response(null, { status: 200 }), topic, "ignored");
  }
  if (!isShopifyTopic(topic) || !allowed.includes(topic)) {
    await recordRejected(db(), {
      shopDomain: domain,
      shopId: active[0]!.shopId,
      topic,
      reason: "topic not handled by this route",
      webhookId,
      eventId,
    });
    return answer(badPayload(`topic ${topic} is not handled here`), topic, "rejected");
  }
  const parsed = TOPIC_SCHEMAS[topic].safeParse(payload);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
      .join("; ");
    await recordRejected(db(), {
      shopDomain: domain,
      shopId: active[0]!.shopId,
      topic,
      reason,
      webhookId,
      eventId,
    });
    logger.warn({ reason }, "webhook payload rejected");
    return answer(badPayload(reason), topic, "rejected");
  }

  let duplicate = true;
  for (const target of active) {
    let stored: Awaited<ReturnType<typeof storeReceipt>>;
    try {
      stored = await storeReceipt(db(), {
        shopId: target.shopId,
        connectionId: target.connectionId,
        topic,
        eventId,
        webhookId,
        resourceId: resourceIdOf(topic, parsed.data),
        triggeredAt,
        payload: parsed.data,
      });
    } catch (error) {
      logger.error(
        { err: (error as Error).message },
        "receipt not stored; asking Shopify to retry",
      );
      return answer(new Response(null, { status: 503 }), topic, "error");
    }
    duplicate &&= stored.duplicate;
    // A duplicate whose first delivery could not be enqueued is enqueued again (same job id).
    if (!stored.duplicate || stored.status === "pending") {
      await enqueueSafely("ingest", () => enqueueIngest(stored.id));
    }
  }
  return answer(new Response(null, { status: 200 }), topic, duplicate ? "duplicate" : "stored");
}
