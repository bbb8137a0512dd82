/**
 * Cycle counts: the count and its lines (snapshot at start, counted quantity and the expected
 * value at the time of counting), status changes as conditional updates (a count is approved
 * once), the corrections booked, and the history of counts and variance per SKU.
 */
import { db, sql } from "../lib/sql.server";
import type { Tx } from "./tx.server";

export type CountRow = {
  id: bigint;
  locationId: string;
  locationName: string;
  scope: string;
  filter: string | null;
  sampleSize: number | null;
  status: "open" | "review" | "approved" | "cancelled";
  startedBy: string;
  startedAt: Date;
  submittedAt: Date | null;
  approvedBy: string | null;
  approvedAt: Date | null;
  cancelledAt: Date | null;
};

export type CountLineRow = {
  id: bigint;
  itemId: string;
  locationId: string;
  sku: string;
  title: string | null;
  barcode: string | null;
  unitPrice: string | null;
  snapshotOnHand: number;
  counted: number | null;
  countedAt: Date | null;
  countedBy: string | null;
  expectedAtCount: number | null;
  movementId: bigint | null;
};

const COUNT_COLUMNS = sql`c.id, c.location_id AS "locationId", loc.name AS "locationName", c.scope, c.filter,
       c.sample_size AS "sampleSize", c.status, c.started_by AS "startedBy", c.started_at AS "startedAt",
       c.submitted_at AS "submittedAt", c.approved_by AS "approvedBy", c.approved_at AS "approvedAt",
       c.cancelled_at AS "cancelledAt"`;

/** The shop's active source locations (where counts happen), primary first. */
export async function countLocations(
  shopId: string,
): Promise<{ id: string; name: string; isPrimary: boolean }[]> {
  return db().query(sql`
    SELECT id, name, is_primary AS "isPrimary" FROM location
     WHERE shop_id = ${shopId}::uuid AND is_source AND active
     ORDER BY is_primary DESC, name`);
}

/** The source connection of a shop (where count corrections are written). */
export async function sourceConnectionOf(shopId: string): Promise<string | null> {
  const rows = await db().query<{ id: string }>(sql`
    SELECT id FROM connection WHERE shop_id = ${shopId}::uuid AND role = 'source' LIMIT 1`);
  return rows[0]?.id ?? null;
}

/**
 * Every item stocked at the location with what sampling needs: on hand, the source listing's
 * unit price, and units sold in the last `days` days (order placements and edits up).
 */
export async function countCandidates(
  shopId: string,
  locationId: string,
  days: number,
): Promise<
  {
    itemId: string;
    sku: string;
    title: string | null;
    onHand: number;
    unitPrice: string | null;
    recentUnits: number;
  }[]
> {
  return db().query(sql`
    SELECT i.id AS "itemId", i.sku, i.title, s.on_hand AS "onHand",
           (SELECT l.unit_price::text FROM listing l JOIN listing_component lc ON lc.listing_id = l.id
             WHERE lc.item_id = i.id AND l.source_location_id = s.location_id AND l.unit_price IS NOT NULL
             LIMIT 1) AS "unitPrice",
           COALESCE((SELECT sum(GREATEST(m.d_committed, 0))::int FROM movement m
                      WHERE m.item_id = i.id AND m.shop_id = ${shopId}::uuid
                        AND m.kind IN ('order_placed', 'order_edited')
                        AND m.created_at > now() - make_interval(days => ${days})), 0) AS "recentUnits"
      FROM stock_level s JOIN stock_item i ON i.id = s.item_id
     WHERE s.shop_id = ${shopId}::uuid AND s.location_id = ${locationId}::uuid`);
}

export async function locationOfShop(shopId: string, locationId: string): Promise<boolean> {
  const rows = await db().query(sql`
    SELECT 1 FROM location WHERE id = ${locationId}::uuid AND shop_id = ${shopId}::uuid AND is_source AND active`);
  return rows.length > 0;
}

/**
 * A new count with its lines. Each line's snapshot is the level's on hand together with the last
 * movement of that level it includes, read in one statement (one snapshot: a movement and its
 * balance change commit together, and a later movement of the level gets a larger id, since
 * movements of an item are written under its lock), so expected = snapshot + later movements.
 */
export async function createCount(
  tx: Tx,
  input: {
    shopId: string;
    locationId: string;
    scope: string;
    filter: string | null;
    sampleSize: number | null;
    startedBy: string;
    itemIds: string[];
  },
): Promise<bigint> {
  const [count] = await tx.query<{ id: bigint }>(sql`
    INSERT INTO cycle_count (shop_id, location_id, scope, filter, sample_size, started_by)
    VALUES (${input.shopId}::uuid, ${input.locationId}::uuid, ${input.scope}, ${input.filter},
            ${input.sampleSize}, ${input.startedBy})
    RETURNING id`);
  await tx.execute(sql`
    INSERT INTO cycle_count_line (count_id, shop_id, item_id, location_id, sku, title, barcode, unit_price,
                                  snapshot_on_hand, snapshot_movement_id)
    SELECT ${count!.id}::bigint, s.shop_id, s.item_id, s.location_id, i.sku, i.title, src.barcode, src.unit_price,
           s.on_hand,
           COALESCE((SELECT max(m.id) FROM movement m WHERE m.item_id = s.item_id AND m.location_id = s.location_id), 0)
      FROM stock_level s
      JOIN stock_item i ON i.id = s.item_id
      LEFT JOIN LATERAL (
        SELECT l.barcode, l.unit_price FROM listing l JOIN listing_component lc ON lc.listing_id = l.id
         WHERE lc.item_id = s.item_id AND l.source_location_id = s.location_id
         ORDER BY l.barcode IS NULL, l.unit_price IS NULL LIMIT 1) src ON true
     WHERE s.shop_id = ${input.shopId}::uuid AND s.location_id = ${input.locationId}::uuid
       AND s.item_id = ANY(${input.itemIds}::uuid[])`);
  return count!.id;
}

export async function findCount(shopId: string, countId: bigint): Promise<CountRow | null> {
  const rows = await db().query<CountRow>(sql`
    SELECT ${COUNT_COLUMNS}
      FROM cycle_count c JOIN location loc ON loc.id = c.location_id
     WHERE c.id = ${countId}::bigint AND c.shop_id = ${shopId}::uuid`);
  return rows[0] ?? null;
}

export async function countLines(
  shopId: string,
  countId: bigint,
  client: Tx = db(),
): Promise<CountLineRow[]> {
  return client.query<CountLineRow>(sql`
    SELECT id, item_id AS "itemId", location_id AS "locationId", sku, title, barcode,
           unit_price::text AS "unitPrice", snapshot_on_hand AS "snapshotOnHand", counted,
           counted_at AS "countedAt", counted_by AS "countedBy", expected_at_count AS "expectedAtCount",
           movement_id AS "movementId"
      FROM cycle_count_line
     WHERE count_id = ${countId}::bigint AND shop_id = ${shopId}::uuid
     ORDER BY sku`);
}

/**
 * Records counted quantities, all or none, only while the count is open. Each line's expected
 * value is its snapshot plus every movement of its level since (its ledger balance now). Returns
 * the number of lines updated (0: the count is not open).
 */
export async function recordCounted(input: {
  shopId: string;
  countId: bigint;
  countedBy: string;
  entries: { itemId: string; counted: number }[];
}): Promise<number> {
  if (input.entries.length === 0) return 0;
  return db().execute(sql`
    UPDATE cycle_count_line l
       SET counted = u.counted, counted_at = now(), counted_by = ${input.countedBy},
           expected_at_count = l.snapshot_on_hand + COALESCE((
             SELECT sum(m.d_on_hand)::int FROM movement m
              WHERE m.item_id = l.item_id AND m.location_id = l.location_id AND m.id > l.snapshot_movement_id), 0)
      FROM unnest(${input.entries.map((e) => e.itemId)}::uuid[], ${input.entries.map((e) => e.counted)}::int[])
           AS u(item_id, counted)
     WHERE l.count_id = ${input.countId}::bigint AND l.shop_id = ${input.shopId}::uuid AND l.item_id = u.item_id
       AND EXISTS (SELECT 1 FROM cycle_count c WHERE c.id = l.count_id AND c.status = 'open')`);
}

/**
 * Moves a count from one of `from` to `to` (a conditional update: of two concurrent approvals
 * exactly one gets the row). Returns false when the count was not in `from`.
 */
export async function transitionCount(
  input: {
    shopId: string;
    countId: bigint;
    from: string[];
    to: "open" | "review" | "approved" | "cancelled";
    actor: string;
  },
  client: Tx = db(),
): Promise<boolean> {
  const n = await client.execute(sql`
    UPDATE cycle_count
       SET status = ${input.to}::text,
           submitted_at = CASE WHEN ${input.to}::text = 'review' THEN now() ELSE submitted_at END,
           approved_at = CASE WHEN ${input.to}::text = 'approved' THEN now() ELSE approved_at END,
           approved_by = CASE WHEN ${input.to}::text = 'approved' THEN ${input.actor} ELSE approved_by END,
           cancelled_at = CASE WHEN ${input.to}::text = 'cancelled' THEN now() ELSE cancelled_at END
     WHERE id = ${input.countId}::bigint AND shop_id = ${input.shopId}::uuid AND status = ANY(${input.from}::text[])`);
  return n > 0;
}

/** Ties each booked correction (found by its ledger key) to its count line. */
export async function linkCorrections(
  tx: Tx,
  input: { shopId: string; countId: bigint; corrections: { itemId: string; key: string }[] },
): Promise<void> {
  if (input.corrections.length === 0) return;
  await tx.execute(sql`
    UPDATE cycle_count_line l SET movement_id = m.id
      FROM unnest(${input.corrections.map((c) => c.itemId)}::uuid[], ${input.corrections.map((c) => c.key)}::text[])
           AS u(item_id, key)
      JOIN movement m ON m.shop_id = ${input.shopId}::uuid AND m.idempotency_key = u.key
     WHERE l.count_id = ${input.countId}::bigint AND l.item_id = u.item_id`);
}

export type CountSummaryRow = CountRow & {
  lines: number;
  counted: number;
  withVariance: number;
  netUnits: number;
  absoluteUnits: number;
  netValue: string;
};

/** The shop's counts, newest first, with their variance totals. */
export async function listCounts(shopId: string, limit: number): Promise<CountSummaryRow[]> {
  return db().query<CountSummaryRow>(sql`
    SELECT ${COUNT_COLUMNS},
           count(l.id)::int AS lines,
           count(l.counted)::int AS counted,
           count(*) FILTER (WHERE l.counted IS NOT NULL AND l.counted <> l.expected_at_count)::int AS "withVariance",
           COALESCE(sum(l.counted - l.expected_at_count), 0)::int AS "netUnits",
           COALESCE(sum(abs(l.counted - l.expected_at_count)), 0)::int AS "absoluteUnits",
           COALESCE(sum((l.counted - l.expected_at_count) * COALESCE(l.unit_price, 0)), 0)::text AS "netValue"
      FROM cycle_count c
      JOIN location loc ON loc.id = c.location_id
      LEFT JOIN cycle_count_line l ON l.count_id = c.id
     WHERE c.shop_id = ${shopId}::uuid
     GROUP BY c.id, loc.name
     ORDER BY c.started_at DESC, c.id DESC
     LIMIT ${limit}`);
}

/** Variance of one SKU across approved counts, newest first. */
export async function skuVarianceHistory(
  shopId: string,
  sku: string,
  limit: number,
): Promise<
  {
    countId: bigint;
    approvedAt: Date;
    locationName: string;
    expected: number;
    counted: number;
    variance: number;
    unitPrice: string | null;
    movementId: bigint | null;
  }[]
> {
  return db().query(sql`
    SELECT c.id AS "countId", c.approved_at AS "approvedAt", loc.name AS "locationName",
           l.expected_at_count AS expected, l.counted, (l.counted - l.expected_at_count) AS variance,
           l.unit_price::text AS "unitPrice", l.movement_id AS "movementId"
      FROM cycle_count_line l
      JOIN cycle_count c ON c.id = l.count_id
      JOIN location loc ON loc.id = c.location_id
     WHERE l.shop_id = ${shopId}::uuid AND l.sku = ${sku} AND c.status = 'approved' AND l.counted IS NOT NULL
     ORDER BY c.approved_at DESC
     LIMIT ${limit}`);
}

/** SKUs with the most variance across approved counts (absolute units), for the history view. */
export async function topVarianceSkus(
  shopId: string,
  limit: number,
): Promise<
  { sku: string; counts: number; netUnits: number; absoluteUnits: number; netValue: string }[]
> {
  return db().query(sql`
    SELECT l.sku, count(*)::int AS counts,
           sum(l.counted - l.expected_at_count)::int AS "netUnits",
           sum(abs(l.counted - l.expected_at_count))::int AS "absoluteUnits",
           sum((l.counted - l.expected_at_count) * COALESCE(l.unit_price, 0))::text AS "netValue"
      FROM cycle_count_line l JOIN cycle_count c ON c.id = l.count_id
     WHERE l.shop_id = ${shopId}::uuid AND c.status = 'approved' AND l.counted IS NOT NULL
     GROUP BY l.sku
    HAVING sum(abs(l.counted - l.expected_at_count)) > 0
     ORDER BY "absoluteUnits" DESC, l.sku
     LIMIT ${limit}`);
}
