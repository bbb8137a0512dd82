import { ChannelAuthError, ChannelPermanentError } from "../../channels/errors";
import { env } from "../../env.server";
import { db, sql } from "../../lib/sql.server";
import { log } from "../../logger.server";
import { enqueueDeferredPush, enqueuePush, enqueueSafely } from "../../queues/jobs.server";
import * as push from "../../repositories/push.server";
import {
  acquireConnectionLock,
  ConnectionBusyError,
  forgetToken,
  shopifyAdapter,
  toContext,
} from "../channels.server";
import { pushSalesConnection, type PushOutcome } from "./push-sales.server";
import { pushSourceConnection } from "./push-source.server";

export type PushResult = PushOutcome | { skipped: string };

/**
 * The push job: one connection, its dirty listings, the adapter for its channel. Follow-ups are
 * scheduled here: another round when more than a batch was dirty, and a delayed run when a
 * write had to wait for an unexplained channel drop to settle.
 */
export async function pushConnection(
  connectionId: string,
  options: { now?: () => Date; deferredCheck?: boolean } = {},
): Promise<PushResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = Date.now();
  const row = await push.loadConnection(db(), connectionId);
  if (!row) return { skipped: "connection removed" };
  if (row.shopStatus !== "active" || !row.syncEnabled)
    return { skipped: "sync disabled for the shop" };
  if (row.status !== "active") return { skipped: `connection ${row.status}` };
  if (row.kind !== "shopify") throw new ChannelPermanentError(`no adapter for ${row.kind} yet`);
  const conn = toContext(row);
  const logger = log({ shop: row.shopDomain, connectionId, role: row.role });
  // Two pushes of one connection never run at once (the coalesced job and a deferred re-check
  // could otherwise overlap): a short Redis lock, renewed while held (acquireConnectionLock).
  const release = await acquireConnectionLock(connectionId);
  if (!release) {
    // A deferred re-check that finds a push running has nothing to add: that push either started
    // after this re-check was due (and raises what has settled) or defers the same listings and
    // schedules its own re-check; if it fails, its retry and the sweeper cover them. Waiting for
    // the lock instead made thousands of such jobs spin at load (bench, 10,000 SKUs).
    if (options.deferredCheck) return { skipped: "a push of this connection is running" };
    throw new ConnectionBusyError(connectionId);
  }
  let outcome: PushOutcome;
  try {
    outcome =
      row.role === "source"
        ? await pushSourceConnection(db(), conn, shopifyAdapter(), { now })
        : await pushSalesConnection(db(), conn, shopifyAdapter(), {
            now,
            settleMs: env().PUSH_SETTLE_MS,
          });
  } catch (error) {
    if (error instanceof ChannelAuthError) {
      forgetToken(connectionId);
      await db().execute(sql`
        UPDATE connection SET status = 'error', status_reason = ${error.message} WHERE id = ${connectionId}::uuid`);
      await push.recordConnectionFailure(db(), {
        shopId: row.shopId,
        connectionId,
        kind: "auth",
        reason: error.message,
      });
      logger.error(
        { err: error.message },
        "channel rejected our credentials; connection needs attention",
      );
    } else if (error instanceof ChannelPermanentError) {
      await push.recordConnectionFailure(db(), {
        shopId: row.shopId,
        connectionId,
        kind: "push_rejected",
        reason: error.message,
      });
    }
    throw error;
  } finally {
    await release();
  }
  await push.touchConnectionPush(db(), connectionId, now());
  if (outcome.more) await enqueueSafely("push", () => enqueuePush(connectionId, 0));
  if (outcome.deferredUntil) {
    const delay = Math.max(50, outcome.deferredUntil.getTime() - now().getTime());
    await enqueueSafely("push", () => enqueueDeferredPush(connectionId, delay));
  }
  if (outcome.wrote + outcome.stale + outcome.rejected > 0)
    logger.debug({ ...outcome, ms: Date.now() - startedAt }, "pushed");
  return outcome;
}
