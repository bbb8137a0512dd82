/**
 * The source outbox: physical changes the source store has not seen yet (a marketplace shipment
 * leaving `reserved`, a return entering `quality_control`), claimed into batches with a stored
 * key before they are sent, so a resend after a crash is exactly-once at the channel.
 */
import { db, sql } from "../lib/sql.server";

export async function markAdjustmentsWritten(ids: bigint[]): Promise<void> {
  if (ids.length === 0) return;
  await db().execute(sql`
    UPDATE source_adjustment SET status = 'written', written_at = now(), attempts = attempts + 1
     WHERE id = ANY(${ids}::bigint[]) AND status IN ('pending', 'sending')`);
}

/** Pending rows join batch `batchKey` before the call that carries them is sent. */
export async function claimAdjustments(ids: bigint[], batchKey: string): Promise<bigint[]> {
  if (ids.length === 0) return [];
  const rows = await db().query<{ id: bigint }>(sql`
    UPDATE source_adjustment SET status = 'sending', batch_key = ${batchKey}, attempts = attempts + 1
     WHERE id = ANY(${ids}::bigint[]) AND status = 'pending'
    RETURNING id`);
  return rows.map((r) => r.id);
}

/** Batches sent but never confirmed (the worker died, the response was lost), to resend as-is. */
export async function unconfirmedBatches(connectionId: string): Promise<
  {
    batchKey: string;
    stateName: string;
    /** The reason the batch was sent with (null: the default of the state). */
    reason: string | null;
    ids: bigint[];
    changes: { remoteRef: string; remoteLocationRef: string; delta: number; firstId: string }[];
  }[]
> {
  const rows = await db().query<{
    batchKey: string;
    stateName: string;
    reason: string | null;
    id: bigint;
    delta: number;
    remoteRef: string;
    remoteLocationRef: string;
  }>(sql`
    SELECT a.batch_key AS "batchKey", CASE WHEN a.delta < 0 THEN 'available' ELSE a.state_name END AS "stateName",
           a.reason, a.id, a.delta, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef"
      FROM source_adjustment a
      JOIN listing l ON l.connection_id = a.connection_id AND l.source_location_id = a.location_id
      JOIN listing_component c ON c.listing_id = l.id AND c.item_id = a.item_id
     WHERE a.connection_id = ${connectionId}::uuid AND a.status = 'sending'
     ORDER BY a.batch_key, a.id`);
  const batches = new Map<
    string,
    {
      batchKey: string;
      stateName: string;
      reason: string | null;
      ids: bigint[];
      changes: Map<
        string,
        { remoteRef: string; remoteLocationRef: string; delta: number; firstId: string }
      >;
    }
  >();
  for (const r of rows) {
    let b = batches.get(r.batchKey);
    if (!b)
      batches.set(
        r.batchKey,
        (b = {
          batchKey: r.batchKey,
          stateName: r.stateName,
          reason: r.reason,
          ids: [],
          changes: new Map(),
        }),
      );
    b.ids.push(r.id);
    const level = `${r.remoteRef}|${r.remoteLocationRef}`;
    const change = b.changes.get(level) ?? {
      remoteRef: r.remoteRef,
      remoteLocationRef: r.remoteLocationRef,
      delta: 0,
      firstId: r.id.toString(),
    };
    change.delta += r.delta;
    b.changes.set(level, change);
  }
  return [...batches.values()].map((b) => ({ ...b, changes: [...b.changes.values()] }));
}

export async function markAdjustmentsFailed(ids: bigint[], error: string): Promise<void> {
  if (ids.length === 0) return;
  await db().execute(sql`
    UPDATE source_adjustment SET attempts = attempts + 1, error = ${error} WHERE id = ANY(${ids}::bigint[])`);
}
