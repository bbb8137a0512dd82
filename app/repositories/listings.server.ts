/**
 * Listings: what each connection sells, what should be published there, what was written and
 * what the channel last showed (push, read-back, webhook), per-listing failures and drift.
 */
import type { LevelFacts } from "../domain/types";
import type { RecentWrite } from "../domain/echoes";
import { db, sql, type Sql } from "../lib/sql.server";

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
  sku: string | null;
  lastPushedAt: Date | null;
  /** What StockGuard wrote lately (late echoes are recognised by it: domain/echoes.ts). */
  recentWrites: RecentWrite[];
  /** Read the channel before planning (it may have changed on its own). */
  needsRead: boolean;
};

/** Listings whose published quantity changed since the last push (partial index). */
export async function dirtyListings(connectionId: string, limit: number): Promise<DirtyListing[]> {
  return db().query<DirtyListing>(sql`
    SELECT l.id, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef",
           l.published_quantity AS "publishedQuantity", l.published_version AS "publishedVersion",
           l.pushed_quantity AS "pushedQuantity", l.remote_quantity AS "remoteQuantity", l.remote_source AS "remoteSource",
           l.remote_observed_at AS "remoteObservedAt", l.remote_state AS "remoteState",
           l.source_location_id AS "sourceLocationId", l.pending_receipt_ids AS "pendingReceiptIds",
           l.dirty_since AS "dirtySince", l.sku, l.last_pushed_at AS "lastPushedAt",
           l.recent_writes AS "recentWrites", l.needs_read AS "needsRead",
           (SELECT c.item_id FROM listing_component c WHERE c.listing_id = l.id LIMIT 1) AS "itemId"
      FROM listing l
     WHERE l.connection_id = ${connectionId}::uuid AND l.published_version > l.pushed_version
       AND l.status = 'active'
     ORDER BY l.dirty_since NULLS LAST, l.id
     LIMIT ${limit}`);
}

/**
 * The channel now shows `quantity` (we wrote it, or it already matched). The listing is clean
 * only if nothing changed since we read `version`; the receipts it carried get their trace.
 */
export async function recordPushed(input: {
  listingId: string;
  connectionId: string;
  version: number;
  quantity: number;
  wrote: boolean;
  at: Date;
  receiptIds: bigint[];
  remoteState?: Record<string, number> | null;
}): Promise<void> {
  await db().execute(sql`
    UPDATE listing
       SET pushed_version = GREATEST(pushed_version, ${input.version}),
           pushed_quantity = CASE WHEN ${input.wrote} THEN ${input.quantity} ELSE pushed_quantity END,
           last_pushed_at = CASE WHEN ${input.wrote} THEN ${input.at}::timestamptz ELSE last_pushed_at END,
           remote_quantity = ${input.quantity},
           -- A source level flagged for a read (an inbound change not counted yet) stays flagged:
           -- a write is no read, and clearing the flag would lose a receipt at the store.
           remote_source = CASE WHEN ${input.wrote}
                                 AND NOT (remote_source = 'webhook' AND source_location_id IS NOT NULL)
                                THEN 'push' ELSE remote_source END,
           remote_observed_at = ${input.at}::timestamptz,
           remote_state = COALESCE(${input.remoteState === undefined || input.remoteState === null ? null : JSON.stringify(input.remoteState)}::jsonb, remote_state),
           dirty_since = CASE WHEN published_version <= ${input.version} THEN NULL ELSE dirty_since END,
           pending_receipt_ids = ARRAY(SELECT unnest(pending_receipt_ids) EXCEPT SELECT unnest(${input.receiptIds}::bigint[])),
           failure_count = 0, last_error = NULL, updated_at = now()
     WHERE id = ${input.listingId}::uuid`);
  if (input.receiptIds.length > 0) {
    await db().execute(sql`
      INSERT INTO push_trace (receipt_id, connection_id, written_at)
      SELECT unnest(${input.receiptIds}::bigint[]), ${input.connectionId}::uuid, ${input.at}::timestamptz
      ON CONFLICT DO NOTHING`);
  }
}

/** recordPushed for many listings in two statements (the push path's hot loop). */
export async function recordPushedBatch(
  connectionId: string,
  rows: {
    listingId: string;
    version: number;
    quantity: number;
    wrote: boolean;
    receiptIds: bigint[];
    remoteState?: Record<string, number> | null;
    /** The writes to remember (domain/echoes.ts `rememberWrites`), when this push wrote. */
    recentWrites?: RecentWrite[];
    /**
     * A change: what the store showed when it landed as the model had it when the change was
     * planned (the model then, less the sales the answer reveals), and when that model was seen.
     * Units the store's own orders took off the model since (applied during the call, the
     * model's time unchanged) beyond those were sold after the change landed: the answer does not
     * include them and they stay taken off.
     */
    plannedFrom?: { quantity: number; seenAt: Date | null };
    /** Written with compare-and-set: what the channel showed was the model (settles old changes). */
    compared?: boolean;
  }[],
  at: Date,
  options: { offKeepsDirty?: boolean; changeToken?: string } = {},
): Promise<void> {
  if (rows.length === 0) return;
  // Found up to date is not a look at the channel either: the model keeps its quantity.
  // Written back, it undid what moved the model since the push read it (the store's own
  // order applied meanwhile: the model a unit high, and the next change's answer took
  // that unit for a sale and held it for the settle window - chaos convergence, traced).
  const remote = sql`(CASE WHEN NOT u.wrote THEN l.remote_quantity
                           WHEN u.from_q IS NOT NULL AND l.remote_quantity < u.from_q
                            AND l.remote_observed_at IS NOT DISTINCT FROM u.from_at
                           THEN u.quantity - (u.from_q - l.remote_quantity)
                           ELSE u.quantity END)`;
  // `offKeepsDirty` (a store that sells): a write that leaves the channel showing anything but
  // the published quantity keeps the listing dirty, whoever pushed meanwhile. Another push of the
  // connection (its lock lost with Redis) may have recorded the version this answer was planned
  // for: the answer's version alone then left a listing clean that showed something else until
  // the reconcile (faults e2e, "Redis restarted").
  const off = sql`(${options.offKeepsDirty === true}::boolean AND u.wrote
                   AND ${remote} IS DISTINCT FROM GREATEST(0, l.published_quantity))`;
  // This push's change is answered. A change older than any call can take, sent by a push that
  // never answered, is settled by a compare-and-set that applied (the model was what it showed).
  const settled = sql`(l.change_token = ${options.changeToken ?? ""}
                       OR (u.wrote AND u.compared AND ${changeOlder(sql`${at}::timestamptz`, CHANGE_UNANSWERED_MS)}))`;
  await db().execute(sql`
    UPDATE listing l
       SET pushed_version = GREATEST(l.pushed_version, u.version),
           published_version = CASE WHEN ${off} AND l.published_version <= GREATEST(l.pushed_version, u.version)
                                    THEN GREATEST(l.pushed_version, u.version) + 1
                                    ELSE l.published_version END,
           pushed_quantity = CASE WHEN u.wrote THEN u.quantity ELSE l.pushed_quantity END,
           last_pushed_at = CASE WHEN u.wrote THEN ${at}::timestamptz ELSE l.last_pushed_at END,
           remote_quantity = ${remote},
           remote_source = CASE WHEN u.wrote
                                 AND NOT (l.remote_source = 'webhook' AND l.source_location_id IS NOT NULL)
                                THEN 'push' ELSE l.remote_source END,
           -- Found up to date is not a look at the channel: the model keeps the time it was
           -- last seen (a sale that time cannot place is read, never assumed included).
           remote_observed_at = CASE WHEN u.wrote THEN ${at}::timestamptz ELSE l.remote_observed_at END,
           remote_state = COALESCE(u.state, l.remote_state),
           recent_writes = COALESCE(u.writes, l.recent_writes),
           -- A write settles what the channel shows only for the doubt it was planned under: a
           -- read owed since (its version bump is newer than the plan) is still owed.
           needs_read = l.needs_read AND NOT (u.wrote AND l.published_version <= u.version),
           dirty_since = CASE WHEN ${off} THEN COALESCE(l.dirty_since, ${at}::timestamptz)
                              WHEN l.published_version <= u.version THEN NULL ELSE l.dirty_since END,
           pending_receipt_ids = ARRAY(SELECT unnest(l.pending_receipt_ids) EXCEPT SELECT unnest(u.receipts::bigint[])),
           change_token = CASE WHEN ${settled} THEN NULL ELSE l.change_token END,
           change_sent_at = CASE WHEN ${settled} THEN NULL ELSE l.change_sent_at END,
           failure_count = 0, last_error = NULL, updated_at = now()
      FROM unnest(${rows.map((r) => r.listingId)}::uuid[], ${rows.map((r) => r.version)}::int[],
                  ${rows.map((r) => r.quantity)}::int[], ${rows.map((r) => r.wrote)}::boolean[],
                  ${rows.map((r) => (r.remoteState ? JSON.stringify(r.remoteState) : null))}::jsonb[],
                  ${rows.map((r) => `{${r.receiptIds.join(",")}}`)}::text[],
                  ${rows.map((r) => (r.recentWrites ? JSON.stringify(r.recentWrites) : null))}::jsonb[],
                  ${rows.map((r) => r.plannedFrom?.quantity ?? null)}::int[],
                  ${rows.map((r) => r.plannedFrom?.seenAt?.toISOString() ?? null)}::timestamptz[],
                  ${rows.map((r) => r.compared === true)}::boolean[])
           AS u(id, version, quantity, wrote, state, receipts, writes, from_q, from_at, compared)
     WHERE l.id = u.id`);
  const receipts = [...new Set(rows.flatMap((r) => r.receiptIds.map(String)))];
  if (receipts.length > 0) {
    await db().execute(sql`
      INSERT INTO push_trace (receipt_id, connection_id, written_at)
      SELECT unnest(${receipts}::bigint[]), ${connectionId}::uuid, ${at}::timestamptz
      ON CONFLICT DO NOTHING`);
  }
}

/**
 * Writes about to be sent (domain/echoes.ts): remembered before the call, because the channel's
 * echo can arrive before the call returns.
 *
 * Locks only avoid wasted work, and two pushes of one connection can run at once (the lock lost
 * with Redis) or one can die between its call and its record. So a change (no compare) is sent
 * only to a listing the push claims here (rows with `change`, under `token`): `changes` are
 * the listings claimed. A listing another push sent a change to that is still on its way
 * (unanswered, younger than CHANGE_IN_FLIGHT_MS) is `busy`: not written now (that push records
 * and follows its answer), not remembered, and looked at again when the change would be old.
 * One whose change is older (its push died) is written with compare-and-set, which cannot apply
 * anything twice.
 */
export async function rememberIntendedWrites(
  rows: { listingId: string; recentWrites: RecentWrite[]; change?: boolean }[],
  token = "",
  at = new Date(),
): Promise<{ changes: Set<string>; busy: Map<string, Date> }> {
  const changes = new Set<string>();
  const busy = new Map<string, Date>();
  if (rows.length === 0) return { changes, busy };
  const inFlight = sql`(l.change_token IS NOT NULL AND l.change_token <> ${token}
                        AND NOT ${changeOlder(sql`${at}::timestamptz`, CHANGE_IN_FLIGHT_MS)})`;
  const claims = sql`(u.change AND l.change_token IS NULL)`;
  const answered = await db().query<{ id: string; claimed: boolean; busySince: Date | null }>(sql`
    UPDATE listing l
       SET recent_writes = CASE WHEN ${inFlight} THEN l.recent_writes ELSE u.writes END,
           change_token = CASE WHEN ${claims} THEN ${token} ELSE l.change_token END,
           change_sent_at = CASE WHEN ${claims} THEN ${at}::timestamptz ELSE l.change_sent_at END
      FROM unnest(${rows.map((r) => r.listingId)}::uuid[],
                  ${rows.map((r) => JSON.stringify(r.recentWrites))}::jsonb[],
                  ${rows.map((r) => r.change === true)}::boolean[]) AS u(id, writes, change)
     WHERE l.id = u.id
    RETURNING l.id, u.change AND l.change_token IS NOT DISTINCT FROM ${token} AS claimed,
              CASE WHEN ${inFlight} THEN l.change_sent_at END AS "busySince"`);
  for (const row of answered) {
    if (row.busySince) busy.set(row.id, row.busySince);
    else if (row.claimed) changes.add(row.id);
  }
  return { changes, busy };
}

/**
 * How long a change may be on its way before its push counts as dead (the lock's lifetime: a
 * holder silent that long has lost its lock too).
 */
export const CHANGE_IN_FLIGHT_MS = 4_000;
/** How long a change sent by a push that never answered may still land (the call's timeout, with room). */
export const CHANGE_UNANSWERED_MS = 60_000;

/** Whether the listing's unanswered change was sent more than `ms` before `at` (SQL, listing `l`). */
function changeOlder(at: Sql, ms: number): Sql {
  return sql`(l.change_sent_at < ${at} - make_interval(secs => ${ms / 1_000}))`;
}

/** Changes `token` claimed and did not send, or sent and the channel refused before applying. */
export async function releaseChanges(token: string, listingIds: string[]): Promise<void> {
  if (listingIds.length === 0) return;
  await db().execute(sql`
    UPDATE listing SET change_token = NULL, change_sent_at = NULL
     WHERE id = ANY(${listingIds}::uuid[]) AND change_token = ${token}`);
}

export type RemoteObservation = {
  listingId: string;
  quantity: number | null;
  state?: Record<string, number> | null;
  source: "read" | "webhook";
  at: Date;
};

/** What the channel showed when we read it or it told us (webhook). Newer observations only. */
export async function recordRemote(input: RemoteObservation): Promise<void> {
  await recordRemotes([input]);
}

/** The same for several listings, in one statement (a page of levels read back). */
export async function recordRemotes(rows: RemoteObservation[]): Promise<void> {
  // A source level flagged for the counting read stays flagged: only that read
  // (read-source-levels, through recordRemoteBatch) counts physical stock and clears it.
  await writeRemotes(rows, { authoritative: false });
}

/** A read recorded what these listings show: no read is owed any more. */
export async function clearNeedsRead(listingIds: string[]): Promise<void> {
  if (listingIds.length === 0) return;
  await db().execute(
    sql`UPDATE listing SET needs_read = false WHERE id = ANY(${listingIds}::uuid[]) AND needs_read`,
  );
}

/**
 * The channel may show something else than StockGuard believes (a rise reported late): the next
 * push reads it first. Marks it dirty so that push happens.
 */
export async function markNeedsRead(listingIds: string[], since: Date): Promise<void> {
  if (listingIds.length === 0) return;
  await db().execute(sql`
    UPDATE listing SET needs_read = true, published_version = published_version + 1,
                       dirty_since = COALESCE(dirty_since, ${since}::timestamptz), updated_at = now()
     WHERE id = ANY(${listingIds}::uuid[])`);
}

/**
 * Many observations at once (catalog import, reconciliation pages, the counting source read):
 * they set the listing's remote source as given, and a read clears the read the listing was owed.
 */
export async function recordRemoteBatch(
  rows: {
    listingId: string;
    quantity: number | null;
    state: Record<string, number> | null;
    at: Date;
  }[],
  source: "read" | "webhook",
): Promise<void> {
  await writeRemotes(
    rows.map((r) => ({ ...r, source })),
    { authoritative: true },
  );
}

/**
 * The one statement both record with, newer observations only. `authoritative`: the source given
 * replaces a source level's read flag, and a read clears `needs_read`; otherwise both are kept.
 */
async function writeRemotes(
  rows: RemoteObservation[],
  options: { authoritative: boolean },
): Promise<void> {
  // A read long after a change that was never answered shows whatever it did: settled.
  const settles = sql`(${options.authoritative}::boolean AND u.source = 'read'
                       AND ${changeOlder(sql`u.at`, CHANGE_UNANSWERED_MS)})`;
  for (let i = 0; i < rows.length; i += 1_000) {
    const chunk = rows.slice(i, i + 1_000);
    await db().execute(sql`
      UPDATE listing l
         SET change_token = CASE WHEN ${settles} THEN NULL ELSE l.change_token END,
             change_sent_at = CASE WHEN ${settles} THEN NULL ELSE l.change_sent_at END,
             remote_quantity = u.quantity,
             remote_state = COALESCE(u.state, l.remote_state),
             remote_source = CASE WHEN NOT ${options.authoritative}::boolean AND l.remote_source = 'webhook'
                                       AND l.source_location_id IS NOT NULL
                                  THEN 'webhook' ELSE u.source END,
             needs_read = l.needs_read AND NOT (${options.authoritative}::boolean AND u.source = 'read'),
             remote_observed_at = u.at,
             updated_at = now()
        FROM unnest(${chunk.map((r) => r.listingId)}::uuid[], ${chunk.map((r) => r.quantity)}::int[],
                    ${chunk.map((r) => (r.state ? JSON.stringify(r.state) : null))}::jsonb[],
                    ${chunk.map((r) => r.source)}::text[],
                    ${chunk.map((r) => r.at)}::timestamptz[]) AS u(id, quantity, state, source, at)
       WHERE l.id = u.id AND (l.remote_observed_at IS NULL OR l.remote_observed_at <= u.at)`);
  }
}

/** Marks a listing dirty without changing what should be published (reconcile, drift). */
export async function markDirty(listingIds: string[], since: Date): Promise<void> {
  if (listingIds.length === 0) return;
  await db().execute(sql`
    UPDATE listing SET published_version = published_version + 1,
                       dirty_since = COALESCE(dirty_since, ${since}::timestamptz), updated_at = now()
     WHERE id = ANY(${listingIds}::uuid[])`);
}

export async function recordListingFailure(input: {
  shopId: string;
  connectionId: string;
  listingId: string;
  kind: string;
  reason: string;
  permanent: boolean;
}): Promise<void> {
  await db().execute(sql`
    UPDATE listing
       SET failure_count = failure_count + 1, last_error = ${input.reason}, last_error_at = now(),
           status = CASE WHEN ${input.permanent} THEN 'broken'::"ListingStatus" ELSE status END,
           status_reason = CASE WHEN ${input.permanent} THEN ${input.reason} ELSE status_reason END
     WHERE id = ${input.listingId}::uuid`);
  if (input.permanent) {
    await db().execute(sql`
      INSERT INTO sync_failure (shop_id, connection_id, listing_id, kind, reason)
      VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.listingId}::uuid, ${input.kind}, ${input.reason})`);
  }
}

/** Source store: balances, other channels' commitments and the outbox at the listings' levels. */
export type SourceLevel = LevelFacts & {
  itemId: string;
  locationId: string;
  committedOther: number;
  /** Outbox rows not yet confirmed: `pending` (never sent) or `sending` (sent, unconfirmed). */
  pending: {
    id: string;
    stateName: string;
    delta: number;
    status: "pending" | "sending";
    /** The source store's reason (null: the default of the state). */
    reason: string | null;
  }[];
};

export async function sourceLevels(
  sourceConnectionId: string,
  levels: { itemId: string; locationId: string }[],
): Promise<SourceLevel[]> {
  if (levels.length === 0) return [];
  return db().query<SourceLevel>(sql`
    WITH wanted AS (
      SELECT * FROM unnest(${levels.map((l) => l.itemId)}::uuid[], ${levels.map((l) => l.locationId)}::uuid[]) AS w(item_id, location_id)
    )
    SELECT s.item_id AS "itemId", s.location_id AS "locationId", s.on_hand AS "onHand", s.committed,
           s.held, s.damaged, s.safety_stock AS "safetyStock",
           COALESCE((SELECT sum(o.committed)::int FROM order_line o
                      WHERE o.item_id = s.item_id AND o.location_id = s.location_id
                        AND o.connection_id <> ${sourceConnectionId}::uuid AND o.committed > 0), 0) AS "committedOther",
           COALESCE((SELECT json_agg(json_build_object('id', a.id::text, 'stateName', a.state_name, 'delta', a.delta, 'status', a.status, 'reason', a.reason) ORDER BY a.id)
                       FROM source_adjustment a
                      WHERE a.item_id = s.item_id AND a.location_id = s.location_id AND a.status IN ('pending', 'sending')), '[]'::json) AS pending
      FROM stock_level s JOIN wanted w ON w.item_id = s.item_id AND w.location_id = s.location_id`);
}

/** The listing a channel level belongs to (inbound level updates). */
export async function listingAtLevel(
  connectionId: string,
  remoteRef: string,
  remoteLocationRef: string,
): Promise<{
  id: string;
  remoteQuantity: number | null;
  remoteState: Record<string, number> | null;
  lastPushedAt: Date | null;
  remoteObservedAt: Date | null;
  /** An accepted write waiting for confirmation (Amazon ACCEPTED), if any. */
  pendingTrackingId: string | null;
  pendingQuantity: number | null;
  shopId: string;
  publishedQuantity: number;
  recentWrites: RecentWrite[];
} | null> {
  const rows = await db().query<{
    id: string;
    remoteQuantity: number | null;
    remoteState: Record<string, number> | null;
    lastPushedAt: Date | null;
    remoteObservedAt: Date | null;
    pendingTrackingId: string | null;
    pendingQuantity: number | null;
    shopId: string;
    publishedQuantity: number;
    recentWrites: RecentWrite[];
  }>(sql`
    SELECT id, remote_quantity AS "remoteQuantity", remote_state AS "remoteState",
           last_pushed_at AS "lastPushedAt", remote_observed_at AS "remoteObservedAt",
           pending_tracking_id AS "pendingTrackingId", pending_quantity AS "pendingQuantity",
           shop_id AS "shopId", published_quantity AS "publishedQuantity",
           recent_writes AS "recentWrites"
      FROM listing
     WHERE connection_id = ${connectionId}::uuid AND remote_ref = ${remoteRef} AND remote_location_ref = ${remoteLocationRef}`);
  return rows[0] ?? null;
}

export type ReconcileListing = {
  id: string;
  remoteRef: string;
  remoteLocationRef: string;
  sku: string | null;
  published: number;
  pushed: number | null;
  /** What StockGuard believed the channel showed before this read. */
  remote: number | null;
  dirty: boolean;
};

/** Active listings of a connection in id order, a page at a time (reconciliation). */
export async function listingPage(
  connectionId: string,
  after: string,
  limit: number,
): Promise<ReconcileListing[]> {
  return db().query<ReconcileListing>(sql`
    SELECT id, remote_ref AS "remoteRef", remote_location_ref AS "remoteLocationRef", sku,
           published_quantity AS published, pushed_quantity AS pushed, remote_quantity AS remote,
           published_version > pushed_version AS dirty
      FROM listing WHERE connection_id = ${connectionId}::uuid AND status = 'active' AND id > ${after}::uuid
     ORDER BY id LIMIT ${limit}`);
}

export async function recordDrift(input: {
  shopId: string;
  connectionId: string;
  listingId: string;
  expected: number;
  observed: number;
  cause: string;
  repaired: boolean;
}): Promise<bigint> {
  const rows = await db().query<{ id: bigint }>(sql`
    INSERT INTO drift_record (shop_id, connection_id, listing_id, expected, observed, cause, repaired)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.listingId}::uuid, ${input.expected},
            ${input.observed}, ${input.cause}, ${input.repaired})
    RETURNING id`);
  return rows[0]!.id;
}

export type FlaggedSourceListing = {
  id: string;
  remoteRef: string;
  remoteLocationRef: string;
  itemId: string;
  locationId: string;
  sku: string;
  published: number;
  /** A drop no event explained at an earlier read, not counted yet. */
  seenDrop: { units: number; since: number } | null;
};

/** Source-store levels an inbound update flagged for a read (`remote_source = 'webhook'`). */
export async function flaggedSourceListings(
  connectionId: string,
  after: string,
  limit: number,
): Promise<FlaggedSourceListing[]> {
  const rows = await db().query<
    Omit<FlaggedSourceListing, "seenDrop"> & { dropUnits: number | null; dropSince: Date | null }
  >(sql`
    SELECT l.id, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef",
           c.item_id AS "itemId", l.source_location_id AS "locationId", i.sku,
           l.published_quantity AS published,
           l.count_drop_units AS "dropUnits", l.count_drop_since AS "dropSince"
      FROM listing l JOIN listing_component c ON c.listing_id = l.id JOIN stock_item i ON i.id = c.item_id
     WHERE l.connection_id = ${connectionId}::uuid AND l.remote_source = 'webhook'
       AND l.source_location_id IS NOT NULL AND l.id > ${after}::uuid
     ORDER BY l.id LIMIT ${limit}`);
  return rows.map(({ dropUnits, dropSince, ...row }) => ({
    ...row,
    seenDrop:
      dropUnits !== null && dropSince !== null
        ? { units: dropUnits, since: dropSince.getTime() }
        : null,
  }));
}

/** Remembers (or forgets) each read level's drop waiting to be counted. */
export async function recordSeenDrops(
  drops: { listingId: string; seenDrop: { units: number; since: number } | null }[],
): Promise<void> {
  if (drops.length === 0) return;
  await db().execute(sql`
    UPDATE listing l SET count_drop_units = u.units, count_drop_since = u.since
      FROM unnest(${drops.map((d) => d.listingId)}::uuid[],
                  ${drops.map((d) => d.seenDrop?.units ?? null)}::int[],
                  ${drops.map((d) => (d.seenDrop ? new Date(d.seenDrop.since).toISOString() : null))}::timestamptz[])
           AS u(id, units, since)
     WHERE l.id = u.id
       AND (l.count_drop_units IS DISTINCT FROM u.units OR l.count_drop_since IS DISTINCT FROM u.since)`);
}

/** Flags source listings for another read (postponed counts). */
export async function flagForSourceRead(listingIds: string[]): Promise<void> {
  if (listingIds.length === 0) return;
  await db().execute(
    sql`UPDATE listing SET remote_source = 'webhook' WHERE id = ANY(${listingIds}::uuid[])`,
  );
}

/** Flags the source listings of these levels (item at a source location) for a read. */
export async function flagSourceLevelsForRead(
  connectionId: string,
  levels: { itemId: string; locationId: string }[],
): Promise<void> {
  if (levels.length === 0) return;
  await db().execute(sql`
    UPDATE listing l SET remote_source = 'webhook'
      FROM listing_component c,
           unnest(${levels.map((v) => v.itemId)}::uuid[], ${levels.map((v) => v.locationId)}::uuid[]) AS u(item_id, location_id)
     WHERE c.listing_id = l.id AND l.connection_id = ${connectionId}::uuid
       AND c.item_id = u.item_id AND l.source_location_id = u.location_id`);
}

/** Flags every source listing of a connection for a read (reconciliation of physical stock). */
export async function flagAllForSourceRead(connectionId: string): Promise<void> {
  await db().execute(sql`
    UPDATE listing SET remote_source = 'webhook'
     WHERE connection_id = ${connectionId}::uuid AND source_location_id IS NOT NULL`);
}

/**
 * Connections with work older than `olderThanMs` that no job seems to carry: listings dirty
 * that long (a lost push job) or outbox rows not confirmed (a lost or crashed push).
 */
export async function connectionsWithStaleWork(olderThanMs: number): Promise<string[]> {
  const rows = await db().query<{ connectionId: string }>(sql`
    SELECT DISTINCT l.connection_id AS "connectionId" FROM listing l
      JOIN connection c ON c.id = l.connection_id JOIN shop s ON s.id = c.shop_id
     WHERE l.published_version > l.pushed_version AND l.status = 'active'
       AND l.dirty_since < now() - make_interval(secs => ${olderThanMs / 1000})
       AND c.status = 'active' AND s.status = 'active' AND s.sync_enabled
    UNION
    SELECT DISTINCT a.connection_id FROM source_adjustment a
     WHERE a.status IN ('pending', 'sending') AND a.created_at < now() - make_interval(secs => ${olderThanMs / 1000})`);
  return rows.map((r) => r.connectionId);
}

/** Marks dirty the source listings whose level has outbox rows waiting (so a push sends them). */
export async function markOutboxListingsDirty(connectionId: string, since: Date): Promise<void> {
  const rows = await db().query<{ id: string }>(sql`
    SELECT l.id FROM listing l JOIN listing_component c ON c.listing_id = l.id
      JOIN source_adjustment a ON a.item_id = c.item_id AND a.location_id = l.source_location_id
     WHERE l.connection_id = ${connectionId}::uuid AND a.status IN ('pending', 'sending')`);
  await markDirty(
    rows.map((r) => r.id),
    since,
  );
}

/** Connections with source levels flagged for a read longer than 10 s (a lost read job). */
export async function connectionsWithStaleFlags(): Promise<string[]> {
  const rows = await db().query<{ connectionId: string }>(sql`
    SELECT DISTINCT connection_id AS "connectionId" FROM listing
     WHERE remote_source = 'webhook' AND source_location_id IS NOT NULL
       AND remote_observed_at < now() - interval '10 seconds'`);
  return rows.map((r) => r.connectionId);
}

/** Push traces are operational data: kept a week. */
export async function pruneTraces(): Promise<number> {
  return db().execute(sql`DELETE FROM push_trace WHERE written_at < now() - interval '7 days'`);
}

/**
 * Writes the channel accepted but has not applied (Amazon ACCEPTED): what was sent and its
 * tracking id. The listing is clean if nothing changed since `version`; its receipts keep waiting
 * for the confirmation, which writes their trace. The channel applies accepted writes in order,
 * so what it will show is this write: the planner compares the next published value with it
 * (otherwise a value that goes 5 → 3 → 5 within the confirmation window would never be written
 * back, the accepted 3 landing last).
 */
export async function recordPending(
  rows: { listingId: string; version: number; quantity: number; trackingId: string }[],
  at: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await db().execute(sql`
    UPDATE listing l
       SET pushed_version = GREATEST(l.pushed_version, u.version),
           pushed_quantity = u.quantity, last_pushed_at = ${at}::timestamptz,
           remote_quantity = u.quantity, remote_source = 'push', remote_observed_at = ${at}::timestamptz,
           pending_tracking_id = u.tracking, pending_quantity = u.quantity,
           pending_since = COALESCE(l.pending_since, ${at}::timestamptz),
           dirty_since = CASE WHEN l.published_version <= u.version THEN NULL ELSE l.dirty_since END,
           failure_count = 0, last_error = NULL, updated_at = now()
      FROM unnest(${rows.map((r) => r.listingId)}::uuid[], ${rows.map((r) => r.version)}::int[],
                  ${rows.map((r) => r.quantity)}::int[], ${rows.map((r) => r.trackingId)}::text[])
           AS u(id, version, quantity, tracking)
     WHERE l.id = u.id`);
}

export type PendingListing = {
  id: string;
  remoteRef: string;
  remoteLocationRef: string;
  sku: string | null;
  trackingId: string;
  quantity: number;
  since: Date;
};

export async function pendingListings(
  connectionId: string,
  limit: number,
): Promise<PendingListing[]> {
  return db().query<PendingListing>(sql`
    SELECT id, remote_ref AS "remoteRef", remote_location_ref AS "remoteLocationRef", sku,
           pending_tracking_id AS "trackingId", pending_quantity AS quantity, pending_since AS since
      FROM listing
     WHERE connection_id = ${connectionId}::uuid AND pending_tracking_id IS NOT NULL
     ORDER BY pending_since LIMIT ${limit}`);
}

/**
 * An accepted write is applied: the channel showed `quantity` at `at` — the write itself
 * (`push`), or what a read-back found then (`read`: the write landed, and the channel's own sales
 * since moved it). That becomes what the channel shows unless something newer was observed
 * meanwhile (a sale after the write landed, reported before the confirmation). Receipts the
 * write carried get their trace. Only if the listing still waits for this very write (a newer
 * one may have been accepted since). A listing whose channel now shows anything but its published
 * quantity is marked for a push (an order applied while the write was on its way); returns how
 * many were.
 */
export async function confirmPending(
  connectionId: string,
  rows: {
    listingId: string;
    trackingId: string;
    quantity: number;
    source?: "push" | "read";
  }[],
  at: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  const confirmed = await db().query<{ receipts: bigint[]; off: boolean }>(sql`
    WITH u AS (
      SELECT * FROM unnest(${rows.map((r) => r.listingId)}::uuid[], ${rows.map((r) => r.trackingId)}::text[],
                           ${rows.map((r) => r.quantity)}::int[], ${rows.map((r) => r.source ?? "push")}::text[])
               AS u(id, tracking, quantity, source)
    ), next AS (
      SELECT l.id, u.tracking,
             (l.remote_source IN ('read', 'webhook') AND l.remote_observed_at > ${at}::timestamptz) AS newer,
             u.quantity, u.source
        FROM listing l JOIN u ON u.id = l.id
    )
    UPDATE listing l
       SET pending_tracking_id = NULL, pending_quantity = NULL, pending_since = NULL,
           remote_quantity = CASE WHEN n.newer THEN l.remote_quantity ELSE n.quantity END,
           remote_source = CASE WHEN n.newer THEN l.remote_source ELSE n.source END,
           remote_observed_at = CASE WHEN n.newer THEN l.remote_observed_at ELSE ${at}::timestamptz END,
           published_version = CASE WHEN (CASE WHEN n.newer THEN l.remote_quantity ELSE n.quantity END)
                                         IS DISTINCT FROM l.published_quantity
                                    THEN l.published_version + 1 ELSE l.published_version END,
           dirty_since = CASE WHEN (CASE WHEN n.newer THEN l.remote_quantity ELSE n.quantity END)
                                   IS DISTINCT FROM l.published_quantity
                              THEN COALESCE(l.dirty_since, ${at}::timestamptz) ELSE l.dirty_since END,
           pending_receipt_ids = '{}', updated_at = now()
      FROM next n
     WHERE l.id = n.id AND l.pending_tracking_id = n.tracking
    RETURNING (SELECT l2.pending_receipt_ids FROM listing l2 WHERE l2.id = l.id) AS receipts,
              l.remote_quantity IS DISTINCT FROM l.published_quantity AS off`);
  const receipts = [...new Set(confirmed.flatMap((r) => (r.receipts ?? []).map(String)))];
  if (receipts.length > 0) {
    await db().execute(sql`
      INSERT INTO push_trace (receipt_id, connection_id, written_at)
      SELECT unnest(${receipts}::bigint[]), ${connectionId}::uuid, ${at}::timestamptz
      ON CONFLICT DO NOTHING`);
  }
  return confirmed.filter((r) => r.off).length;
}

/**
 * An accepted write was refused later, or never confirmed: forget it and mark the listing dirty,
 * so the next push writes the then-current value (what the channel shows is unknown again).
 */
export async function abandonPending(
  rows: { listingId: string; trackingId: string }[],
  since: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await db().execute(sql`
    UPDATE listing l
       SET pending_tracking_id = NULL, pending_quantity = NULL, pending_since = NULL,
           pushed_quantity = NULL, remote_quantity = NULL, remote_source = NULL,
           published_version = l.published_version + 1,
           dirty_since = COALESCE(l.dirty_since, ${since}::timestamptz), updated_at = now()
      FROM unnest(${rows.map((r) => r.listingId)}::uuid[], ${rows.map((r) => r.trackingId)}::text[])
           AS u(id, tracking)
     WHERE l.id = u.id AND l.pending_tracking_id = u.tracking`);
}

/**
 * Counts one revision per listing on the channel's calendar day `day` (YYYY-MM-DD) and returns
 * each listing's count for that day after this write.
 */
export async function countRevisions(
  listingIds: string[],
  day: string,
): Promise<Map<string, number>> {
  if (listingIds.length === 0) return new Map();
  const rows = await db().query<{ id: string; n: number }>(sql`
    UPDATE listing
       SET revisions_today = CASE WHEN revisions_day = ${day}::date THEN revisions_today + 1 ELSE 1 END,
           revisions_day = ${day}::date
     WHERE id = ANY(${listingIds}::uuid[])
    RETURNING id, revisions_today AS n`);
  return new Map(rows.map((r) => [r.id, r.n]));
}

/** Revisions each listing has used on `day` (0 when none or another day). */
export async function revisionsUsed(
  listingIds: string[],
  day: string,
): Promise<Map<string, number>> {
  if (listingIds.length === 0) return new Map();
  const rows = await db().query<{ id: string; n: number }>(sql`
    SELECT id, CASE WHEN revisions_day = ${day}::date THEN revisions_today ELSE 0 END AS n
      FROM listing WHERE id = ANY(${listingIds}::uuid[])`);
  return new Map(rows.map((r) => [r.id, r.n]));
}

/** Every active listing of a connection is looked at by the next push (a channel resumed). */
export async function markConnectionDirty(connectionId: string, since: Date): Promise<void> {
  await db().execute(sql`
    UPDATE listing SET published_version = published_version + 1,
                       dirty_since = COALESCE(dirty_since, ${since}::timestamptz), updated_at = now()
     WHERE connection_id = ${connectionId}::uuid AND status = 'active'`);
}

/** Every level a source connection's listings stand for (to read them all). */
export async function sourceListingRefs(
  connectionId: string,
): Promise<{ id: string; remoteRef: string; remoteLocationRef: string }[]> {
  return db().query(sql`
    SELECT id, remote_ref AS "remoteRef", remote_location_ref AS "remoteLocationRef" FROM listing
     WHERE connection_id = ${connectionId}::uuid AND source_location_id IS NOT NULL AND status = 'active'`);
}
