/**
 * What channels do not push, pulled: each connection whose adapter polls (orders changed since
 * its cursor, cancellations) every `pollIntervalMs`, and channels' shared notification queues
 * (Amazon SQS). Every pulled item is stored as a receipt keyed by the channel's own id (so a
 * message seen twice is applied once) and only then acknowledged, then applied by ingest like a
 * pushed delivery.
 */
import type { ChannelKind, PulledDelivery } from "../../channels/channel-adapter";
import { adapterFor, isSupportedKind } from "../../channels/registry.server";
import { log } from "../../logger.server";
import {
  enqueueIngest,
  enqueuePoll,
  enqueueQueueReceive,
  enqueueSafely,
} from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import * as receipts from "../../repositories/receipts.server";
import { pauseOnAuthError } from "../push/push-connection.server";

const POLLING_KINDS: ChannelKind[] = ["amazon", "ebay", "walmart"];

/** Stores pulled deliveries of one connection; returns how many were new. */
async function storePulled(
  connection: { id: string; shopId: string },
  deliveries: PulledDelivery[],
): Promise<number> {
  let fresh = 0;
  for (const d of deliveries) {
    const stored = await receipts.storeReceipt({
      shopId: connection.shopId,
      connectionId: connection.id,
      topic: d.topic,
      eventId: d.eventId,
      webhookId: null,
      resourceId: d.resourceId ?? null,
      triggeredAt: d.occurredAt,
      payload: d.payload,
      sameAccount: [connection.id],
    });
    if (stored.replayed) continue;
    if (!stored.duplicate || stored.status === "pending") {
      if (!stored.duplicate) fresh++;
      await enqueueSafely("ingest", () => enqueueIngest(stored.id, connection.shopId));
    }
  }
  return fresh;
}

export async function pollConnection(connectionId: string): Promise<{ stored: number }> {
  const row = await connections.loadConnection(connectionId);
  if (!row || row.shopStatus !== "active" || row.status !== "active") return { stored: 0 };
  const adapter = adapterFor(row.kind);
  if (!adapter.poll) return { stored: 0 };
  const cursor = await connections.pollCursor(connectionId);
  let result: Awaited<ReturnType<NonNullable<typeof adapter.poll>>>;
  try {
    result = await adapter.poll(connections.toContext(row), cursor);
  } catch (error) {
    await pauseOnAuthError(row, adapter, error);
    throw error;
  }
  const stored = await storePulled(row, result.deliveries);
  await connections.savePollCursor(connectionId, result.cursor);
  if (stored > 0) log({ connectionId, stored }).info("poll found events the channel did not push");
  return { stored };
}

/** One receive from a channel's shared queue; messages are deleted only once stored. */
export async function receiveQueue(
  kind: ChannelKind,
): Promise<{ received: number; more: boolean }> {
  const adapter = adapterFor(kind);
  if (!adapter.receiveQueue) return { received: 0, more: false };
  const active = await connections.activeConnectionsOfKind(kind);
  if (active.length === 0) return { received: 0, more: false };
  const batch = await adapter.receiveQueue(active[0]!.settings);
  if (batch.messages.length === 0) return { received: 0, more: false };
  const owners = await connections.connectionsByAccount(kind, [
    ...new Set(batch.messages.map((m) => m.accountRef)),
  ]);
  // Stored side by side (each is keyed by its own event id and applied in any order); all of
  // them before any is acknowledged. A message for an account nobody connects (or that left) is
  // acknowledged and dropped.
  await Promise.all(
    batch.messages.map(async (message) => {
      const targets = owners.filter((o) => o.accountRef === message.accountRef && o.active);
      for (const target of targets) await storePulled(target, [message]);
    }),
  );
  await batch.acknowledge(batch.messages.map((m) => m.ackToken));
  return { received: batch.messages.length, more: true };
}

/** How long one receive job keeps receiving while messages keep coming. */
const RECEIVE_JOB_MS = 10_000;

/**
 * The queue is read continuously while connections exist: each receive long-polls briefly and
 * chains the next (one in flight per kind), so a notification is picked up within about a second.
 * While messages keep coming, one job receives again at once (up to RECEIVE_JOB_MS) rather than
 * paying a job's round trip between batches.
 */
export async function receiveQueueAndContinue(kind: ChannelKind): Promise<{ received: number }> {
  const until = Date.now() + RECEIVE_JOB_MS;
  let total = 0;
  let failed = true;
  try {
    for (;;) {
      const { received } = await receiveQueue(kind);
      total += received;
      if (received === 0 || Date.now() >= until) {
        failed = false;
        return { received: total };
      }
    }
  } finally {
    // After a failure (the queue unreachable, the channel not configured) the next receive
    // waits a little instead of failing in a tight loop.
    if ((await connections.activeConnectionsOfKind(kind)).length > 0)
      await enqueueSafely("queue", () => enqueueQueueReceive(kind, failed ? 5_000 : 0));
  }
}

/** Every few seconds: polls that are due, and a receive for every queue with connections. */
export async function schedulePolls(now = new Date()): Promise<{ polls: number; queues: number }> {
  let polls = 0;
  let queues = 0;
  for (const kind of POLLING_KINDS.filter(isSupportedKind)) {
    const adapter = adapterFor(kind);
    const active = await connections.activeConnectionsOfKind(kind);
    if (active.length === 0) continue;
    if (adapter.receiveQueue) {
      await enqueueQueueReceive(kind);
      queues++;
    }
    if (!adapter.poll) continue;
    const every = adapter.pollIntervalMs ?? 60_000;
    for (const c of active) {
      if (c.polledAt && now.getTime() - c.polledAt.getTime() < every) continue;
      await enqueuePoll(c.id);
      polls++;
    }
  }
  return { polls, queues };
}
