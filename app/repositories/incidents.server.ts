/**
 * Oversell incidents: the provisional row written with the movement that took an item short
 * (what each channel showed, when it was last written), the settling queries (is the item quiet,
 * what is its physical shortfall, what did earlier settlements confirm) and the evidence a
 * confirmed incident's root cause is decided from; resolving with a note.
 */
import { sql } from "../lib/sql.server";
import { db } from "../lib/sql.server";
import type { Tx } from "./tx.server";

export async function insertIncident(
  tx: Tx,
  input: {
    shopId: string;
    itemId: string;
    sku: string;
    connectionId: string | null;
    orderRef: string | null;
    lineRef: string | null;
    movementId: bigint;
    receiptId: bigint | null;
    shortfall: number;
    atsBefore: number;
    atsAfter: number;
    snapshot: unknown;
    merchant: boolean;
  },
): Promise<bigint> {
  // The sale's own time: the channel's trigger time of its delivery, else when it reached us.
  const rows = await tx.query<{ id: bigint }>(sql`
    INSERT INTO oversell_incident (shop_id, item_id, sku, connection_id, order_ref, line_ref, movement_id,
                                   receipt_id, shortfall, ats_before, ats_after, snapshot, status, merchant,
                                   sale_at)
    VALUES (${input.shopId}::uuid, ${input.itemId}::uuid, ${input.sku}, ${input.connectionId}::uuid,
            ${input.orderRef}, ${input.lineRef}, ${input.movementId}, ${input.receiptId}, ${input.shortfall},
            ${input.atsBefore}, ${input.atsAfter}, ${JSON.stringify(input.snapshot)}::jsonb, 'provisional',
            ${input.merchant},
            COALESCE((SELECT COALESCE(r.triggered_at, r.received_at) FROM receipt r WHERE r.id = ${input.receiptId}::bigint),
                     now()))
    RETURNING id`);
  return rows[0]!.id;
}

/** Items with provisional incidents older than the settle window, or with confirmed shortfall. */
export async function itemsToSettle(
  settleMs: number,
  limit: number,
  shopId?: string,
): Promise<{ shopId: string; itemId: string }[]> {
  return db().query<{ shopId: string; itemId: string }>(sql`
    SELECT DISTINCT shop_id AS "shopId", item_id AS "itemId" FROM (
      SELECT shop_id, item_id FROM oversell_incident
       WHERE status = 'provisional' AND occurred_at < now() - make_interval(secs => ${settleMs}::int / 1000.0)
         AND (${shopId ?? null}::uuid IS NULL OR shop_id = ${shopId ?? null}::uuid)
      UNION
      SELECT shop_id, item_id FROM incident_settlement
       WHERE confirmed_shortfall > 0 AND (${shopId ?? null}::uuid IS NULL OR shop_id = ${shopId ?? null}::uuid)
    ) t LIMIT ${limit}`);
}

/** Receipts of the shop not yet applied (a cheap check before locking any of its items). */
export async function pendingReceiptsOfShop(shopId: string): Promise<number> {
  const rows = await db().query<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM receipt r WHERE r.status = 'pending'
       AND r.connection_id IN (SELECT id FROM connection WHERE shop_id = ${shopId}::uuid)`);
  return rows[0]?.n ?? 0;
}

/**
 * Locks the item (the ledger's own lock order: item rows) and tells whether anything that could
 * still change its shortfall is in flight: receipts of the shop not yet applied, a movement of
 * the item inside the settle window, a source level flagged for a read.
 */
export async function lockItemForSettle(
  tx: Tx,
  itemId: string,
  settleMs: number,
): Promise<{
  sellable: number;
  pendingReceipts: number;
  recentMovements: number;
  flaggedLevels: number;
  confirmedShortfall: number;
} | null> {
  const locked = await tx.query<{ id: string; shopId: string }>(sql`
    SELECT id, shop_id AS "shopId" FROM stock_item WHERE id = ${itemId}::uuid FOR UPDATE`);
  const item = locked[0];
  if (!item) return null;
  const rows = await tx.query<{
    sellable: number;
    pendingReceipts: number;
    recentMovements: number;
    flaggedLevels: number;
    confirmedShortfall: number;
  }>(sql`
    SELECT
      (SELECT COALESCE(sum(on_hand - committed - held - damaged), 0)::int FROM stock_level WHERE item_id = ${itemId}::uuid) AS sellable,
      (SELECT count(*)::int FROM receipt r WHERE r.status = 'pending'
          AND r.connection_id IN (SELECT id FROM connection WHERE shop_id = ${item.shopId}::uuid)) AS "pendingReceipts",
      (SELECT count(*)::int FROM movement m WHERE m.item_id = ${itemId}::uuid
          AND m.created_at > now() - make_interval(secs => ${settleMs}::int / 1000.0)) AS "recentMovements",
      (SELECT count(*)::int FROM listing l JOIN listing_component c ON c.listing_id = l.id
        WHERE c.item_id = ${itemId}::uuid AND l.remote_source = 'webhook' AND l.source_location_id IS NOT NULL) AS "flaggedLevels",
      COALESCE((SELECT confirmed_shortfall FROM incident_settlement WHERE item_id = ${itemId}::uuid), 0) AS "confirmedShortfall"`);
  return rows[0]!;
}

export type ProvisionalRow = {
  id: bigint;
  shortfall: number;
  saleAt: Date;
  merchant: boolean;
};

export async function provisionalIncidents(tx: Tx, itemId: string): Promise<ProvisionalRow[]> {
  return tx.query<ProvisionalRow>(sql`
    SELECT id, shortfall, COALESCE(sale_at, occurred_at) AS "saleAt", merchant
      FROM oversell_incident WHERE item_id = ${itemId}::uuid AND status = 'provisional'
     ORDER BY id FOR UPDATE`);
}

export async function confirmIncident(
  tx: Tx,
  input: {
    id: bigint;
    units: number;
    status: "confirmed" | "merchant_decision";
    cause: string;
    evidence: unknown;
  },
): Promise<void> {
  await tx.execute(sql`
    UPDATE oversell_incident
       SET status = ${input.status}, units = ${input.units}, cause = ${input.cause}, root_cause = ${input.cause},
           evidence = ${JSON.stringify(input.evidence)}::jsonb, settled_at = now()
     WHERE id = ${input.id} AND status = 'provisional'`);
}

export async function explainIncidents(tx: Tx, ids: bigint[]): Promise<number> {
  if (ids.length === 0) return 0;
  return tx.execute(sql`
    UPDATE oversell_incident SET status = 'explained', units = 0, settled_at = now()
     WHERE id = ANY(${ids.map(String)}::bigint[]) AND status = 'provisional'`);
}

export async function saveSettlement(
  tx: Tx,
  input: { shopId: string; itemId: string; confirmedShortfall: number },
): Promise<void> {
  await tx.execute(sql`
    INSERT INTO incident_settlement (item_id, shop_id, confirmed_shortfall, settled_at)
    VALUES (${input.itemId}::uuid, ${input.shopId}::uuid, ${input.confirmedShortfall}, now())
    ON CONFLICT (item_id) DO UPDATE SET confirmed_shortfall = EXCLUDED.confirmed_shortfall, settled_at = now()`);
}

/** The item's stock covers every sold unit again: its open confirmed incidents are resolved. */
export async function resolveCovered(tx: Tx, itemId: string): Promise<number> {
  return tx.execute(sql`
    UPDATE oversell_incident
       SET resolved_at = now(), resolution_note = COALESCE(resolution_note, 'covered: stock is available for every sold unit again')
     WHERE item_id = ${itemId}::uuid AND status = 'confirmed' AND resolved_at IS NULL`);
}

/** Resolves one incident of the shop with the merchant's note; false if none was open. */
export async function resolveIncident(input: {
  shopId: string;
  id: bigint;
  note: string;
}): Promise<boolean> {
  const n = await db().execute(sql`
    UPDATE oversell_incident SET resolved_at = now(), resolution_note = ${input.note}
     WHERE id = ${input.id} AND shop_id = ${input.shopId}::uuid AND status = 'confirmed' AND resolved_at IS NULL`);
  return n === 1;
}

/** What a confirmed incident's cause is decided from (read inside the settling transaction). */
export type IncidentFactsRow = {
  id: bigint;
  shopId: string;
  itemId: string;
  sku: string;
  connectionId: string | null;
  movementKind: string;
  actor: string;
  saleAt: Date;
  appliedAt: Date | null;
  receiptId: bigint | null;
  snapshot: {
    listingId: string;
    connectionId: string;
    role?: string;
    published: number;
    pushed: number | null;
    remote: number | null;
    lastPushedAt?: string | null;
    remoteObservedAt?: string | null;
    components?: number;
  }[];
  connectionStatus: string | null;
  units: number;
};

export async function incidentFacts(tx: Tx, id: bigint): Promise<IncidentFactsRow | null> {
  const rows = await tx.query<IncidentFactsRow>(sql`
    SELECT o.id, o.shop_id AS "shopId", o.item_id AS "itemId", o.sku, o.connection_id AS "connectionId",
           m.kind::text AS "movementKind", m.actor, COALESCE(o.sale_at, o.occurred_at) AS "saleAt",
           COALESCE(r.applied_at, m.created_at) AS "appliedAt", o.receipt_id AS "receiptId",
           o.snapshot, c.status::text AS "connectionStatus", GREATEST(m.d_committed, 0) AS units
      FROM oversell_incident o
      JOIN movement m ON m.id = o.movement_id
      LEFT JOIN receipt r ON r.id = o.receipt_id
      LEFT JOIN connection c ON c.id = o.connection_id
     WHERE o.id = ${id}`);
  return rows[0] ?? null;
}

/** Failures open on a connection at a moment (opened before, not resolved by then). */
export async function failuresAt(
  tx: Tx,
  connectionId: string,
  at: Date,
): Promise<{ kind: string; reason: string; at: Date }[]> {
  return tx.query(sql`
    SELECT kind, reason, occurred_at AS at FROM sync_failure
     WHERE connection_id = ${connectionId}::uuid AND occurred_at <= ${at}
       AND (resolved_at IS NULL OR resolved_at > ${at})
     ORDER BY occurred_at DESC LIMIT 5`);
}

/** Drift reconcile recorded on the connection's listings of the item in the hour before `at`. */
export async function driftBefore(
  tx: Tx,
  input: { connectionId: string; itemId: string; at: Date },
): Promise<{ expected: number; observed: number; cause: string; at: Date }[]> {
  return tx.query(sql`
    SELECT d.expected, d.observed, d.cause, d.detected_at AS at FROM drift_record d
     WHERE d.connection_id = ${input.connectionId}::uuid
       AND d.listing_id IN (SELECT listing_id FROM listing_component WHERE item_id = ${input.itemId}::uuid)
       AND d.detected_at <= ${input.at} AND d.detected_at > ${input.at}::timestamp - interval '1 hour'
     ORDER BY d.detected_at DESC LIMIT 5`);
}

/**
 * Sales of the item (commitments from channel orders) within `windowMs` of `at`: the channel's
 * time, when we applied it, and when its change reached each connection (push traces).
 */
export async function salesAround(
  tx: Tx,
  input: { itemId: string; at: Date; windowMs: number },
): Promise<
  {
    receiptId: bigint | null;
    connectionId: string;
    saleAt: Date;
    receivedAt: Date | null;
    appliedAt: Date;
    units: number;
    writtenAt: Record<string, string> | null;
  }[]
> {
  return tx.query(sql`
    SELECT m.receipt_id AS "receiptId", m.connection_id AS "connectionId", COALESCE(r.triggered_at, r.received_at, m.created_at) AS "saleAt",
           r.received_at AS "receivedAt", COALESCE(r.applied_at, m.created_at) AS "appliedAt", m.d_committed AS units,
           (SELECT jsonb_object_agg(t.connection_id, t.written_at) FROM push_trace t WHERE t.receipt_id = m.receipt_id) AS "writtenAt"
      FROM movement m LEFT JOIN receipt r ON r.id = m.receipt_id
     WHERE m.item_id = ${input.itemId}::uuid AND m.kind IN ('order_placed', 'order_edited') AND m.d_committed > 0
       AND m.connection_id IS NOT NULL
       AND COALESCE(r.triggered_at, r.received_at, m.created_at)
           BETWEEN ${input.at}::timestamp - make_interval(secs => ${input.windowMs}::int / 1000.0)
               AND ${input.at}::timestamp + make_interval(secs => ${input.windowMs}::int / 1000.0)
     ORDER BY 3 LIMIT 200`);
}

/** Units held back from a listing by buffer rules at the moment (ATS before − published). */
export async function bufferRulesFor(
  tx: Tx,
  input: { shopId: string; connectionId: string; sku: string },
): Promise<{ kind: string; value: number }[]> {
  return tx.query(sql`
    SELECT kind::text AS kind, value FROM buffer_rule
     WHERE shop_id = ${input.shopId}::uuid
       AND (connection_id IS NULL OR connection_id = ${input.connectionId}::uuid)
       AND (sku IS NULL OR sku = ${input.sku})`);
}
