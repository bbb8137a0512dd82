/**
 * Housekeeping on the maintenance queue (run by schedulers, see workers/schedules.ts): the
 * sweeper that re-enqueues lost work, retention, scheduled reconciliation, catalog imports and
 * source-level reads.
 */
import { metrics } from "../lib/metrics.server";
import { log } from "../logger.server";
import type { MaintenanceJob } from "../queues/definitions";
import {
  enqueueMaintenance,
  enqueuePush,
  enqueuePushes,
  enqueueReconcile,
  enqueueSafely,
  reviveIngest,
} from "../queues/jobs.server";
import * as connections from "../repositories/connections.server";
import * as holds from "../repositories/holds.server";
import * as listings from "../repositories/listings.server";
import * as receipts from "../repositories/receipts.server";
import { runImport } from "./catalog/import-runs.server";
import { schedulePolls } from "./inbound/poll.server";
import { readSourceLevels } from "./ingest/read-source-levels.server";
import { evaluateAlerts } from "./alerts/evaluate.server";
import { settleIncidents } from "./incidents/settle.server";
import { checkLowStockThrottled } from "./low-stock.server";
import { applyLedgerEvent } from "./ledger/apply-event.server";
import { deliverFlowTriggers, sweepFlowTriggers } from "./flow/triggers.server";
import { keepRecommendationsApplied } from "./recommendations.server";

/** Receipts older than this and still pending are swept back into the ingest queue. */
export const SWEEP_AFTER_MS = 10_000;
/** Dirty listings older than this get their push re-enqueued (a lost push job). */
export const STALE_DIRTY_MS = 10_000;
/**
 * A receipt whose ingest keeps failing is revived at most this many times (each revival retries
 * its job ~30 times over ~2.5 min), then failed with an alert: a poison event must not retry
 * forever or crowd out real ones.
 */
export const MAX_REVIVALS = 20;

export async function runMaintenance(job: MaintenanceJob): Promise<unknown> {
  switch (job.task) {
    case "sweep_receipts":
      return sweep();
    case "prune":
      return prune();
    case "keep_recommendations":
      return keepRecommendationsApplied();
    case "schedule_reconcile":
      return scheduleReconcile();
    case "import_catalog":
      return runImport(job.connectionId, job.reason ?? "refresh");
    case "read_source_levels":
      return readSourceLevels(job.connectionId, job.attempt);
    case "schedule_polls":
      return schedulePolls();
    case "deliver_flow_triggers":
      return deliverFlowTriggers(job.connectionId);
  }
}

/**
 * The durability net: re-enqueues receipts that were stored but never applied (Redis lost the
 * job, a worker was killed), pushes of listings that stayed dirty, pending outbox writes, and
 * source reads whose job was lost.
 */
export async function sweep(
  options: {
    /** Redis came back without its data: every job is gone, so nothing pending is in flight. */
    redisLost?: boolean;
  } = {},
): Promise<{
  receipts: number;
  connections: number;
  abandoned: number;
}> {
  const waitMs = options.redisLost ? 0 : SWEEP_AFTER_MS;
  const abandoned = await receipts.abandonOverRevived(MAX_REVIVALS);
  for (const receipt of abandoned) {
    metrics().receiptsAbandoned.inc();
    await connections.recordConnectionFailure({
      shopId: receipt.shopId,
      connectionId: receipt.connectionId,
      kind: "receipt_abandoned",
      reason: `a ${receipt.topic} event (receipt ${receipt.id}) could not be applied after ${MAX_REVIVALS} revivals; it needs attention`,
      details: { receiptId: receipt.id.toString(), topic: receipt.topic },
    });
    log({ receiptId: receipt.id.toString(), topic: receipt.topic }).error(
      "receipt abandoned after repeated failures",
    );
  }
  const stuck = await receipts.reviveStalePending(waitMs, 1_000, MAX_REVIVALS);
  for (const { id, shopId } of stuck) await reviveIngest(id, shopId);
  const stale = await listings.connectionsWithStaleWork(options.redisLost ? 0 : STALE_DIRTY_MS);
  for (const connectionId of stale) {
    await listings.markOutboxListingsDirty(connectionId, new Date());
    await enqueuePush(connectionId, 0);
  }
  await releaseExpiredHolds();
  await settleAndAlert();
  for (const connectionId of await listings.connectionsWithStaleFlags())
    await enqueueMaintenance({ task: "read_source_levels", connectionId, attempt: 5 });
  await sweepFlowTriggers();
  if (stuck.length + stale.length > 0)
    log({ receipts: stuck.length, connections: stale.length }).info("sweeper re-enqueued work");
  return { receipts: stuck.length, connections: stale.length, abandoned: abandoned.length };
}

/**
 * Shortfalls whose items have settled become confirmed incidents (or are explained away), then
 * alert conditions are evaluated. Neither may stop the sweeper's durability work.
 */
async function settleAndAlert(): Promise<void> {
  try {
    await settleIncidents();
  } catch (error) {
    log({ err: error }).error("settling incidents failed");
  }
  try {
    await evaluateAlerts();
  } catch (error) {
    log({ err: error }).error("evaluating alerts failed");
  }
  try {
    await checkLowStockThrottled();
  } catch (error) {
    log({ err: error }).error("checking low stock failed");
  }
}

/** Retention: traces and processed receipts are operational data, not the ledger. */
export async function prune(): Promise<{ traces: number; receipts: number }> {
  return { traces: await listings.pruneTraces(), receipts: await receipts.pruneReceipts() };
}

export async function scheduleReconcile(): Promise<{ connections: number }> {
  const ids = await connections.reconcilableConnections();
  for (const id of ids) await enqueueReconcile({ connectionId: id, reason: "schedule" });
  return { connections: ids.length };
}

/**
 * Provisional holds nothing explained in time (no order arrived for a channel's drop: a manual
 * edit there, or an order lost for good) are released, and the channels corrected (the hub is
 * the arbiter).
 */
export async function releaseExpiredHolds(now = new Date()): Promise<number> {
  const expired = await holds.expiredHolds(now, 500);
  const byShop = new Map<string, string[]>();
  let released = 0;
  for (const h of expired) byShop.set(h.shopId, [...(byShop.get(h.shopId) ?? []), h.listingId]);
  for (const [shopId, listingIds] of byShop) {
    const result = await applyLedgerEvent({
      shopId,
      actor: "stockguard:hold-expiry",
      operations: listingIds.map((listingId) => ({
        type: "hold" as const,
        key: `release/${listingId}`,
        listingId,
        change: { kind: "release" as const, expiredBy: now.toISOString() },
      })),
    });
    released += result.holdUnitsReleased ?? 0;
    await enqueueSafely("push", () =>
      enqueuePushes(result.changedListings.map((l) => l.connectionId)),
    );
  }
  if (released > 0) metrics().holdUnitsReleased.inc(released);
  // Each one kept every other channel a unit low for the whole settle window: worth a look.
  if (expired.length > 0)
    log({
      holds: expired.length,
      listingIds: expired.slice(0, 20).map((h) => h.listingId),
      units: released,
    }).info("provisional holds released");
  return expired.length;
}
