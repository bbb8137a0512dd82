/**
 * Walmart's inbound port: the event envelope (`source.eventType`, `eventId`, `eventTime` in the
 * body), the HMAC StockGuard asked Walmart to sign every delivery with (a secret generated per
 * connection, see ensureSubscriptions), payload checks that keep only what StockGuard uses, and
 * translation (translate.ts). Authentication needs the connection's secret, which the adapter
 * supplies; everything else here is pure.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type {
  ConnectionContext,
  DeliveryEnvelope,
  InboundPort,
  PayloadCheck,
  RawInbound,
  Verification,
} from "../channel-adapter";
import {
  CHECK_TOPIC,
  EVENT_PAYLOADS,
  SNAPSHOT_TOPIC,
  ZListingCheck,
  ZOrderSnapshot,
  ZSource,
  isWalmartEvent,
} from "./payloads";
import { translateDelivery } from "./translate";

/** The header Walmart puts the HMAC in (our choice at subscription time). */
export const SIGNATURE_HEADER = "WM_SG.SIGNATURE";

/**
 * True when `signature` is the HMAC-SHA256 of `body` under `secret`. Walmart does not say how the
 * value is encoded: base64 (its other webhook signatures) and hex are both accepted. Constant-time.
 */
export function verifyHmac(body: string, signature: string | null, secret: string): boolean {
  if (!signature || !secret) return false;
  const expected = createHmac("sha256", secret).update(body, "utf8").digest();
  const value = signature.trim().replace(/^(HMAC|Signature)\s+/i, "");
  const candidates = [/^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, "hex") : null];
  if (/^[A-Za-z0-9+/=_-]+$/.test(value)) candidates.push(Buffer.from(value, "base64"));
  return candidates.some(
    (c) => c !== null && c.length === expected.length && timingSafeEqual(c, expected),
  );
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function reasonOf(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(body)"}: ${i.message}`)
    .join("; ");
}

/** The inbound port; `secrets` gives a connection's webhook secrets (current first). */
export function walmartInbound(
  secrets: (conn: ConnectionContext, fresh: boolean) => Promise<string[]>,
): InboundPort {
  return {
    acceptedStatus: 200,

    envelope(raw: RawInbound): DeliveryEnvelope | string {
      const body = parseBody(raw.body);
      const source =
        typeof body === "object" && body !== null
          ? (body as Record<string, unknown>).source
          : undefined;
      const parsed = ZSource.safeParse(source);
      if (!parsed.success) return `not a Walmart event: source ${reasonOf(parsed.error.issues)}`;
      const occurredAt = new Date(parsed.data.eventTime);
      return {
        accountRef: null,
        topic: parsed.data.eventType,
        eventId: parsed.data.eventId,
        deliveryId: null,
        occurredAt,
      };
    },

    /** Shopify-style verification does not apply: deliveries are authenticated per connection. */
    verify: () => false,

    async authenticate(raw: RawInbound, conn: ConnectionContext): Promise<Verification> {
      if (raw.method !== "POST") return { ok: false, status: 401, reason: "not a delivery" };
      const signature = raw.headers.get(SIGNATURE_HEADER);
      if (!signature) return { ok: false, status: 401, reason: "no signature" };
      for (const fresh of [false, true]) {
        // A secret replaced by a reconnection in another process: read it again before refusing.
        const keys = await secrets(conn, fresh);
        if (keys.some((k) => verifyHmac(raw.body, signature, k))) return { ok: true };
      }
      return { ok: false, status: 401, reason: "signature does not match" };
    },

    check(topic: string, payload: unknown): PayloadCheck {
      if (topic === SNAPSHOT_TOPIC) {
        const parsed = ZOrderSnapshot.safeParse(payload);
        if (!parsed.success) return { ok: false, reason: reasonOf(parsed.error.issues) };
        return { ok: true, payload: parsed.data, resourceId: parsed.data.order.purchaseOrderId };
      }
      if (topic === CHECK_TOPIC) {
        const parsed = ZListingCheck.safeParse(payload);
        if (!parsed.success) return { ok: false, reason: reasonOf(parsed.error.issues) };
        return { ok: true, payload: parsed.data, resourceId: parsed.data.sku.slice(0, 255) };
      }
      const body = typeof payload === "object" && payload !== null ? payload : {};
      const source = ZSource.safeParse((body as Record<string, unknown>).source);
      if (!source.success) return { ok: false, reason: `source ${reasonOf(source.error.issues)}` };
      if (!isWalmartEvent(topic)) {
        // An event type StockGuard does not use (Walmart adds types): kept, then ignored.
        return { ok: true, payload: { source: source.data }, resourceId: null };
      }
      const parsed = EVENT_PAYLOADS[topic].safeParse((body as Record<string, unknown>).payload);
      if (!parsed.success) return { ok: false, reason: `payload ${reasonOf(parsed.error.issues)}` };
      const data = parsed.data as Record<string, unknown>;
      const resourceId =
        typeof data.purchaseOrderId === "string"
          ? data.purchaseOrderId
          : typeof data.sku === "string"
            ? data.sku.slice(0, 255)
            : typeof (data.order as { purchaseOrderId?: unknown } | undefined)?.purchaseOrderId ===
                "string"
              ? (data.order as { purchaseOrderId: string }).purchaseOrderId
              : null;
      return { ok: true, payload: { source: source.data, payload: parsed.data }, resourceId };
    },

    translate: translateDelivery,
  };
}
