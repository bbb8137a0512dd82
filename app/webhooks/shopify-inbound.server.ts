import { createHmac, timingSafeEqual } from "node:crypto";
import {
  isShopifyTopic,
  resourceIdOf,
  TOPIC_SCHEMAS,
  type TopicPayload,
  type ShopifyTopic,
} from "../channels/shopify/webhook-schemas";
import { db, sql } from "../lib/sql.server";
import { metrics } from "../lib/metrics.server";
import { log } from "../logger.server";
import { enqueueIngest, enqueueSafely } from "../queues/jobs.server";
import { recordRejected, storeReceipt } from "../repositories/receipts.server";
import { openShopifyCredentials } from "../services/channels.server";
import { observeInventoryLevel } from "../services/ingest/observe-level.server";
import { shopifyEnv } from "../env.server";
import { badPayload } from "./authenticate.server";

type Target = {
  connectionId: string;
  shopId: string;
  role: "source" | "sales";
  shopStatus: string;
  /** The secret a sales store signs with, when it is not the app's (decrypted). */
  ownSecret: string | null;
};

const targetCache = new Map<string, { targets: Target[]; until: number }>();
/** Known stores are cached for a moment (hundreds of webhooks a second name the same few). */
const TARGET_TTL_MS = 2_000;

/** Every connection of any shop that is this Shopify store (usually exactly one). */
async function targetsFor(domain: string): Promise<Target[]> {
  const cached = targetCache.get(domain);
  if (cached && cached.until > Date.now()) return cached.targets;
  const rows = await db().query<Omit<Target, "ownSecret"> & { credentials: string | null }>(sql`
    SELECT c.id AS "connectionId", c.shop_id AS "shopId", c.role::text AS role, s.status::text AS "shopStatus",
           c.credentials
      FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.kind = 'shopify' AND c.account_ref = ${domain}`);
  const targets = rows.map(({ credentials, ...t }) => ({
    ...t,
    ownSecret:
      t.role === "sales" ? (openShopifyCredentials(credentials)?.webhookSecret ?? null) : null,
  }));
  if (targets.length > 0) targetCache.set(domain, { targets, until: Date.now() + TARGET_TTL_MS });
  return targets;
}

type LevelUpdate = TopicPayload<"inventory_levels/update">;

function secretOf(target: Target, appSecret: string): string {
  return target.ownSecret ?? appSecret;
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
 * verify the HMAC (the app's secret, or the store's own webhook secret for a token-connected
 * store) → validate the payload with zod → store a durable receipt keyed by X-Shopify-Event-Id
 * (falling back to the webhook id) → enqueue → 200.
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

  let targets: Target[];
  try {
    targets = domain ? await targetsFor(domain) : [];
  } catch (error) {
    log({ shop: domain, topic }).error(
      { err: (error as Error).message },
      "database unavailable; asking Shopify to retry",
    );
    return answer(new Response(null, { status: 503 }), topic, "error");
  }
  if (targets.length === 0)
    return answer(new Response(null, { status: 401 }), topic, "unauthorized");

  // The app's own installs sign with the app secret; a store connected with its own custom-app
  // token signs with that app's secret. Same algorithm as @shopify/shopify-api's validator
  // (HMAC-SHA256 of the raw body, base64, constant-time compare), without loading the offline
  // session that authenticate.webhook fetches for an `admin` client this path never uses
  // (docs/decisions/0004-webhook-fast-path.md).
  const raw = await request.text();
  const appSecret = shopifyEnv().SHOPIFY_API_SECRET;
  const verified = targets.filter((t) => hmacMatches(raw, hmac, secretOf(t, appSecret)));
  if (verified.length === 0)
    return answer(new Response(null, { status: 401 }), topic, "unauthorized");
  const missing = REQUIRED_HEADERS.filter((h) => !request.headers.get(h));
  if (missing.length > 0)
    return answer(badPayload(`missing headers: ${missing.join(", ")}`), topic, "rejected");
  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return answer(
      Response.json({ error: "malformed JSON body" }, { status: 400 }),
      topic,
      "rejected",
    );
  }
  const webhookId = request.headers.get("x-shopify-webhook-id")!;
  const eventId = request.headers.get("x-shopify-event-id") || webhookId;
  const triggered = request.headers.get("x-shopify-triggered-at");
  const triggeredAt =
    triggered && !Number.isNaN(Date.parse(triggered)) ? new Date(triggered) : null;
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

  // Level updates are observations ("the channel now shows N"), not events to sync. Echoes of
  // our own writes and replays (the level shows what we know, or older) change nothing; any
  // other is one conditional update plus, at most, a coalesced push or a flagged source read.
  // Both are settled here, in the request, with one indexed read per connection, instead of a
  // receipt, a job and a worker round trip (most deliveries at load are level updates; decision
  // 0004). Replays and duplicates are harmless. If it cannot be recorded: 503, Shopify retries.
  if (topic === "inventory_levels/update") {
    let recorded = false;
    try {
      for (const target of active) {
        const observation = await observeInventoryLevel(
          { id: target.connectionId, role: target.role },
          parsed.data as LevelUpdate,
          new Date(),
        );
        recorded ||= observation.recorded;
      }
    } catch (error) {
      logger.error(
        { err: (error as Error).message },
        "level not recorded; asking Shopify to retry",
      );
      return answer(new Response(null, { status: 503 }), topic, "error");
    }
    return answer(new Response(null, { status: 200 }), topic, recorded ? "observed" : "echo");
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
