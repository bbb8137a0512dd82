import { sql, type SqlClient } from "../lib/sql.server";

/** Inbound receipts: stored before acknowledging, unique per connection and event id. */
export type ReceiptInput = {
  shopId: string;
  connectionId: string;
  topic: string;
  eventId: string;
  webhookId: string | null;
  resourceId: string | null;
  triggeredAt: Date | null;
  payload: unknown;
};

export async function storeReceipt(
  db: SqlClient,
  input: ReceiptInput,
): Promise<{ id: bigint; duplicate: boolean; status: string }> {
  const inserted = await db.query<{ id: bigint }>(sql`
    INSERT INTO receipt (shop_id, connection_id, topic, event_id, webhook_id, resource_id, triggered_at, payload)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.topic}, ${input.eventId}, ${input.webhookId},
            ${input.resourceId}, ${input.triggeredAt}::timestamptz, ${JSON.stringify(input.payload)}::jsonb)
    ON CONFLICT (connection_id, event_id) DO NOTHING
    RETURNING id`);
  if (inserted[0]) return { id: inserted[0].id, duplicate: false, status: "pending" };
  const existing = await db.query<{ id: bigint; status: string }>(sql`
    SELECT id, status::text AS status FROM receipt
     WHERE connection_id = ${input.connectionId}::uuid AND event_id = ${input.eventId}`);
  const row = existing[0];
  if (!row) throw new Error("receipt conflict without a row");
  return { id: row.id, duplicate: true, status: row.status };
}

export async function recordRejected(
  db: SqlClient,
  input: {
    shopDomain: string;
    shopId: string | null;
    topic: string;
    reason: string;
    webhookId: string | null;
    eventId: string | null;
  },
): Promise<void> {
  await db.execute(sql`
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

export async function loadReceipt(db: SqlClient, id: bigint): Promise<ReceiptRow | null> {
  const rows = await db.query<ReceiptRow>(sql`
    SELECT id, shop_id AS "shopId", connection_id AS "connectionId", topic, payload, status::text AS status,
           received_at AS "receivedAt", triggered_at AS "triggeredAt"
      FROM receipt WHERE id = ${id}::bigint`);
  return rows[0] ?? null;
}

export async function markReceipt(
  db: SqlClient,
  id: bigint,
  status: "applied" | "ignored" | "failed",
  error: string | null = null,
): Promise<void> {
  await db.execute(sql`
    UPDATE receipt SET status = ${status}::"ReceiptStatus", applied_at = now(), attempts = attempts + 1,
                       error = ${error}
     WHERE id = ${id}::bigint AND status = 'pending'`);
}

/** Receipts stored but not applied after `olderThanMs` (Redis lost the job, a worker died). */
export async function stalePendingReceipts(
  db: SqlClient,
  olderThanMs: number,
  limit: number,
): Promise<bigint[]> {
  const rows = await db.query<{ id: bigint }>(sql`
    SELECT id FROM receipt
     WHERE status = 'pending' AND received_at < now() - make_interval(secs => ${olderThanMs / 1000})
     ORDER BY received_at LIMIT ${limit}`);
  return rows.map((r) => r.id);
}

export async function hasPendingReceipts(db: SqlClient, connectionId: string): Promise<boolean> {
  const rows = await db.query<{ one: number }>(sql`
    SELECT 1 AS one FROM receipt WHERE connection_id = ${connectionId}::uuid AND status = 'pending' LIMIT 1`);
  return rows.length > 0;
}
