/**
 * The HTTP edge of every Shopify topic StockGuard consumes: bounded body → HMAC (the app's
 * secret, or a token-connected store's own webhook secret) → envelope and payload checks →
 * durable receipt keyed by X-Shopify-Event-Id (falling back to the webhook id) → enqueue → 200.
 *
 * Unsigned or wrongly signed: 401, nothing stored. Unknown store: 401 (we hold no secret for it).
 * Body over the limit: 413 before it is buffered. Malformed envelope, unknown topic or schema
 * violation: 400, recorded as rejected for support. Duplicate: 200, nothing new. An
 * orders/updated that changes nothing: 200, settled without a receipt (decision 0017). Receipt
 * not stored because the database is unreachable: held in Redis (the spool) and 200, or 503 so
 * Shopify retries when Redis cannot take it either (decision 0023). Metric labels come only from
 * known values.
 */
import { isShopifyTopic, type ShopifyTopic } from "../channels/shopify/webhook-schemas";
import { shopifyEnv } from "../env.server";
import { describeError, isDatabaseUnavailable, isUnstorableValue } from "../lib/data-errors";
import { parseChannelJson } from "../lib/json";
import { metrics } from "../lib/metrics.server";
import { lazyLog, log } from "../logger.server";
import {
  deliveryTargets,
  inboundPort,
  observeLevelNow,
  recordRefusedDelivery,
  settleUnchangedOrder,
  storeDelivery,
  type DeliveryTarget,
} from "../services/inbound/deliveries.server";
import {
  databaseAnswered,
  databaseUnreachable,
  spoolWithoutTrying,
} from "../services/inbound/outage.server";
import { spoolDeliveries } from "../services/inbound/spool.server";
import { badPayload } from "./authenticate.server";
import { readBoundedBody } from "./body.server";

export async function handleShopifyWebhook(
  request: Request,
  allowed: readonly ShopifyTopic[],
): Promise<Response> {
  const started = performance.now();
  const headerTopic = request.headers.get("x-shopify-topic") ?? "";
  // Never a label taken from an unchecked header: an attacker could grow /metrics without bound.
  const topicLabel = isShopifyTopic(headerTopic) ? headerTopic : "other";
  const answer = (response: Response, outcome: string) => {
    metrics().webhookAckSeconds.observe(
      { topic: topicLabel, outcome },
      (performance.now() - started) / 1000,
    );
    metrics().receipts.inc({ channel: "shopify", outcome });
    return response;
  };
  if (request.method !== "POST") return new Response(null, { status: 405 });
  if (!request.headers.get("x-shopify-hmac-sha256"))
    return answer(new Response(null, { status: 401 }), "unauthorized");
  const body = await readBoundedBody(request);
  if (body instanceof Response) return answer(body, "too_large");

  const port = inboundPort("shopify");
  const raw = { method: request.method, url: request.url, headers: request.headers, body };
  const envelope = port.envelope(raw);
  // The store is looked up by its header before the envelope is judged: a malformed envelope
  // from a store we know is a 400 once signed, not a 401.
  const domain =
    typeof envelope === "string"
      ? (request.headers.get("x-shopify-shop-domain") ?? "").toLowerCase().slice(0, 255)
      : (envelope.accountRef ?? "");
  let targets: DeliveryTarget[];
  try {
    targets = domain ? await deliveryTargets("shopify", domain) : [];
  } catch (error) {
    log({ shop: domain, topic: topicLabel }).error(
      { err: (error as Error).message },
      "database unavailable; asking Shopify to retry",
    );
    return answer(new Response(null, { status: 503 }), "error");
  }
  if (targets.length === 0) return answer(new Response(null, { status: 401 }), "unauthorized");
  // The app's own installs sign with the app secret; a store connected with its own custom-app
  // token signs with that app's secret (docs/decisions/0004-webhook-fast-path.md).
  const appSecret = shopifyEnv().SHOPIFY_API_SECRET;
  const verified = targets.filter((t) => port.verify(raw, t.ownSecret ?? appSecret));
  if (verified.length === 0) return answer(new Response(null, { status: 401 }), "unauthorized");
  if (typeof envelope === "string") return answer(badPayload(envelope), "rejected");

  const logger = lazyLog({
    shop: domain,
    topic: topicLabel,
    eventId: envelope.eventId,
    webhookId: envelope.deliveryId,
  });
  const active = verified.filter((t) => t.active);
  if (active.length === 0) {
    logger().info("delivery for an uninstalled shop; acknowledged, not stored");
    return answer(new Response(null, { status: 200 }), "ignored");
  }
  const refuse = async (reason: string) => {
    await recordRefusedDelivery({
      accountRef: domain,
      shopId: active[0]!.shopId,
      topic: envelope.topic.slice(0, 100),
      reason,
      deliveryId: envelope.deliveryId,
      eventId: envelope.eventId,
    }).catch((error: unknown) =>
      logger().warn({ err: (error as Error).message }, "refused delivery not recorded"),
    );
    logger().warn({ reason }, "webhook refused");
    return answer(badPayload(reason), "rejected");
  };
  if (!isShopifyTopic(envelope.topic) || !allowed.includes(envelope.topic))
    return refuse(`topic ${envelope.topic.slice(0, 100)} is not handled here`);
  let payload: unknown;
  try {
    payload = parseChannelJson(body);
  } catch {
    return refuse("malformed JSON body");
  }
  const checked = port.check(envelope.topic, payload);
  if (!checked.ok) return refuse(checked.reason);
  // What cannot be stored or recorded because the database is unreachable is held in Redis and
  // acknowledged (decision 0023); anything else, or Redis down too: 503, Shopify retries.
  const receivedAt = new Date();
  const holdOr503 = async (
    pending: DeliveryTarget[],
    error: unknown,
    what: string,
    tried = true,
  ) => {
    const err = (error as Error).message;
    if (isDatabaseUnavailable(error)) {
      // Only a delivery that tried the database (re)starts the outage's hold: one that was
      // spooled without trying must not keep extending it, or no delivery would try again.
      if (tried) databaseUnreachable();
      try {
        await spoolDeliveries(pending, targets, {
          accountRef: domain,
          topic: envelope.topic,
          eventId: envelope.eventId,
          deliveryId: envelope.deliveryId,
          occurredAt: envelope.occurredAt,
          receivedAt,
          payload: checked.payload,
        });
        if (tried) logger().warn({ err }, `${what}: database unreachable; held in the spool`);
        return answer(new Response(null, { status: 200 }), "spooled");
      } catch (spoolError) {
        logger().error(
          { err, spoolErr: (spoolError as Error).message },
          `${what}, nor held in the spool; asking Shopify to retry`,
        );
        return answer(new Response(null, { status: 503 }), "error");
      }
    }
    databaseAnswered();
    logger().error({ err }, `${what}; asking Shopify to retry`);
    return answer(new Response(null, { status: 503 }), "error");
  };
  const meaning = port.translate(active[0]!.connectionId, envelope.topic, checked.payload);
  if (spoolWithoutTrying())
    return holdOr503(
      active,
      Object.assign(new Error("database unreachable a moment ago"), { code: "57P03" }),
      "not tried",
      false,
    );

  // Level updates are observations ("the channel now shows N"), not events to sync: settled
  // here, in the request, with one indexed read per connection (decision 0004). Replays and
  // duplicates are harmless. If it cannot be recorded: spooled as above, or 503.
  if (meaning.kind === "level") {
    let recorded = false;
    try {
      for (const target of active) {
        recorded ||= (await observeLevelNow(target, meaning.level)).recorded;
      }
    } catch (error) {
      return holdOr503(active, error, "level not recorded");
    }
    databaseAnswered();
    return answer(new Response(null, { status: 200 }), recorded ? "observed" : "echo");
  }

  // An orders/updated that changes nothing (the one Shopify sends right after every
  // orders/create, and for every payment or tag change) is settled here, before anything is
  // stored (services/ingest/noop-snapshot). Anything else, or any doubt, is stored as usual.
  const orderId = meaning.kind === "ledger" ? checked.resourceId : null;
  if (
    envelope.topic === "orders/updated" &&
    meaning.kind === "ledger" &&
    orderId !== null &&
    active.length === 1 &&
    (await settleUnchangedOrder(active[0]!, orderId, meaning.operations).catch((error: unknown) => {
      logger().warn({ err: (error as Error).message }, "unchanged order not settled; storing it");
      return false;
    }))
  ) {
    databaseAnswered();
    return answer(new Response(null, { status: 200 }), "unchanged");
  }

  let duplicate = true;
  for (const [i, target] of active.entries()) {
    try {
      const stored = await storeDelivery({
        target,
        sameAccount: targets,
        topic: envelope.topic,
        eventId: envelope.eventId,
        deliveryId: envelope.deliveryId,
        resourceId: checked.resourceId,
        occurredAt: envelope.occurredAt,
        payload: checked.payload,
        orderId,
      });
      databaseAnswered();
      if (stored.replayed) {
        logger().warn("delivery id already received for another store: replay refused");
        return answer(new Response(null, { status: 401 }), "unauthorized");
      }
      duplicate &&= stored.duplicate;
    } catch (error) {
      if (isUnstorableValue(error))
        return refuse(`payload cannot be stored: ${describeError(error)}`);
      return holdOr503(active.slice(i), error, "receipt not stored");
    }
  }
  return answer(new Response(null, { status: 200 }), duplicate ? "duplicate" : "stored");
}
