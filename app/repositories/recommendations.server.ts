/**
 * Read model and writes of buffer recommendations (issue 18): the shop's order history as
 * demand (order lines per channel and stock item), each connection's measured propagation delay
 * (push_trace: when an event from another channel reached it, against when that event happened),
 * cancellation rates, ATS per SKU, the shop's service level and lead times, the current rule of
 * a scope, and the log of applied recommendations. Every statement is scoped by shop.
 */
import type { BufferKind } from "../domain/types";
import { db, sql } from "../lib/sql.server";

export type HistorySale = { at: Date; channelId: string; sku: string; units: number };

/** Units ordered per order line (in stock-item units) since `since`, with its channel. */
export async function loadOrderHistory(input: {
  shopId: string;
  since: Date;
}): Promise<HistorySale[]> {
  return db().query<HistorySale>(sql`
    SELECT ol.created_at AS at, ol.connection_id AS "channelId", si.sku, ol.ordered AS units
      FROM order_line ol
      JOIN stock_item si ON si.id = ol.item_id
     WHERE ol.shop_id = ${input.shopId}::uuid
       AND ol.created_at > ${input.since}::timestamptz
       AND ol.ordered > 0`);
}

export type ChannelDelay = {
  connectionId: string;
  p99Ms: number;
  p50Ms: number;
  /** The delays at the quantile levels asked for, in that order. */
  quantilesMs: number[];
  samples: number;
};

/**
 * Per connection: quantiles of the propagation delay of sales on *other* connections — from the
 * sale (its earliest event's time at its channel, or receipt) until this connection was first
 * written with it — over the traces kept (push_trace is pruned after 7 days). One sample per
 * order and connection: an order's later webhooks (its `orders/updated` when it ships or is
 * edited, reordered duplicates) move nothing a buyer races, yet a merchant fulfilling 200 orders
 * at once made 200 slow `orders/updated` traces on the source store, and its p99 (the race
 * window W) was a batch's — 3.6 s against 2.0 s for the sales themselves in the market bench.
 * Shipments and refunds are left out for the same reason.
 */
export async function loadPropagationDelays(input: {
  shopId: string;
  since: Date;
  quantiles: readonly number[];
}): Promise<ChannelDelay[]> {
  return db().query<ChannelDelay>(sql`
    WITH sale AS (
      SELECT pt.connection_id,
             GREATEST(0, extract(epoch FROM
               min(pt.written_at) - min(LEAST(r.received_at, COALESCE(r.triggered_at, r.received_at)))) * 1000) AS ms
        FROM push_trace pt
        JOIN receipt r ON r.id = pt.receipt_id
       WHERE r.shop_id = ${input.shopId}::uuid
         AND pt.connection_id <> r.connection_id
         AND r.topic NOT LIKE 'fulfillments/%' AND r.topic NOT LIKE 'refunds/%'
         AND pt.written_at > ${input.since}::timestamptz
       GROUP BY pt.connection_id, r.connection_id, COALESCE(r.resource_id, r.id::text)
    )
    SELECT connection_id AS "connectionId",
           percentile_disc(0.99) WITHIN GROUP (ORDER BY ms)::float8 AS "p99Ms",
           percentile_disc(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS "p50Ms",
           percentile_disc(${input.quantiles}::float8[]) WITHIN GROUP (ORDER BY ms)::float8[] AS "quantilesMs",
           count(*)::int AS samples
      FROM sale
     GROUP BY connection_id`);
}

export type RecommendationChannel = {
  id: string;
  name: string;
  kind: "shopify" | "amazon" | "ebay" | "walmart";
  role: string;
};

/** The shop's connections that sell (active, source or sales), oldest first. */
export async function listSellingChannels(input: {
  shopId: string;
}): Promise<RecommendationChannel[]> {
  return db().query<RecommendationChannel>(sql`
    SELECT id, name, kind::text AS kind, role::text AS role
      FROM connection
     WHERE shop_id = ${input.shopId}::uuid AND status = 'active'
     ORDER BY role, created_at, id`);
}

/** Per connection: order lines since `since` and how many were cancelled in whole or part. */
export async function loadCancellationCounts(input: {
  shopId: string;
  since: Date;
}): Promise<{ connectionId: string; lines: number; cancelled: number }[]> {
  return db().query(sql`
    SELECT connection_id AS "connectionId", count(*)::int AS lines,
           count(*) FILTER (WHERE cancelled_all OR cancelled > 0)::int AS cancelled
      FROM order_line
     WHERE shop_id = ${input.shopId}::uuid AND created_at > ${input.since}::timestamptz
     GROUP BY connection_id`);
}

/** ATS per SKU: on hand − committed − held − damaged − safety stock over active source locations. */
export async function loadAtsBySku(input: {
  shopId: string;
}): Promise<{ sku: string; title: string | null; ats: number }[]> {
  return db().query(sql`
    SELECT si.sku, si.title,
           COALESCE(sum(sl.on_hand - sl.committed - sl.held - sl.damaged - sl.safety_stock)
                    FILTER (WHERE loc.is_source AND loc.active), 0)::int AS ats
      FROM stock_item si
      LEFT JOIN stock_level sl ON sl.item_id = si.id
      LEFT JOIN location loc ON loc.id = sl.location_id
     WHERE si.shop_id = ${input.shopId}::uuid
     GROUP BY si.id, si.sku, si.title
     ORDER BY si.sku`);
}

export type RecommendationSettings = {
  serviceLevel: number;
  tailOwner: boolean;
  /** Re-evaluate daily and apply what changed (the merchant's standing consent). */
  keepApplied: boolean;
};

export const DEFAULT_SETTINGS: RecommendationSettings = {
  serviceLevel: 0.99,
  tailOwner: true,
  keepApplied: false,
};

export async function loadSettings(input: { shopId: string }): Promise<RecommendationSettings> {
  const rows = await db().query<RecommendationSettings>(sql`
    SELECT service_level AS "serviceLevel", tail_owner AS "tailOwner", keep_applied AS "keepApplied"
      FROM recommendation_setting WHERE shop_id = ${input.shopId}::uuid`);
  return rows[0] ?? DEFAULT_SETTINGS;
}

export async function saveSettings(input: {
  shopId: string;
  settings: RecommendationSettings;
}): Promise<void> {
  await db().execute(sql`
    INSERT INTO recommendation_setting (shop_id, service_level, tail_owner, keep_applied, updated_at)
    VALUES (${input.shopId}::uuid, ${input.settings.serviceLevel}, ${input.settings.tailOwner},
            ${input.settings.keepApplied}, now())
    ON CONFLICT (shop_id) DO UPDATE
      SET service_level = EXCLUDED.service_level, tail_owner = EXCLUDED.tail_owner,
          keep_applied = EXCLUDED.keep_applied, updated_at = now()`);
}

/**
 * Claims the shops whose daily re-evaluation is due (opted in, not run within `everyMs`): one
 * conditional UPDATE, so of several workers only one gets each shop per period.
 */
export async function claimDueKeepers(input: { everyMs: number; now: Date }): Promise<string[]> {
  const rows = await db().query<{ shopId: string }>(sql`
    UPDATE recommendation_setting rs SET kept_at = ${input.now}
      FROM shop s
     WHERE s.id = rs.shop_id AND s.status = 'active' AND rs.keep_applied
       AND (rs.kept_at IS NULL OR rs.kept_at <= ${input.now}::timestamptz - make_interval(secs => ${input.everyMs / 1000}))
    RETURNING rs.shop_id AS "shopId"`);
  return rows.map((r) => r.shopId);
}

export type LeadTimeRow = {
  sku: string | null;
  supplier: string | null;
  days: number;
  sdDays: number;
};

/** Lead times of the shop; the row with a null SKU is the shop default. */
export async function loadLeadTimes(input: { shopId: string }): Promise<LeadTimeRow[]> {
  return db().query<LeadTimeRow>(sql`
    SELECT sku, supplier, days, sd_days AS "sdDays"
      FROM lead_time WHERE shop_id = ${input.shopId}::uuid
     ORDER BY sku NULLS FIRST`);
}

export async function upsertLeadTime(input: { shopId: string } & LeadTimeRow): Promise<void> {
  await db().execute(sql`
    INSERT INTO lead_time (shop_id, sku, supplier, days, sd_days, updated_at)
    VALUES (${input.shopId}::uuid, ${input.sku}, ${input.supplier}, ${input.days}, ${input.sdDays}, now())
    ON CONFLICT (shop_id, sku) DO UPDATE
      SET supplier = EXCLUDED.supplier, days = EXCLUDED.days, sd_days = EXCLUDED.sd_days, updated_at = now()`);
}

export type ScopedRule = {
  connectionId: string | null;
  sku: string | null;
  kind: BufferKind;
  value: number;
};

/** The shop's rules of these kinds at SKU scopes (what a recommendation would replace). */
export async function loadSkuRules(input: {
  shopId: string;
  kinds: BufferKind[];
}): Promise<ScopedRule[]> {
  return db().query<ScopedRule>(sql`
    SELECT connection_id AS "connectionId", sku, kind::text AS kind, value
      FROM buffer_rule
     WHERE shop_id = ${input.shopId}::uuid AND sku IS NOT NULL
       AND kind::text = ANY(${input.kinds}::text[])`);
}

export type RecommendationChangeRow = {
  connectionId: string | null;
  sku: string;
  kind: BufferKind;
  value: number;
  previousValue: number | null;
  explanation: string;
  actor: string;
};

/** Logs applied recommendations (one row each). */
export async function logChanges(input: {
  shopId: string;
  changes: RecommendationChangeRow[];
}): Promise<void> {
  if (input.changes.length === 0) return;
  const c = input.changes;
  await db().execute(sql`
    INSERT INTO recommendation_change (shop_id, connection_id, sku, kind, value, previous_value, explanation, actor)
    SELECT ${input.shopId}::uuid, u.connection_id, u.sku, u.kind::"BufferKind", u.value, u.previous_value, u.explanation, u.actor
      FROM unnest(${c.map((x) => x.connectionId)}::uuid[], ${c.map((x) => x.sku)}::text[],
                  ${c.map((x) => x.kind)}::text[], ${c.map((x) => x.value)}::int[],
                  ${c.map((x) => x.previousValue)}::int[], ${c.map((x) => x.explanation)}::text[],
                  ${c.map((x) => x.actor)}::text[])
           AS u(connection_id, sku, kind, value, previous_value, explanation, actor)`);
}

/** The latest applied recommendations, newest first. */
export async function listChanges(input: {
  shopId: string;
  limit: number;
}): Promise<(RecommendationChangeRow & { appliedAt: Date; connectionName: string | null })[]> {
  return db().query(sql`
    SELECT rc.connection_id AS "connectionId", c.name AS "connectionName", rc.sku, rc.kind::text AS kind,
           rc.value, rc.previous_value AS "previousValue", rc.explanation, rc.actor, rc.applied_at AS "appliedAt"
      FROM recommendation_change rc
      LEFT JOIN connection c ON c.id = rc.connection_id
     WHERE rc.shop_id = ${input.shopId}::uuid
     ORDER BY rc.applied_at DESC, rc.id DESC
     LIMIT ${input.limit}`);
}

/** Every buffer rule of the shop (the backtest resolves them per listing). */
export async function loadShopRules(input: {
  shopId: string;
}): Promise<
  { id: string; connectionId: string | null; sku: string | null; kind: BufferKind; value: number }[]
> {
  return db().query(sql`
    SELECT id, connection_id AS "connectionId", sku, kind::text AS kind, value
      FROM buffer_rule WHERE shop_id = ${input.shopId}::uuid`);
}

/** Which channels list which stock items (by the item's SKU), active listings only. */
export async function loadListedSkus(input: {
  shopId: string;
}): Promise<{ connectionId: string; sku: string }[]> {
  return db().query(sql`
    SELECT DISTINCT l.connection_id AS "connectionId", si.sku
      FROM listing l
      JOIN listing_component lc ON lc.listing_id = l.id
      JOIN stock_item si ON si.id = lc.item_id
     WHERE l.shop_id = ${input.shopId}::uuid AND l.status = 'active'`);
}
