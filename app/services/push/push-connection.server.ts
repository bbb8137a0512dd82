/**
 * The push job: one connection, its dirty listings, the adapter for its channel kind. Follow-ups
 * are scheduled here: another round when more than a batch was dirty, and a delayed run when a
 * write had to wait for an unexplained channel drop to settle.
 */
import type { ChannelAdapter, ConnectionContext } from "../../channels/channel-adapter";
import { ChannelAuthError, ChannelPermanentError } from "../../channels/errors";
import { adapterFor } from "../../channels/registry.server";
import { acquireConnectionLock, ConnectionBusyError } from "../../lib/locks.server";
import { log } from "../../logger.server";
import {
  enqueueDeferredPush,
  enqueuePush,
  enqueueSafely,
  openPushWindow,
} from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import { recordChannelSyncFailed } from "../flow/triggers.server";
import { pushSalesConnection, type PushOutcome } from "./push-sales.server";
import { pushSourceConnection } from "./push-source.server";

export type PushResult = PushOutcome | { skipped: string };

export async function pushConnection(
  connectionId: string,
  options: { now?: () => Date; deferredCheck?: boolean } = {},
): Promise<PushResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = Date.now();
  const row = await connections.loadConnection(connectionId);
  if (!row) return { skipped: "connection removed" };
  if (row.shopStatus !== "active" || !row.syncEnabled)
    return { skipped: "sync disabled for the shop" };
  if (row.status !== "active") return { skipped: `connection ${row.status}` };
  const adapter = adapterFor(row.kind);
  const conn = connections.toContext(row);
  const logger = log({ shop: row.shopDomain, connectionId, role: row.role });
  // Two pushes of one connection never run at once (the coalesced job and a deferred re-check
  // could otherwise overlap): a short Redis lock, renewed while held.
  const release = await acquireConnectionLock(connectionId);
  if (!release) {
    // A deferred re-check that finds a push running has nothing to add: that push either started
    // after this re-check was due (and raises what has settled) or defers the same listings and
    // schedules its own re-check; if it fails, its retry and the sweeper cover them. Waiting for
    // the lock instead made thousands of such jobs spin at load (bench, 10,000 SKUs).
    if (options.deferredCheck) return { skipped: "a push of this connection is running" };
    throw new ConnectionBusyError(connectionId);
  }
  // Changes from now on wait for the window's end and share the next push (jobs.server).
  await openPushWindow(connectionId);
  let outcome: PushOutcome;
  try {
    outcome = await push(conn, adapter, now);
  } catch (error) {
    await recordFailure(conn, adapter, error);
    throw error;
  } finally {
    await release();
  }
  await connections.touchConnectionPush(connectionId, now());
  if (outcome.more) await enqueueSafely("push", () => enqueuePush(connectionId, 0));
  if (outcome.deferredUntil) {
    const delay = Math.max(50, outcome.deferredUntil.getTime() - now().getTime());
    await enqueueSafely("push", () => enqueueDeferredPush(connectionId, delay));
  }
  if (outcome.wrote + outcome.stale + outcome.rejected > 0)
    logger.debug({ ...outcome, ms: Date.now() - startedAt }, "pushed");
  return outcome;
}

function push(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  now: () => Date,
): Promise<PushOutcome> {
  if (conn.role === "source") {
    if (!adapter.source)
      throw new ChannelPermanentError(`${conn.kind} cannot hold a shop's physical stock`);
    return pushSourceConnection(conn, adapter, { now });
  }
  return pushSalesConnection(conn, adapter, { now });
}

/**
 * Credentials refused (by a push, a poll, a confirmation): the connection stops (status `error`
 * with the channel's reason, shown to the merchant) until it is connected again, instead of
 * failing every job. Returns whether it was an auth error.
 */
export async function pauseOnAuthError(
  conn: { id: string; shopId: string },
  adapter: ChannelAdapter,
  error: unknown,
): Promise<boolean> {
  if (!(error instanceof ChannelAuthError)) return false;
  adapter.forgetCredentials(conn.id);
  await connections.markConnectionError(conn.id, error.message);
  await connections.recordConnectionFailure({
    shopId: conn.shopId,
    connectionId: conn.id,
    kind: "auth",
    reason: error.message,
  });
  // Shopify Flow "Channel sync failed" (once per failing episode).
  await recordChannelSyncFailed({
    shopId: conn.shopId,
    connectionId: conn.id,
    reason: error.message,
  });
  log({ connectionId: conn.id }).error(
    { err: error.message },
    "channel rejected our credentials; connection needs attention",
  );
  return true;
}

/** Credentials refused → the connection needs attention; a permanent refusal is recorded. */
async function recordFailure(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  error: unknown,
): Promise<void> {
  if (await pauseOnAuthError(conn, adapter, error)) return;
  if (error instanceof ChannelPermanentError) {
    await connections.recordConnectionFailure({
      shopId: conn.shopId,
      connectionId: conn.id,
      kind: "push_rejected",
      reason: error.message,
    });
  }
}
