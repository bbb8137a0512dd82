import { db, sql } from "../lib/sql.server";
import { log } from "../logger.server";
import type { MaintenanceJob } from "../queues/definitions";
import {
  reviveIngest,
  enqueueMaintenance,
  enqueuePush,
  enqueueReconcile,
  enqueueSafely,
} from "../queues/jobs.server";
import { stalePendingReceipts } from "../repositories/receipts.server";
import * as push from "../repositories/push.server";
import { importCatalog } from "./catalog/import-catalog.server";
import { shopifyAdapter, toContext } from "./channels.server";
import { readSourceLevels } from "./ingest/read-source-levels.server";

/** Receipts older than this and still pending are swept back into the ingest queue. */
export const SWEEP_AFTER_MS = 10_000;
/** Dirty listings older than this get their push re-enqueued (a lost push job). */
export const STALE_DIRTY_MS = 10_000;

/** Housekeeping tasks run on the maintenance queue (and by schedulers, see workers/schedules.ts). */
export async function runMaintenance(job: MaintenanceJob): Promise<unknown> {
  switch (job.task) {
    case "sweep_receipts":
      return sweep();
    case "prune":
      return prune();
    case "schedule_reconcile":
      return scheduleReconcile();
    case "import_catalog": {
      const row = await push.loadConnection(db(), job.connectionId);
      if (!row || row.shopStatus !== "active" || row.kind !== "shopify") return { skipped: true };
      const summary = await importCatalog(toContext(row), shopifyAdapter());
      await enqueueSafely("push", () => enqueuePush(job.connectionId));
      return summary;
    }
    case "read_source_levels":
      return readSourceLevels(job.connectionId, job.attempt);
  }
}

/**
 * The durability net: re-enqueues receipts that were stored but never applied (Redis lost the
 * job, a worker was killed), pushes of listings that stayed dirty, and pending outbox writes.
 */
export async function sweep(): Promise<{ receipts: number; connections: number }> {
  const receipts = await stalePendingReceipts(db(), SWEEP_AFTER_MS, 1_000);
  for (const id of receipts) await reviveIngest(id);
  const stale = await db().query<{ connectionId: string }>(sql`
    SELECT DISTINCT l.connection_id AS "connectionId" FROM listing l
      JOIN connection c ON c.id = l.connection_id JOIN shop s ON s.id = c.shop_id
     WHERE l.published_version > l.pushed_version AND l.status = 'active'
       AND l.dirty_since < now() - make_interval(secs => ${STALE_DIRTY_MS / 1000})
       AND c.status = 'active' AND s.status = 'active' AND s.sync_enabled
    UNION
    SELECT DISTINCT a.connection_id FROM source_adjustment a
     WHERE a.status IN ('pending', 'sending') AND a.created_at < now() - make_interval(secs => ${STALE_DIRTY_MS / 1000})`);
  for (const { connectionId } of stale) {
    await push.markDirty(
      db(),
      (
        await db().query<{ id: string }>(sql`
      SELECT l.id FROM listing l JOIN listing_component c ON c.listing_id = l.id
        JOIN source_adjustment a ON a.item_id = c.item_id AND a.location_id = l.source_location_id
       WHERE l.connection_id = ${connectionId}::uuid AND a.status IN ('pending', 'sending')`)
      ).map((r) => r.id),
      new Date(),
    );
    await enqueuePush(connectionId, 0);
  }
  // Source levels flagged by a webhook whose read job was lost.
  const flagged = await db().query<{ connectionId: string }>(sql`
    SELECT DISTINCT connection_id AS "connectionId" FROM listing
     WHERE remote_source = 'webhook' AND source_location_id IS NOT NULL
       AND remote_observed_at < now() - interval '10 seconds'`);
  for (const { connectionId } of flagged)
    await enqueueMaintenance({ task: "read_source_levels", connectionId, attempt: 5 });
  if (receipts.length + stale.length > 0)
    log({ receipts: receipts.length, connections: stale.length }).info("sweeper re-enqueued work");
  return { receipts: receipts.length, connections: stale.length };
}

/** Retention: traces and processed receipts are operational data, not the ledger. */
export async function prune(): Promise<{ traces: number; receipts: number }> {
  const traces = await db().execute(
    sql`DELETE FROM push_trace WHERE written_at < now() - interval '7 days'`,
  );
  const receipts = await db().execute(sql`
    DELETE FROM receipt WHERE status IN ('applied', 'ignored') AND received_at < now() - interval '30 days'
       AND NOT EXISTS (SELECT 1 FROM movement m WHERE m.receipt_id = receipt.id AND m.created_at > now() - interval '30 days')`);
  return { traces, receipts };
}

export async function scheduleReconcile(): Promise<{ connections: number }> {
  const rows = await db().query<{ id: string }>(sql`
    SELECT c.id FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.status = 'active' AND s.status = 'active' AND s.sync_enabled AND c.kind = 'shopify'`);
  for (const { id } of rows) await enqueueReconcile({ connectionId: id, reason: "schedule" });
  return { connections: rows.length };
}
