import { db, sql } from "../../lib/sql.server";
import { log } from "../../logger.server";
import { enqueuePush, enqueueSafely } from "../../queues/jobs.server";
import * as push from "../../repositories/push.server";
import { shopifyAdapter, toContext } from "../channels.server";
import { readSourceLevels } from "../ingest/read-source-levels.server";

export type ReconcileSummary = {
  listings: number;
  drift: number;
  repaired: number;
  skipped?: string;
};

/**
 * Reconciliation: read what the channel shows for every listing, compare it with what should be
 * published, record each difference with its likely cause, and repair it through the normal push
 * (compare-and-set, coalesced). On the source store the physical on_hand is compared with the
 * ledger too (a count through the same path as a webhook-triggered read).
 */
export async function reconcileConnection(
  connectionId: string,
  reason: string,
): Promise<ReconcileSummary> {
  const row = await push.loadConnection(db(), connectionId);
  if (!row || row.shopStatus !== "active" || row.status !== "active")
    return { listings: 0, drift: 0, repaired: 0, skipped: "inactive" };
  const conn = toContext(row);
  const adapter = shopifyAdapter();
  const logger = log({ shop: row.shopDomain, connectionId, reason });
  const summary: ReconcileSummary = { listings: 0, drift: 0, repaired: 0 };
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const listings = await db().query<{
      id: string;
      remoteRef: string;
      remoteLocationRef: string;
      published: number;
      pushed: number | null;
      dirty: boolean;
    }>(sql`
      SELECT id, remote_ref AS "remoteRef", remote_location_ref AS "remoteLocationRef",
             published_quantity AS published, pushed_quantity AS pushed, published_version > pushed_version AS dirty
        FROM listing WHERE connection_id = ${connectionId}::uuid AND status = 'active' AND id > ${after}::uuid
       ORDER BY id LIMIT 250`);
    if (listings.length === 0) break;
    after = listings[listings.length - 1]!.id;
    summary.listings += listings.length;
    const reads = await adapter.readQuantities(conn, listings);
    const drifted: string[] = [];
    for (const l of listings) {
      const read = reads.find(
        (r) => r.remoteRef === l.remoteRef && r.remoteLocationRef === l.remoteLocationRef,
      );
      if (!read) continue;
      await push.recordRemote(db(), {
        listingId: l.id,
        quantity: read.quantity,
        state: read.states,
        source: "read",
        at: read.observedAt,
      });
      if (read.quantity === l.published || l.dirty) continue;
      const cause =
        read.quantity === null
          ? "not_stocked_at_location"
          : l.pushed === null
            ? "never_written"
            : read.quantity === l.pushed
              ? "published_change_not_pushed"
              : "changed_on_channel";
      await db().execute(sql`
        INSERT INTO drift_record (shop_id, connection_id, listing_id, expected, observed, cause, repaired)
        VALUES (${row.shopId}::uuid, ${connectionId}::uuid, ${l.id}::uuid, ${l.published}, ${read.quantity ?? 0}, ${cause}, ${read.quantity !== null})`);
      if (read.quantity !== null) drifted.push(l.id);
      summary.drift++;
    }
    if (drifted.length > 0) {
      await push.markDirty(db(), drifted, new Date());
      summary.repaired += drifted.length;
    }
  }
  if (row.role === "source") {
    // Physical stock: every level goes through the same guarded comparison as a webhook read
    // (postponed while the store's own order events are in flight).
    await db().execute(sql`
      UPDATE listing SET remote_source = 'webhook'
       WHERE connection_id = ${connectionId}::uuid AND source_location_id IS NOT NULL`);
    await readSourceLevels(connectionId, 0);
  }
  await db().execute(
    sql`UPDATE connection SET last_reconciled_at = now() WHERE id = ${connectionId}::uuid`,
  );
  if (summary.repaired > 0) await enqueueSafely("push", () => enqueuePush(connectionId));
  if (summary.drift > 0) logger.warn(summary, "drift found and repaired");
  return summary;
}
