/**
 * Inbound receipts: every event stored before it is acknowledged, unique per connection and event
 * id, and the one place a receipt's status is written (pending → applied | ignored | failed).
 * Deliveries refused at the edge are recorded in `rejected_delivery` for support.
 */
import { db, sql, type SqlClient } from "../lib/sql.server";
import { CONNECTION_ROW, type ConnectionRow } from "./connections.server";

export type ReceiptInput = {
  shopId: string;
  connectionId: string;
  topic: string;
  eventId: string;
  webhookId: string | null;
  resourceId: string | null;
  triggeredAt: Date | null;
  payload: unknown;
  /**
   * Every connection that is the same channel account. A delivery id already received for a
   * connection outside this set is a replay with a swapped account header: it is not stored.
   */
  sameAccount: string[];
  /** When it was received, if not now (a delivery held in the spool while the database was down). */
  receivedAt?: Date;
};

export type StoredReceipt =
  | { replayed: true }
  | { replayed: false; id: bigint; duplicate: true; status: string }
  | {
      replayed: false;
      id: bigint;
      duplicate: false;
      status: "pending";
      /** The receipt as `loadReceiptForIngest` would read it back, for an apply right away. */
      loaded: () => LoadedReceipt;
    };

/** A receipt with its connection and shop state (null when the connection was removed). */
export type LoadedReceipt = { receipt: ReceiptRow; connection: ConnectionRow | null };

export async function storeReceipt(input: ReceiptInput): Promise<StoredReceipt> {
  const payload = JSON.stringify(input.payload);
  // A new receipt comes back with its connection (the same row the ingest loads), so the web's
  // fast lane applies it without reading it back (apply-now).
  const [result] = await db().query<{
    id: bigint | null;
    receivedAt: Date | null;
    connection: ConnectionRow | null;
    replayed: boolean;
  }>(sql`
    WITH replay AS (
      SELECT 1 FROM receipt r
       WHERE ${input.webhookId}::text IS NOT NULL AND r.webhook_id = ${input.webhookId}
         AND r.connection_id <> ALL(${input.sameAccount}::uuid[])
       LIMIT 1
    ), ins AS (
      INSERT INTO receipt (shop_id, connection_id, topic, event_id, webhook_id, resource_id, triggered_at, payload, received_at)
      SELECT ${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.topic}, ${input.eventId}, ${input.webhookId},
             ${input.resourceId}, ${input.triggeredAt}::timestamptz, ${payload}::jsonb,
             COALESCE(${input.receivedAt ?? null}::timestamptz, now())
       WHERE NOT EXISTS (SELECT 1 FROM replay)
      ON CONFLICT (connection_id, event_id) DO NOTHING
      RETURNING id, received_at
    )
    SELECT (SELECT id FROM ins) AS id, (SELECT received_at FROM ins) AS "receivedAt",
           EXISTS (SELECT 1 FROM replay) AS replayed,
           (SELECT row_to_json(x) FROM (
              SELECT ${CONNECTION_ROW} FROM connection c JOIN shop s ON s.id = c.shop_id
               WHERE c.id = ${input.connectionId}::uuid AND EXISTS (SELECT 1 FROM ins)) x) AS connection`);
  if (result?.replayed) return { replayed: true };
  if (result?.id != null && result.receivedAt) {
    const { id, receivedAt, connection } = result;
    const receipt = (): ReceiptRow => ({
      id,
      shopId: input.shopId,
      connectionId: input.connectionId,
      topic: input.topic,
      // What the database gives back: the stored JSON, not the caller's object.
      payload: JSON.parse(payload) as unknown,
      status: "pending",
      receivedAt,
      triggeredAt: input.triggeredAt,
    });
    return {
      replayed: false,
      id,
      duplicate: false,
      status: "pending",
      loaded: () => ({ receipt: receipt(), connection }),
    };
  }
  const existing = await db().query<{ id: bigint; status: string }>(sql`
    SELECT id, status::text AS status FROM receipt
     WHERE connection_id = ${input.connectionId}::uuid AND event_id = ${input.eventId}`);
  const row = existing[0];
  if (!row) throw new Error("receipt conflict without a row");
  return { replayed: false, id: row.id, duplicate: true, status: row.status };
}

export async function recordRejected(input: {
  shopDomain: string;
  shopId: string | null;
  topic: string;
  reason: string;
  webhookId: string | null;
  eventId: string | null;
}): Promise<void> {
  await db().execute(sql`
    INSERT INTO rejected_delivery (shop_domain, shop_id, topic, reason, webhook_id, event_id)
    VALUES (${input.shopDomain}, ${input.shopId}::uuid, ${input.topic}, ${input.reason.slice(0, 1000)}, ${input.webhookId}, ${input.eventId})`);
}

export type ReceiptRow = {
  id: bigint;
  shopId: string;
  connectionId: string;
  topic: string;
  payload: unknown;
  status: string;
  receivedAt: Date;
  triggeredAt: Date | null;
};

/**
 * The receipt with its connection and shop state (null when the connection was removed), in one
 * round trip: the ingest of every delivery starts here.
 */
export async function loadReceiptForIngest(id: bigint): Promise<LoadedReceipt | null> {
  const rows = await db().query<ReceiptRow & { connection: ConnectionRow | null }>(sql`
    SELECT r.id, r.shop_id AS "shopId", r.connection_id AS "connectionId", r.topic, r.payload,
           r.status::text AS status, r.received_at AS "receivedAt", r.triggered_at AS "triggeredAt",
           (SELECT row_to_json(x) FROM (
              SELECT ${CONNECTION_ROW} FROM connection c JOIN shop s ON s.id = c.shop_id
               WHERE c.id = r.connection_id) x) AS connection
      FROM receipt r
     WHERE r.id = ${id}::bigint`);
  const row = rows[0];
  if (!row) return null;
  const { connection, ...receipt } = row;
  return { receipt, connection };
}

export async function markReceipt(
  id: bigint,
  status: "applied" | "ignored" | "failed",
  error: string | null = null,
): Promise<void> {
  await db().execute(sql`
    UPDATE receipt SET status = ${status}::"ReceiptStatus", applied_at = now(), attempts = attempts + 1,
                       error = ${error}
     WHERE id = ${id}::bigint AND status = 'pending'`);
}

/**
 * Receipts stored but not applied after `olderThanMs` (Redis lost the job, a worker died), the
 * least-revived first, each counted as revived once more. Receipts revived `cap` times are left
 * for `abandonOverRevived`.
 */
export async function reviveStalePending(
  olderThanMs: number,
  limit: number,
  cap: number,
): Promise<{ id: bigint; shopId: string }[]> {
  return db().query<{ id: bigint; shopId: string }>(sql`
    WITH picked AS (
      SELECT id FROM receipt
       WHERE status = 'pending' AND revivals < ${cap}
         AND received_at < now() - make_interval(secs => ${olderThanMs / 1000})
       ORDER BY revivals, received_at LIMIT ${limit}
       FOR UPDATE SKIP LOCKED
    )
    UPDATE receipt r SET revivals = r.revivals + 1 FROM picked WHERE r.id = picked.id
    RETURNING r.id, r.shop_id AS "shopId"`);
}

/** Pending receipts revived `cap` times are failed; returns them for the alert. */
export async function abandonOverRevived(
  cap: number,
): Promise<{ id: bigint; shopId: string; connectionId: string; topic: string }[]> {
  return db().query(sql`
    UPDATE receipt SET status = 'failed', applied_at = now(),
                       error = ${`gave up after ${cap} revivals by the sweeper`}
     WHERE status = 'pending' AND revivals >= ${cap}
    RETURNING id, shop_id AS "shopId", connection_id AS "connectionId", topic`);
}

/** A connection's receipts stored but not applied yet, oldest first, at most `limit`. */
export async function pendingReceipts(
  connectionId: string,
  limit: number,
): Promise<{ topic: string; payload: unknown }[]> {
  return db().query<{ topic: string; payload: unknown }>(sql`
    SELECT topic, payload FROM receipt
     WHERE connection_id = ${connectionId}::uuid AND status = 'pending'
     ORDER BY received_at LIMIT ${limit}`);
}

/** The ingest transaction marks its receipt applied in the same commit as the ledger effect. */
export async function markReceiptApplied(tx: SqlClient, receiptId: bigint): Promise<void> {
  await tx.execute(sql`
    UPDATE receipt SET status = 'applied', applied_at = now(), attempts = attempts + 1
     WHERE id = ${receiptId}::bigint AND status = 'pending'`);
}

/** Processed receipts are operational data: kept 30 days unless a recent movement names them. */
export async function pruneReceipts(): Promise<number> {
  return db().execute(sql`
    DELETE FROM receipt WHERE status IN ('applied', 'ignored') AND received_at < now() - interval '30 days'
       AND NOT EXISTS (SELECT 1 FROM movement m WHERE m.receipt_id = receipt.id AND m.created_at > now() - interval '30 days')`);
}
