/**
 * Inbound deliveries, channel-neutral: who a delivery is for (every connection that is this
 * account, with the secret it signs with), storing it as a durable receipt and enqueuing its
 * ingest, recording a refused one for support, and settling a level observation in the request.
 */
import type { ChannelKind, LevelObservation } from "../../channels/channel-adapter";
import { adapterFor } from "../../channels/registry.server";
import { open } from "../../lib/credentials.server";
import { isDatabaseUnavailable } from "../../lib/data-errors";
import * as connections from "../../repositories/connections.server";
import * as receipts from "../../repositories/receipts.server";
import { observeLevel, type LevelOutcome } from "../ingest/observe-level.server";
import type { LedgerOperation } from "../../domain/operations";
import { settleUnchangedDelivery } from "../ingest/noop-snapshot.server";
import { applyNowOrEnqueue, orderAtWork, orderWorkSettled } from "./apply-now.server";
import { databaseOutageKnown } from "./outage.server";
import { z } from "zod";

export type DeliveryTarget = {
  connectionId: string;
  shopId: string;
  role: "source" | "sales";
  active: boolean;
  /** The secret this connection's deliveries are signed with, when not the app's own. */
  ownSecret: string | null;
};

const ZSigningSecret = z.object({ webhookSecret: z.string().min(1).optional() }).loose();
const targetCache = new Map<
  string,
  { targets: DeliveryTarget[]; until: number; staleUntil: number }
>();
/** Known accounts are cached for a moment (hundreds of deliveries a second name the same few). */
const TARGET_TTL_MS = 2_000;
/**
 * While the database is unreachable, an account seen this recently is still known: its
 * deliveries are verified against the secrets last read and held in the spool (decision 0023).
 */
const STALE_TARGET_TTL_MS = 30 * 60_000;
const MAX_CACHED = 10_000;

/** Every connection of any shop that is this account on this channel (usually exactly one). */
export async function deliveryTargets(
  kind: ChannelKind,
  accountRef: string,
): Promise<DeliveryTarget[]> {
  const key = `${kind}|${accountRef}`;
  const cached = targetCache.get(key);
  if (cached && cached.until > Date.now()) return cached.targets;
  // During a known outage a store seen recently is not looked up (decision 0023).
  if (cached && cached.staleUntil > Date.now() && databaseOutageKnown()) return cached.targets;
  let rows: Awaited<ReturnType<typeof connections.connectionsForAccount>>;
  try {
    rows = await connections.connectionsForAccount(kind, accountRef);
  } catch (error) {
    if (cached && cached.staleUntil > Date.now() && isDatabaseUnavailable(error))
      return cached.targets;
    throw error;
  }
  const targets = rows.map((r) => ({
    connectionId: r.connectionId,
    shopId: r.shopId,
    role: r.role,
    active: r.shopStatus === "active",
    ownSecret:
      r.role === "sales" ? (open(r.credentials, ZSigningSecret)?.webhookSecret ?? null) : null,
  }));
  // Unknown accounts are not cached: the cache cannot be grown by anonymous requests.
  if (targets.length > 0) {
    if (targetCache.size >= MAX_CACHED) targetCache.clear();
    const now = Date.now();
    targetCache.set(key, {
      targets,
      until: now + TARGET_TTL_MS,
      staleUntil: now + STALE_TARGET_TTL_MS,
    });
  }
  return targets;
}

export type StoredDelivery =
  { replayed: true } | { replayed: false; receiptId: bigint; duplicate: boolean };

/**
 * Stores a verified, checked delivery for one connection, then applies it (the web's fast lane)
 * or enqueues its ingest. A duplicate whose first delivery is still pending is handed on again
 * (applying or enqueuing twice is harmless). Throws when the receipt cannot be stored (the
 * caller answers 5xx so the channel retries).
 */
export async function storeDelivery(input: {
  target: DeliveryTarget;
  /** Every target of the account (replays with a swapped account header are refused). */
  sameAccount: DeliveryTarget[];
  topic: string;
  eventId: string;
  deliveryId: string | null;
  resourceId: string | null;
  occurredAt: Date | null;
  payload: unknown;
  /** The order the delivery is about, when it is one (a later delivery of it may wait). */
  orderId?: string | null;
  /** When the delivery was received, if not now (drained from the spool). */
  receivedAt?: Date;
}): Promise<StoredDelivery> {
  const handOver = input.orderId ? orderAtWork(input.target.connectionId, input.orderId) : null;
  let work: Promise<unknown> | null = null;
  try {
    const stored = await receipts.storeReceipt({
      shopId: input.target.shopId,
      connectionId: input.target.connectionId,
      topic: input.topic,
      eventId: input.eventId,
      webhookId: input.deliveryId,
      resourceId: input.resourceId,
      triggeredAt: input.occurredAt,
      payload: input.payload,
      sameAccount: input.sameAccount.map((t) => t.connectionId),
      receivedAt: input.receivedAt,
    });
    if (stored.replayed) return stored;
    if (!stored.duplicate || stored.status === "pending") {
      const loaded = stored.duplicate ? undefined : stored.loaded;
      work =
        (await applyNowOrEnqueue(stored.id, input.target.shopId, { stored: loaded }))?.work ?? null;
    }
    return { replayed: false, receiptId: stored.id, duplicate: stored.duplicate };
  } finally {
    handOver?.(work);
  }
}

/**
 * An order delivery that changes nothing, settled without storing it (false: store it). A
 * delivery of the same order that this process is storing or applying right now is waited for
 * first (up to `waitMs`): orders/updated arrives right behind orders/create, before its lines
 * are committed.
 */
export async function settleUnchangedOrder(
  target: DeliveryTarget,
  orderId: string,
  operations: LedgerOperation[],
  waitMs = 300,
): Promise<boolean> {
  await orderWorkSettled(target.connectionId, orderId, waitMs);
  return settleUnchangedDelivery(target, operations);
}

/** A signed delivery StockGuard refused (schema, topic): kept for support, never applied. */
export async function recordRefusedDelivery(input: {
  accountRef: string;
  shopId: string | null;
  topic: string;
  reason: string;
  deliveryId: string | null;
  eventId: string | null;
}): Promise<void> {
  await receipts.recordRejected({
    shopDomain: input.accountRef,
    shopId: input.shopId,
    topic: input.topic,
    reason: input.reason,
    webhookId: input.deliveryId,
    eventId: input.eventId,
  });
}

/** Settles a level update in the request (decision 0004): an echo, an observation, a read. */
export async function observeLevelNow(
  target: DeliveryTarget,
  level: LevelObservation,
): Promise<LevelOutcome> {
  return observeLevel({ id: target.connectionId, role: target.role }, level, new Date());
}

/** The inbound port of a channel kind (signature, envelope, payload rules). */
export function inboundPort(kind: ChannelKind) {
  return adapterFor(kind).inbound;
}
