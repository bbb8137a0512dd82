import type { LevelFacts } from "../domain/types";
import { sql, type SqlClient } from "../lib/sql.server";

/** SQL of the push path: dirty listings, what was written, what the channel showed. */
export type ConnectionRow = {
  id: string;
  shopId: string;
  kind: "shopify" | "amazon" | "ebay" | "walmart";
  role: "source" | "sales";
  status: string;
  accountRef: string;
  apiBaseUrl: string | null;
  credentials: string | null;
  settings: Record<string, unknown>;
  shopDomain: string;
  shopStatus: string;
  syncEnabled: boolean;
};

export async function loadConnection(
  db: SqlClient,
  connectionId: string,
): Promise<ConnectionRow | null> {
  const rows = await db.query<ConnectionRow>(sql`
    SELECT c.id, c.shop_id AS "shopId", c.kind::text AS kind, c.role::text AS role, c.status::text AS status,
           c.account_ref AS "accountRef", c.api_base_url AS "apiBaseUrl", c.credentials, c.settings,
           s.domain AS "shopDomain", s.status::text AS "shopStatus", s.sync_enabled AS "syncEnabled"
      FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.id = ${connectionId}::uuid`);
  return rows[0] ?? null;
}

export type DirtyListing = {
  id: string;
  remoteRef: string;
  remoteLocationRef: string;
  publishedQuantity: number;
  publishedVersion: number;
  pushedQuantity: number | null;
  remoteQuantity: number | null;
  remoteSource: "push" | "read" | "webhook" | null;
  remoteObservedAt: Date | null;
  remoteState: Record<string, number> | null;
  sourceLocationId: string | null;
  itemId: string | null;
  pendingReceiptIds: bigint[];
  dirtySince: Date | null;
};

/** Listings whose published quantity changed since the last push (partial index). */
export async function dirtyListings(
  db: SqlClient,
  connectionId: string,
  limit: number,
): Promise<DirtyListing[]> {
  return db.query<DirtyListing>(sql`
    SELECT l.id, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef",
           l.published_quantity AS "publishedQuantity", l.published_version AS "publishedVersion",
           l.pushed_quantity AS "pushedQuantity", l.remote_quantity AS "remoteQuantity", l.remote_source AS "remoteSource",
           l.remote_observed_at AS "remoteObservedAt", l.remote_state AS "remoteState",
           l.source_location_id AS "sourceLocationId", l.pending_receipt_ids AS "pendingReceiptIds",
           l.dirty_since AS "dirtySince",
           (SELECT c.item_id FROM listing_component c WHERE c.listing_id = l.id LIMIT 1) AS "itemId"
      FROM listing l
     WHERE l.connection_id = ${connectionId}::uuid AND l.published_version > l.pushed_version
       AND l.status = 'active'
     ORDER BY l.dirty_since NULLS LAST, l.id
     LIMIT ${limit}`);
}

export async function countDirty(db: SqlClient, connectionId: string): Promise<number> {
  const rows = await db.query<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM listing
     WHERE connection_id = ${connectionId}::uuid AND published_version > pushed_version AND status = 'active'`);
  return rows[0]?.n ?? 0;
}

/**
 * The channel now shows `quantity` (we wrote it, or it already matched). The listing is clean
 * only if nothing changed since we read `version`; the receipts it carried get their trace.
 */
export async function recordPushed(
  db: SqlClient,
  input: {
    listingId: string;
    connectionId: string;
    version: number;
    quantity: number;
    wrote: boolean;
    at: Date;
    receiptIds: bigint[];
    remoteState?: Record<string, number> | null;
  },
): Promise<void> {
  await db.execute(sql`
    UPDATE listing
       SET pushed_version = GREATEST(pushed_version, ${input.version}),
           pushed_quantity = CASE WHEN ${input.wrote} THEN ${input.quantity} ELSE pushed_quantity END,
           last_pushed_at = CASE WHEN ${input.wrote} THEN ${input.at}::timestamptz ELSE last_pushed_at END,
           remote_quantity = ${input.quantity},
           remote_source = CASE WHEN ${input.wrote} THEN 'push' ELSE remote_source END,
           remote_observed_at = ${input.at}::timestamptz,
           remote_state = COALESCE(${input.remoteState === undefined || input.remoteState === null ? null : JSON.stringify(input.remoteState)}::jsonb, remote_state),
           dirty_since = CASE WHEN published_version <= ${input.version} THEN NULL ELSE dirty_since END,
           pending_receipt_ids = ARRAY(SELECT unnest(pending_receipt_ids) EXCEPT SELECT unnest(${input.receiptIds}::bigint[])),
           failure_count = 0, last_error = NULL, updated_at = now()
     WHERE id = ${input.listingId}::uuid`);
  if (input.receiptIds.length > 0) {
    await db.execute(sql`
      INSERT INTO push_trace (receipt_id, connection_id, written_at)
      SELECT unnest(${input.receiptIds}::bigint[]), ${input.connectionId}::uuid, ${input.at}::timestamptz
      ON CONFLICT DO NOTHING`);
  }
}

/** recordPushed for many listings in two statements (the push path's hot loop). */
export async function recordPushedBatch(
  db: SqlClient,
  connectionId: string,
  rows: {
    listingId: string;
    version: number;
    quantity: number;
    wrote: boolean;
    receiptIds: bigint[];
    remoteState?: Record<string, number> | null;
  }[],
  at: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    UPDATE listing l
       SET pushed_version = GREATEST(l.pushed_version, u.version),
           pushed_quantity = CASE WHEN u.wrote THEN u.quantity ELSE l.pushed_quantity END,
           last_pushed_at = CASE WHEN u.wrote THEN ${at}::timestamptz ELSE l.last_pushed_at END,
           remote_quantity = u.quantity,
           remote_source = CASE WHEN u.wrote THEN 'push' ELSE l.remote_source END,
           remote_observed_at = ${at}::timestamptz,
           remote_state = COALESCE(u.state, l.remote_state),
           dirty_since = CASE WHEN l.published_version <= u.version THEN NULL ELSE l.dirty_since END,
           pending_receipt_ids = ARRAY(SELECT unnest(l.pending_receipt_ids) EXCEPT SELECT unnest(u.receipts::bigint[])),
           failure_count = 0, last_error = NULL, updated_at = now()
      FROM unnest(${rows.map((r) => r.listingId)}::uuid[], ${rows.map((r) => r.version)}::int[],
                  ${rows.map((r) => r.quantity)}::int[], ${rows.map((r) => r.wrote)}::boolean[],
                  ${rows.map((r) => (r.remoteState ? JSON.stringify(r.remoteState) : null))}::jsonb[],
                  ${rows.map((r) => `{${r.receiptIds.join(",")}}`)}::text[])
           AS u(id, version, quantity, wrote, state, receipts)
     WHERE l.id = u.id`);
  const receipts = [...new Set(rows.flatMap((r) => r.receiptIds.map(String)))];
  if (receipts.length > 0) {
    await db.execute(sql`
      INSERT INTO push_trace (receipt_id, connection_id, written_at)
      SELECT unnest(${receipts}::bigint[]), ${connectionId}::uuid, ${at}::timestamptz
      ON CONFLICT DO NOTHING`);
  }
}

/** What the channel showed when we read it or it told us (webhook). Newer observations only. */
export async function recordRemote(
  db: SqlClient,
  input: {
    listingId: string;
    quantity: number | null;
    state?: Record<string, number> | null;
    source: "read" | "webhook";
    at: Date;
  },
): Promise<void> {
  await db.execute(sql`
    UPDATE listing
       SET remote_quantity = ${input.quantity},
           remote_state = COALESCE(${input.state ? JSON.stringify(input.state) : null}::jsonb, remote_state),
           remote_source = ${input.source},
           remote_observed_at = ${input.at}::timestamptz,
           updated_at = now()
     WHERE id = ${input.listingId}::uuid
       AND (remote_observed_at IS NULL OR remote_observed_at <= ${input.at}::timestamptz)`);
}

/** Many observations at once (catalog import, reconciliation pages). */
export async function recordRemoteBatch(
  db: SqlClient,
  rows: {
    listingId: string;
    quantity: number | null;
    state: Record<string, number> | null;
    at: Date;
  }[],
  source: "read" | "webhook",
): Promise<void> {
  for (let i = 0; i < rows.length; i += 1_000) {
    const chunk = rows.slice(i, i + 1_000);
    await db.execute(sql`
      UPDATE listing l
         SET remote_quantity = u.quantity, remote_state = COALESCE(u.state, l.remote_state),
             remote_source = ${source}, remote_observed_at = u.at, updated_at = now()
        FROM unnest(${chunk.map((r) => r.listingId)}::uuid[], ${chunk.map((r) => r.quantity)}::int[],
                    ${chunk.map((r) => (r.state ? JSON.stringify(r.state) : null))}::jsonb[],
                    ${chunk.map((r) => r.at)}::timestamptz[]) AS u(id, quantity, state, at)
       WHERE l.id = u.id AND (l.remote_observed_at IS NULL OR l.remote_observed_at <= u.at)`);
  }
}

/** Marks a listing dirty without changing what should be published (reconcile, drift). */
export async function markDirty(db: SqlClient, listingIds: string[], since: Date): Promise<void> {
  if (listingIds.length === 0) return;
  await db.execute(sql`
    UPDATE listing SET published_version = published_version + 1,
                       dirty_since = COALESCE(dirty_since, ${since}::timestamptz), updated_at = now()
     WHERE id = ANY(${listingIds}::uuid[])`);
}

export async function recordListingFailure(
  db: SqlClient,
  input: {
    shopId: string;
    connectionId: string;
    listingId: string;
    kind: string;
    reason: string;
    permanent: boolean;
  },
): Promise<void> {
  await db.execute(sql`
    UPDATE listing
       SET failure_count = failure_count + 1, last_error = ${input.reason}, last_error_at = now(),
           status = CASE WHEN ${input.permanent} THEN 'broken'::"ListingStatus" ELSE status END,
           status_reason = CASE WHEN ${input.permanent} THEN ${input.reason} ELSE status_reason END
     WHERE id = ${input.listingId}::uuid`);
  if (input.permanent) {
    await db.execute(sql`
      INSERT INTO sync_failure (shop_id, connection_id, listing_id, kind, reason)
      VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.listingId}::uuid, ${input.kind}, ${input.reason})`);
  }
}

export async function recordConnectionFailure(
  db: SqlClient,
  input: { shopId: string; connectionId: string; kind: string; reason: string; details?: unknown },
): Promise<void> {
  await db.execute(sql`
    INSERT INTO sync_failure (shop_id, connection_id, kind, reason, details)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.kind}, ${input.reason},
            ${JSON.stringify(input.details ?? {})}::jsonb)`);
}

export async function touchConnectionPush(
  db: SqlClient,
  connectionId: string,
  at: Date,
): Promise<void> {
  await db.execute(
    sql`UPDATE connection SET last_push_at = ${at}::timestamptz WHERE id = ${connectionId}::uuid`,
  );
}

/** Source store: balances, other channels' commitments and the outbox at the listings' levels. */
export type SourceLevel = LevelFacts & {
  itemId: string;
  locationId: string;
  committedOther: number;
  /** Outbox rows not yet confirmed: `pending` (never sent) or `sending` (sent, unconfirmed). */
  pending: { id: string; stateName: string; delta: number; status: "pending" | "sending" }[];
};

export async function sourceLevels(
  db: SqlClient,
  sourceConnectionId: string,
  levels: { itemId: string; locationId: string }[],
): Promise<SourceLevel[]> {
  if (levels.length === 0) return [];
  return db.query<SourceLevel>(sql`
    WITH wanted AS (
      SELECT * FROM unnest(${levels.map((l) => l.itemId)}::uuid[], ${levels.map((l) => l.locationId)}::uuid[]) AS w(item_id, location_id)
    )
    SELECT s.item_id AS "itemId", s.location_id AS "locationId", s.on_hand AS "onHand", s.committed,
           s.held, s.damaged, s.safety_stock AS "safetyStock",
           COALESCE((SELECT sum(o.committed)::int FROM order_line o
                      WHERE o.item_id = s.item_id AND o.location_id = s.location_id
                        AND o.connection_id <> ${sourceConnectionId}::uuid AND o.committed > 0), 0) AS "committedOther",
           COALESCE((SELECT json_agg(json_build_object('id', a.id::text, 'stateName', a.state_name, 'delta', a.delta, 'status', a.status) ORDER BY a.id)
                       FROM source_adjustment a
                      WHERE a.item_id = s.item_id AND a.location_id = s.location_id AND a.status IN ('pending', 'sending')), '[]'::json) AS pending
      FROM stock_level s JOIN wanted w ON w.item_id = s.item_id AND w.location_id = s.location_id`);
}

export async function markAdjustmentsWritten(db: SqlClient, ids: bigint[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE source_adjustment SET status = 'written', written_at = now(), attempts = attempts + 1
     WHERE id = ANY(${ids}::bigint[]) AND status IN ('pending', 'sending')`);
}

/** Pending rows join batch `batchKey` before the call that carries them is sent. */
export async function claimAdjustments(
  db: SqlClient,
  ids: bigint[],
  batchKey: string,
): Promise<bigint[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: bigint }>(sql`
    UPDATE source_adjustment SET status = 'sending', batch_key = ${batchKey}, attempts = attempts + 1
     WHERE id = ANY(${ids}::bigint[]) AND status = 'pending'
    RETURNING id`);
  return rows.map((r) => r.id);
}

/** Batches sent but never confirmed (the worker died, the response was lost), to resend as-is. */
export async function unconfirmedBatches(
  db: SqlClient,
  connectionId: string,
): Promise<
  {
    batchKey: string;
    stateName: string;
    ids: bigint[];
    changes: { remoteRef: string; remoteLocationRef: string; delta: number; firstId: string }[];
  }[]
> {
  const rows = await db.query<{
    batchKey: string;
    stateName: string;
    id: bigint;
    delta: number;
    remoteRef: string;
    remoteLocationRef: string;
  }>(sql`
    SELECT a.batch_key AS "batchKey", CASE WHEN a.delta < 0 THEN 'available' ELSE a.state_name END AS "stateName",
           a.id, a.delta, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef"
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
        (b = { batchKey: r.batchKey, stateName: r.stateName, ids: [], changes: new Map() }),
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

export async function markAdjustmentsFailed(
  db: SqlClient,
  ids: bigint[],
  error: string,
): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    UPDATE source_adjustment SET attempts = attempts + 1, error = ${error} WHERE id = ANY(${ids}::bigint[])`);
}

/** Source listings at the levels of these items (to mark them after an outbox insert, etc.). */
export async function sourceListingsFor(
  db: SqlClient,
  connectionId: string,
  levels: { itemId: string; locationId: string }[],
): Promise<string[]> {
  if (levels.length === 0) return [];
  const rows = await db.query<{ id: string }>(sql`
    SELECT l.id FROM listing l JOIN listing_component c ON c.listing_id = l.id
     WHERE l.connection_id = ${connectionId}::uuid
       AND (c.item_id, l.source_location_id) IN (
         SELECT * FROM unnest(${levels.map((l) => l.itemId)}::uuid[], ${levels.map((l) => l.locationId)}::uuid[]))`);
  return rows.map((r) => r.id);
}
