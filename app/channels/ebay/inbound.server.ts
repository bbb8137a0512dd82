/**
 * eBay's inbound port: Notification API pushes to `/webhooks/ebay/<connection id>`.
 *
 * - `GET ?challenge_code=…` (eBay checks the endpoint when a destination is created or changed):
 *   answered `{"challengeResponse": hex(SHA-256(challengeCode + verificationToken + endpoint))}`,
 *   the endpoint being exactly the URL StockGuard registered (`<SHOPIFY_APP_URL>/webhooks/ebay/<id>`).
 * - `POST` notifications: `X-EBAY-SIGNATURE` is base64 JSON `{alg, kid, signature, digest}`; the
 *   ECDSA signature is verified with the public key of `kid` (`getPublicKey`, application token,
 *   cached an hour per process; unknown kids remembered for five minutes) over the raw body, then,
 *   like eBay's own Node SDK, over the re-serialised JSON. Valid → 204 (stored or duplicate);
 *   anything else → 412 and nothing stored, which makes eBay retry a genuine one later.
 * - Dedupe on `notification.notificationId`; `eventDate` orders events; ORDER_CONFIRMATION
 *   carries only an order id (and fires per line item, sometimes again): it becomes an order
 *   reference the ingest reads back (`fetchOrder`). MARKETPLACE_ACCOUNT_DELETION is kept only as
 *   hashes and erases that account's connections. eBay's mocked `test_…` notifications are ignored.
 */
import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { createHash } from "node:crypto";
import { shopifyEnv } from "../../env.server";
import { log } from "../../logger.server";
import type {
  ConnectionContext,
  DeliveryEnvelope,
  InboundMeaning,
  InboundPort,
  PayloadCheck,
  RawInbound,
  Verification,
} from "../channel-adapter";
import { ChannelRetryableError } from "../errors";
import type { EbayClient } from "./client.server";
import { ebayHosts } from "./config.server";
import { ebayConfig } from "./config.server";
import {
  isEbayTopic,
  TOPIC_SCHEMAS,
  TOPICS,
  type AccountDeletion,
  type EbayLevel,
  type OrderConfirmation,
} from "./schemas";
import { orderOperations } from "./translate";

/** eBay suggests caching public keys for an hour. */
const KEY_TTL_MS = 60 * 60_000;
/** A kid eBay does not know (a forgery) is not asked for again for this long. */
const UNKNOWN_KID_TTL_MS = 5 * 60_000;
const MAX_SIGNATURE_HEADER = 4_096;
/** The adapter's one pseudo-location (the inventory item's ship-to-home quantity). */
export const SHIP_TO_HOME_LOCATION = "ebay:ship-to-home";

/** The URL StockGuard registers as the destination of a connection (connect-marketplace's). */
export function endpointUrl(connectionId: string): string {
  return new URL(`/webhooks/ebay/${connectionId}`, shopifyEnv().SHOPIFY_APP_URL).toString();
}

export function challengeResponse(code: string, verificationToken: string, endpoint: string) {
  return createHash("sha256").update(code).update(verificationToken).update(endpoint).digest("hex");
}

type SignatureHeader = { alg: string; kid: string; signature: string; digest: string };

/** The header's JSON, or null when it is not what eBay sends. */
export function decodeSignatureHeader(header: string | null): SignatureHeader | null {
  if (!header || header.length > MAX_SIGNATURE_HEADER) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header, "base64").toString("utf8"));
  } catch {
    return null;
  }
  const h = decoded as Partial<Record<keyof SignatureHeader, unknown>> | null;
  if (
    !h ||
    typeof h.alg !== "string" ||
    h.alg.toLowerCase() !== "ecdsa" ||
    typeof h.kid !== "string" ||
    !/^[A-Za-z0-9._-]{1,128}$/.test(h.kid) ||
    typeof h.signature !== "string" ||
    h.signature.length > 1_024 ||
    (h.digest !== undefined && typeof h.digest !== "string")
  )
    return null;
  return {
    alg: h.alg,
    kid: h.kid,
    signature: h.signature,
    digest: typeof h.digest === "string" ? h.digest : "SHA1",
  };
}

/** `getPublicKey`'s one-line PEM (or a proper one) → a key object. */
export function parsePublicKey(pem: string): KeyObject {
  const base64 = pem
    .replace(/-----BEGIN PUBLIC KEY-----/, "")
    .replace(/-----END PUBLIC KEY-----/, "")
    .replace(/\s+/g, "");
  return createPublicKey({ key: Buffer.from(base64, "base64"), format: "der", type: "spki" });
}

function hashName(digest: string): "sha1" | "sha256" | null {
  const d = digest.toUpperCase().replace("-", "");
  return d === "SHA1" ? "sha1" : d === "SHA256" ? "sha256" : null;
}

type PublicKey = { key: KeyObject; digest: string };

/** The public keys of notification signatures, per API origin and kid. */
export class PublicKeys {
  private readonly keys = new Map<string, { value: PublicKey | null; until: number }>();
  private readonly inflight = new Map<string, Promise<PublicKey | null>>();

  constructor(private readonly client: EbayClient) {}

  async get(conn: ConnectionContext, kid: string): Promise<PublicKey | null> {
    const cacheKey = `${ebayHosts(conn.apiBaseUrl).api}|${kid}`;
    const cached = this.keys.get(cacheKey);
    if (cached && cached.until > Date.now()) return cached.value;
    let pending = this.inflight.get(cacheKey);
    if (!pending) {
      pending = this.fetch(conn, kid)
        .then((value) => {
          this.keys.set(cacheKey, {
            value,
            until: Date.now() + (value ? KEY_TTL_MS : UNKNOWN_KID_TTL_MS),
          });
          if (this.keys.size > 1_000) this.keys.delete(this.keys.keys().next().value!);
          return value;
        })
        .finally(() => this.inflight.delete(cacheKey));
      this.inflight.set(cacheKey, pending);
    }
    return pending;
  }

  private async fetch(conn: ConnectionContext, kid: string): Promise<PublicKey | null> {
    const answer = await this.client.call<{ key?: unknown; digest?: unknown }>(conn, {
      group: "notification",
      operation: "getPublicKey",
      method: "GET",
      path: `/commerce/notification/v1/public_key/${encodeURIComponent(kid)}`,
      auth: "app",
    });
    if (answer.status === 404 || answer.status === 400) return null;
    if (answer.status !== 200 || typeof answer.body?.key !== "string")
      throw new ChannelRetryableError(`eBay getPublicKey answered HTTP ${answer.status}`);
    try {
      return {
        key: parsePublicKey(answer.body.key),
        digest: typeof answer.body.digest === "string" ? answer.body.digest : "SHA1",
      };
    } catch {
      throw new ChannelRetryableError("eBay getPublicKey answered a key that does not parse");
    }
  }
}

/** True when `signature` verifies over the raw body, or over its re-serialised JSON (the SDK). */
export function verifySignature(body: string, header: SignatureHeader, key: PublicKey): boolean {
  const hash = hashName(header.digest) ?? hashName(key.digest);
  if (!hash) return false;
  const signature = Buffer.from(header.signature, "base64");
  const check = (data: string) => {
    try {
      return verify(hash, Buffer.from(data, "utf8"), key.key, signature);
    } catch {
      return false;
    }
  };
  if (check(body)) return true;
  let reserialised: string;
  try {
    reserialised = JSON.stringify(JSON.parse(body));
  } catch {
    return false;
  }
  return reserialised !== body && check(reserialised);
}

const refuse = (reason: string): Verification => ({ ok: false, status: 412, reason });

function text(value: unknown, max: number): string | null {
  return typeof value === "string" && value.length > 0 && value.length <= max ? value : null;
}

export function ebayInbound(keys: PublicKeys): InboundPort {
  return {
    acceptedStatus: 204,

    async authenticate(raw: RawInbound, conn: ConnectionContext): Promise<Verification> {
      if (raw.method === "GET") {
        const code = new URL(raw.url).searchParams.get("challenge_code");
        if (!code || code.length > 512) return refuse("a GET without challenge_code");
        const endpoint = endpointUrl(conn.id);
        return {
          ok: "answer",
          status: 200,
          contentType: "application/json",
          body: JSON.stringify({
            challengeResponse: challengeResponse(code, ebayConfig().verificationToken, endpoint),
          }),
        };
      }
      if (raw.method !== "POST") return refuse(`method ${raw.method}`);
      const header = decodeSignatureHeader(raw.headers.get("x-ebay-signature"));
      if (!header) return refuse("missing or malformed X-EBAY-SIGNATURE");
      const key = await keys.get(conn, header.kid);
      if (!key) return refuse(`unknown signing key ${header.kid}`);
      if (!verifySignature(raw.body, header, key)) {
        log({ connectionId: conn.id, kid: header.kid }).warn(
          "eBay notification signature does not verify",
        );
        return refuse("signature does not verify");
      }
      return { ok: true };
    },

    envelope(raw: RawInbound): DeliveryEnvelope | string {
      let body: unknown;
      try {
        body = JSON.parse(raw.body);
      } catch {
        return "malformed JSON body";
      }
      const b = body as {
        metadata?: { topic?: unknown };
        notification?: { notificationId?: unknown; eventDate?: unknown };
      } | null;
      const topic = text(b?.metadata?.topic, 100);
      if (!topic) return "missing metadata.topic";
      const notificationId = text(b?.notification?.notificationId, 255);
      if (!notificationId) return "missing notification.notificationId";
      const eventDate = text(b?.notification?.eventDate, 64);
      const ms = eventDate ? Date.parse(eventDate) : NaN;
      const occurredAt =
        Number.isNaN(ms) || new Date(ms).getUTCFullYear() > 9999 || ms < 0 ? null : new Date(ms);
      if (eventDate && !occurredAt) return "notification.eventDate is not a valid timestamp";
      return {
        accountRef: null,
        topic,
        eventId: notificationId,
        deliveryId: notificationId,
        occurredAt,
      };
    },

    verify(): boolean {
      // eBay signs with ECDSA (authenticate), never with a shared secret.
      return false;
    },

    check(topic: string, payload: unknown): PayloadCheck {
      if (!isEbayTopic(topic)) return { ok: false, reason: `topic ${topic} is not handled` };
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
      const data = parsed.data;
      const resourceId =
        topic === TOPICS.orderConfirmation
          ? (data as OrderConfirmation).notification.data.orderId
          : topic === TOPICS.orderSnapshot
            ? (data as { order: { orderId: string } }).order.orderId
            : topic === TOPICS.level
              ? (data as EbayLevel).level.sku
              : null;
      return { ok: true, payload: data, resourceId };
    },

    translate(connectionId: string, topic: string, payload: unknown): InboundMeaning {
      if (!isEbayTopic(topic)) return { kind: "ignored", reason: `unknown topic ${topic}` };
      switch (topic) {
        case TOPICS.orderConfirmation: {
          const n = (payload as OrderConfirmation).notification;
          if (n.notificationId.startsWith("test_"))
            return { kind: "ignored", reason: "eBay test notification (mocked payload)" };
          return { kind: "order_reference", orderId: n.data.orderId };
        }
        case TOPICS.accountDeletion: {
          const n = (payload as AccountDeletion).notification;
          if (n.notificationId.startsWith("test_"))
            return { kind: "ignored", reason: "eBay test notification (mocked payload)" };
          return { kind: "account_deleted", accountRefSha256: n.data.userIdSha256 };
        }
        case TOPICS.orderSnapshot: {
          const { order } = payload as { order: Parameters<typeof orderOperations>[1] };
          return { kind: "ledger", operations: orderOperations(connectionId, order) };
        }
        case TOPICS.level: {
          const { level } = payload as EbayLevel;
          return {
            kind: "level",
            level: {
              remoteRef: level.sku,
              remoteLocationRef: SHIP_TO_HOME_LOCATION,
              quantity: level.quantity,
              at: new Date(level.at),
              precise: true,
            },
          };
        }
      }
    },
  };
}
