/**
 * SQL of the ledger, one function per statement, always scoped by shop (or by ids that were
 * resolved within the shop). Every function takes the transaction it runs in: the apply service
 * owns transaction boundaries and lock order (`transaction` in ./tx.server.ts).
 */
import type { LineState } from "../domain/ledger";
import type { UnchangedClaim } from "../domain/operations";
import type { BufferRule, FactDelta, LevelFacts } from "../domain/types";
import { db, raw, sql, type Raw, type Sql } from "../lib/sql.server";
import type { Tx } from "./tx.server";

export type { Tx };

export type LevelRow = LevelFacts & {
  itemId: string;
  locationId: string;
  isPrimary: boolean;
};

export type OrderLineRow = LineState & {
  id: bigint;
  itemId: string;
  locationId: string;
  listingId: string | null;
  perUnit: number;
  committed: number;
};

export type ListingRow = {
  id: string;
  connectionId: string;
  connectionRole: "source" | "sales";
  connectionStatus: string;
  sku: string | null;
  sourceLocationId: string | null;
  publishedQuantity: number;
  pushedQuantity: number | null;
  lastPushedAt: Date | null;
  remoteQuantity: number | null;
  remoteObservedAt: Date | null;
  status: string;
  /** Units of the listing's provisional hold (0 when none). */
  holdUnits: number;
  /** What the channel shows is uncertain until read (listing.needs_read). */
  needsRead: boolean;
  /** Own sales applied since the last look that could not be placed against it. */
  unplacedSold: number;
};

/**
 * Whether a listing's remembered unplaced sales (`unplaced_sold`) still stand: no look at the
 * channel was recorded after the last of them (alias `li`).
 */
const UNPLACED_STAND = raw(
  "li.unplaced_at IS NOT NULL AND (li.remote_observed_at IS NULL OR li.remote_observed_at < li.unplaced_at)",
);

export type ComponentRow = { listingId: string; itemId: string; quantity: number };

export type ShopState = {
  domain: string;
  status: string;
  syncEnabled: boolean;
  rules: BufferRule[];
  connections: { id: string; role: "source" | "sales" }[];
};

/** The shop's status, its buffer rules and its connections (one row, or none). */
const shopStateOf = (shopId: string) => sql`
    SELECT s.domain, s.status::text AS status, s.sync_enabled AS "syncEnabled",
           COALESCE((SELECT json_agg(json_build_object('id', r.id, 'connectionId', r.connection_id, 'sku', r.sku,
                                                       'kind', r.kind, 'value', r.value))
                       FROM buffer_rule r WHERE r.shop_id = s.id), '[]'::json) AS rules,
           COALESCE((SELECT json_agg(json_build_object('id', c.id, 'role', c.role))
                       FROM connection c WHERE c.shop_id = s.id), '[]'::json) AS connections
      FROM shop s WHERE s.id = ${shopId}::uuid`;

/** The shop's status and its buffer rules, in one round trip. */
export async function shopState(tx: Tx, shopId: string): Promise<ShopState | null> {
  const rows = await tx.query<ShopState>(shopStateOf(shopId));
  return rows[0] ?? null;
}

export async function findItemsBySku(
  tx: Tx,
  shopId: string,
  skus: string[],
): Promise<{ id: string; sku: string }[]> {
  if (skus.length === 0) return [];
  return tx.query(
    sql`SELECT id, sku FROM stock_item WHERE shop_id = ${shopId}::uuid AND sku = ANY(${skus}::text[])`,
  );
}

export async function findItemsById(
  tx: Tx,
  shopId: string,
  ids: string[],
): Promise<{ id: string; sku: string }[]> {
  if (ids.length === 0) return [];
  return tx.query(
    sql`SELECT id, sku FROM stock_item WHERE shop_id = ${shopId}::uuid AND id = ANY(${ids}::uuid[])`,
  );
}

/** Advisory lock class of "one order of one connection" (pg_advisory_xact_lock(class, key)). */
const ORDER_LOCK_CLASS = 7301;

/**
 * Per-order critical section, taken before any item lock: the deliveries of one order
 * (orders/create and the orders/updated Shopify sends right after it, a refund, a fulfillment)
 * are applied one after the other, so the later ones find the first one's lines and take the
 * no-op path instead of queueing for the same item locks and redoing the whole event. Sorted,
 * and always before item locks, so concurrent events never deadlock.
 */
export async function lockOrders(
  tx: Tx,
  orders: { connectionId: string; orderId: string }[],
): Promise<void> {
  if (orders.length === 0) return;
  const keys = [...new Set(orders.map((o) => `${o.connectionId}|${o.orderId}`))].sort();
  await tx.query(sql`
    SELECT pg_advisory_xact_lock(${ORDER_LOCK_CLASS}::int, hashtext(k))
      FROM (SELECT k FROM unnest(${keys}::text[]) AS k ORDER BY k) AS ordered`);
}

/**
 * Per-item critical section. Locks the items and every other component of a bundle that
 * contains one of them (their ATS is read to price the bundle, so a concurrent event must not
 * change them under us), in id order so concurrent events never deadlock. Returns id → SKU.
 */
export async function lockItemsWithBundlePartners(
  tx: Tx,
  shopId: string,
  itemIds: string[],
): Promise<Map<string, string>> {
  if (itemIds.length === 0) return new Map();
  // The ids (the items and every partner through a shared listing) are computed once and the
  // items are then locked by primary key. Written so the plan stays index-driven even when the
  // planner's statistics are stale (right after a catalog import): an OR with a subquery, or a
  // hash join over listing_component, scans every row of the shop (measured: 5-16 ms per event
  // at 1,000 SKUs, growing with the catalog). OFFSET 0 keeps each lateral lookup an index probe;
  // the ids reach the statement through an InitPlan so it is planned once per connection (see
  // lockAndLoad).
  const rows = await tx.query<{ id: string; sku: string }>(sql`
    SELECT i.id, i.sku
      FROM (SELECT u.id FROM unnest((SELECT ${itemIds}::uuid[])) AS u(id)
            UNION
            SELECT partner.item_id FROM unnest((SELECT ${itemIds}::uuid[])) AS u(id)
              CROSS JOIN LATERAL (SELECT c1.listing_id FROM listing_component c1
                                   WHERE c1.item_id = u.id OFFSET 0) c1
              CROSS JOIN LATERAL (SELECT c2.item_id FROM listing_component c2
                                   WHERE c2.listing_id = c1.listing_id OFFSET 0) partner
            ORDER BY 1) AS ids(id)
      CROSS JOIN LATERAL (SELECT i.id, i.sku FROM stock_item i
                           WHERE i.id = ids.id AND i.shop_id = ${shopId}::uuid OFFSET 0) i
     ORDER BY i.id
       FOR UPDATE OF i`);
  return new Map(rows.map((r) => [r.id, r.sku]));
}

/** Balances of the items at the shop's source locations. */
export async function loadLevels(tx: Tx, itemIds: string[]): Promise<LevelRow[]> {
  if (itemIds.length === 0) return [];
  return tx.query(sql`
    SELECT s.item_id AS "itemId", s.location_id AS "locationId", s.on_hand AS "onHand",
           s.committed, s.held, s.damaged, s.safety_stock AS "safetyStock", l.is_primary AS "isPrimary"
      FROM stock_level s JOIN location l ON l.id = s.location_id
     WHERE s.item_id = ANY(${itemIds}::uuid[]) AND l.is_source AND l.active`);
}

export async function sourceLocations(
  tx: Tx,
  shopId: string,
): Promise<{ id: string; isPrimary: boolean }[]> {
  return tx.query(sql`
    SELECT id, is_primary AS "isPrimary" FROM location
     WHERE shop_id = ${shopId}::uuid AND is_source AND active ORDER BY is_primary DESC, created_at, id`);
}

export async function ensureLevel(
  tx: Tx,
  shopId: string,
  itemId: string,
  locationId: string,
): Promise<void> {
  await tx.execute(sql`
    INSERT INTO stock_level (shop_id, item_id, location_id) VALUES (${shopId}::uuid, ${itemId}::uuid, ${locationId}::uuid)
    ON CONFLICT (item_id, location_id) DO NOTHING`);
}

/** Creates the commitment row if missing and locks it, in one statement. */
export async function lockOrderLine(
  tx: Tx,
  input: {
    shopId: string;
    connectionId: string;
    orderId: string;
    lineId: string;
    itemId: string;
    locationId: string;
    listingId: string | null;
    sku: string | null;
    perUnit: number;
  },
): Promise<OrderLineRow> {
  // ON CONFLICT DO UPDATE (a no-op update) returns and row-locks an existing line.
  const rows = await tx.query<OrderLineRow>(sql`
    INSERT INTO order_line (shop_id, connection_id, order_id, line_id, item_id, location_id, listing_id, sku, per_unit)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.orderId}, ${input.lineId},
            ${input.itemId}::uuid, ${input.locationId}::uuid, ${input.listingId}::uuid, ${input.sku}, ${input.perUnit})
    ON CONFLICT (connection_id, order_id, line_id, item_id) DO UPDATE SET per_unit = order_line.per_unit
    RETURNING id, item_id AS "itemId", location_id AS "locationId", listing_id AS "listingId",
              per_unit AS "perUnit", ordered, ordered_version AS "orderedVersion",
              cancelled_all AS "cancelledAll", cancelled, shipped, returned, committed`);
  const row = rows[0];
  if (!row) throw new Error("order line upsert returned nothing");
  return row;
}

export async function saveOrderLine(
  tx: Tx,
  id: bigint,
  state: LineState,
  committed: number,
): Promise<void> {
  await tx.execute(sql`
    UPDATE order_line
       SET ordered = ${state.ordered}, ordered_version = ${state.orderedVersion},
           cancelled_all = ${state.cancelledAll}, cancelled = ${state.cancelled},
           shipped = ${state.shipped}, returned = ${state.returned}, committed = ${committed},
           updated_at = now()
     WHERE id = ${id}`);
}

export type MovementInput = {
  shopId: string;
  itemId: string;
  locationId: string;
  key: string;
  kind: string;
  delta: FactDelta;
  receiptId: bigint | null;
  connectionId: string | null;
  orderRef: string | null;
  lineRef: string | null;
  actor: string;
  reason: string | null;
};

/**
 * The idempotency gate and the balance change in one statement: the movement is inserted unless
 * its key was seen before, and only if it was, the level moves by the delta (atomic increments,
 * no read-modify-write) and the order line takes its new state. Returns the movement id, or
 * null for a duplicate.
 */
export async function recordMovement(
  tx: Tx,
  m: MovementInput,
  line: { id: bigint; state: LineState; committed: number } | null,
): Promise<bigint | null> {
  const d = m.delta;
  const moves =
    d.onHand !== 0 || d.committed !== 0 || d.held !== 0 || d.damaged !== 0 || d.safetyStock !== 0;
  const rows = await tx.query<{ id: bigint | null; levels: number }>(sql`
    WITH m AS (
      INSERT INTO movement (shop_id, item_id, location_id, idempotency_key, kind, d_on_hand, d_committed,
                            d_held, d_damaged, d_safety_stock, receipt_id, connection_id, order_ref,
                            line_ref, actor, reason)
      VALUES (${m.shopId}::uuid, ${m.itemId}::uuid, ${m.locationId}::uuid, ${m.key},
              ${m.kind}::"MovementKind", ${d.onHand}, ${d.committed}, ${d.held}, ${d.damaged},
              ${d.safetyStock}, ${m.receiptId}::bigint, ${m.connectionId}::uuid, ${m.orderRef},
              ${m.lineRef}, ${m.actor}, ${m.reason})
      ON CONFLICT (shop_id, idempotency_key) DO NOTHING
      RETURNING id
    ), lvl AS (
      UPDATE stock_level
         SET on_hand = on_hand + ${d.onHand}, committed = committed + ${d.committed},
             held = held + ${d.held}, damaged = damaged + ${d.damaged},
             safety_stock = safety_stock + ${d.safetyStock}, updated_at = now()
       WHERE item_id = ${m.itemId}::uuid AND location_id = ${m.locationId}::uuid
         AND ${moves}::boolean AND EXISTS (SELECT 1 FROM m)
      RETURNING 1
    ), ol AS (
      UPDATE order_line
         SET ordered = ${line?.state.ordered ?? 0}, ordered_version = ${line?.state.orderedVersion ?? null},
             cancelled_all = ${line?.state.cancelledAll ?? false}, cancelled = ${line?.state.cancelled ?? 0},
             shipped = ${line?.state.shipped ?? 0}, returned = ${line?.state.returned ?? 0},
             committed = ${line?.committed ?? 0}, updated_at = now()
       WHERE id = ${line?.id ?? null}::bigint AND EXISTS (SELECT 1 FROM m)
      RETURNING 1
    )
    SELECT (SELECT id FROM m) AS id, (SELECT count(*)::int FROM lvl) AS levels`);
  const row = rows[0];
  if (row?.id != null && moves && row.levels !== 1) {
    throw new Error(`no stock level for item ${m.itemId} at ${m.locationId}`);
  }
  return row?.id ?? null;
}

/** Queues a physical change for the source store (written by the source push, exactly once). */
export async function insertSourceAdjustment(
  tx: Tx,
  input: {
    shopId: string;
    connectionId: string;
    itemId: string;
    locationId: string;
    movementId: bigint;
    stateName: string;
    delta: number;
    /** The source store's reason (null: the default of the state). */
    reason?: string | null;
  },
): Promise<void> {
  await tx.execute(sql`
    INSERT INTO source_adjustment (shop_id, connection_id, item_id, location_id, movement_id, state_name, delta, reason)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.itemId}::uuid, ${input.locationId}::uuid,
            ${input.movementId}::bigint, ${input.stateName}, ${input.delta}, ${input.reason ?? null})
    ON CONFLICT (movement_id) DO NOTHING`);
}

export async function recordUnmatched(
  tx: Tx,
  input: {
    shopId: string;
    connectionId: string;
    orderId: string;
    lineId: string;
    sku: string | null;
    remoteRef: string | null;
    quantity: number;
  },
): Promise<void> {
  await tx.execute(sql`
    INSERT INTO unmatched_line (shop_id, connection_id, order_id, line_id, sku, remote_ref, quantity)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.orderId}, ${input.lineId},
            ${input.sku}, ${input.remoteRef}, ${input.quantity})
    ON CONFLICT (connection_id, order_id, line_id)
    DO UPDATE SET last_seen_at = now(), quantity = GREATEST(unmatched_line.quantity, EXCLUDED.quantity)`);
}

/**
 * Marks listings for push when their published quantity changed (or, for source-store listings,
 * when anything at their level changed: reserved / held / safety states are projected there
 * too), in one statement. Returns the ids that were marked.
 */
export async function markListingsChanged(
  tx: Tx,
  input: {
    listings: { id: string; published: number; force: boolean }[];
    receiptId: bigint | null;
    since: Date;
  },
): Promise<Set<string>> {
  if (input.listings.length === 0) return new Set();
  const receipt = input.receiptId === null ? null : [input.receiptId];
  const rows = await tx.query<{ id: string }>(sql`
    UPDATE listing l
       SET published_quantity = u.published,
           published_version = l.published_version + 1,
           dirty_since = COALESCE(l.dirty_since, ${input.since}::timestamptz),
           pending_receipt_ids = CASE WHEN ${receipt}::bigint[] IS NULL THEN l.pending_receipt_ids
                                      ELSE (l.pending_receipt_ids || ${receipt}::bigint[])[GREATEST(1, cardinality(l.pending_receipt_ids) - 48):]
                                 END,
           updated_at = now()
      FROM unnest(${input.listings.map((l) => l.id)}::uuid[], ${input.listings.map((l) => l.published)}::int[],
                  ${input.listings.map((l) => l.force)}::boolean[]) AS u(id, published, force)
     WHERE l.id = u.id AND (u.force OR l.published_quantity <> u.published)
    RETURNING l.id`);
  return new Set(rows.map((r) => r.id));
}

/**
 * The start of every ledger event: lock the items (and their bundle partners) in id order, then
 * read their source balances and every listing that depends on them. Two statements on purpose:
 * under READ COMMITTED a statement reads the snapshot taken when it started, so balances read in
 * the statement that waited for the lock could predate the commit it waited for.
 *
 * The read is planned once per connection, not per event: the item ids reach it through an
 * InitPlan (`(SELECT $n::uuid[])`), whose value no plan can see, so a plan made for the call costs
 * what the generic plan costs and PostgreSQL keeps the generic one after five calls (planned on
 * every call it cost ~1.2 ms of PostgreSQL's CPU per event under load, more than running it). Each
 * row is then fetched through a LATERAL subquery on its key (OFFSET 0 keeps it one): a generic
 * plan made while the tables were empty (a new database) stays index-driven as they grow, where
 * a join could have kept a hash over every listing (decision 0020).
 */
export async function lockAndLoad(
  tx: Tx,
  shopId: string,
  itemIds: string[],
): Promise<{
  /** The shop (status, rules, connections), read with the balances; null: no such shop. */
  shop: ShopState | null;
  skuOf: Map<string, string>;
  /** With each level's outbox to the source (`pendingToSource`), read under the locks. */
  levels: (LevelRow & { pendingToSource: number })[];
  listings: ListingRow[];
  components: ComponentRow[];
}> {
  if (itemIds.length === 0) {
    const shop = await shopState(tx, shopId);
    return { shop, skuOf: new Map(), levels: [], listings: [], components: [] };
  }
  const skuOf = await lockItemsWithBundlePartners(tx, shopId, itemIds);
  const locked = [...skuOf.keys()];
  const rows = await tx.query<{
    shop: ShopState | null;
    levels: (LevelRow & { pendingToSource: number })[] | null;
    listings: (ListingRow & { components: ComponentRow[] })[] | null;
  }>(sql`
    SELECT
      (SELECT row_to_json(shop) FROM (${shopStateOf(shopId)}) AS shop) AS shop,
      (SELECT json_agg(json_build_object(
                'itemId', s.item_id, 'locationId', s.location_id, 'onHand', s.on_hand, 'committed', s.committed,
                'held', s.held, 'damaged', s.damaged, 'safetyStock', s.safety_stock, 'isPrimary', l.is_primary,
                'pendingToSource', ${outboxOf(raw("s.item_id"), raw("s.location_id"))}))
         FROM unnest((SELECT ${locked}::uuid[])) AS w(item_id)
         CROSS JOIN LATERAL (SELECT * FROM stock_level s WHERE s.item_id = w.item_id OFFSET 0) s
         CROSS JOIN LATERAL (SELECT l.is_primary FROM location l
                              WHERE l.id = s.location_id AND l.is_source AND l.active OFFSET 0) l) AS levels,
      (SELECT json_agg(json_build_object(
                'id', li.id, 'connectionId', li.connection_id, 'connectionRole', c.role, 'connectionStatus', c.status,
                'sku', li.sku, 'sourceLocationId', li.source_location_id, 'publishedQuantity', li.published_quantity,
                'pushedQuantity', li.pushed_quantity, 'lastPushedAt', li.last_pushed_at, 'remoteQuantity', li.remote_quantity,
                'remoteObservedAt', li.remote_observed_at, 'status', li.status, 'needsRead', li.needs_read,
                'unplacedSold', CASE WHEN ${UNPLACED_STAND} THEN li.unplaced_sold ELSE 0 END,
                'holdUnits', COALESCE((SELECT ph.units FROM provisional_hold ph WHERE ph.listing_id = li.id), 0),
                'components', (SELECT json_agg(json_build_object('listingId', lc2.listing_id, 'itemId', lc2.item_id, 'quantity', lc2.quantity))
                                 FROM listing_component lc2 WHERE lc2.listing_id = li.id)))
         FROM (SELECT DISTINCT lc.listing_id
                 FROM unnest((SELECT ${locked}::uuid[])) AS w(item_id)
                 CROSS JOIN LATERAL (SELECT listing_id FROM listing_component WHERE item_id = w.item_id OFFSET 0) lc) ids
         CROSS JOIN LATERAL (SELECT * FROM listing li WHERE li.id = ids.listing_id OFFSET 0) li
         CROSS JOIN LATERAL (SELECT c.role, c.status FROM connection c WHERE c.id = li.connection_id OFFSET 0) c) AS listings`);
  const row = rows[0];
  const listingRows = row?.listings ?? [];
  return {
    shop: row?.shop ?? null,
    skuOf,
    levels: row?.levels ?? [],
    listings: listingRows.map(({ components: _c, ...l }) => l),
    components: listingRows.flatMap((l) => l.components ?? []),
  };
}

/**
 * A list of text keys as a FROM item, one row per distinct key, whose values no plan can see: the
 * array reaches the statement through an InitPlan, so a plan made for the call costs what the
 * generic plan costs and PostgreSQL stops planning the statement after five calls (see
 * `lockAndLoad`). Rows are then fetched per key through LATERAL subqueries on an index.
 */
function keysOf(keys: string[]): Sql {
  return sql`(SELECT DISTINCT u.key FROM unnest((SELECT ${keys}::text[])) AS u(key))`;
}

/** Everything needed to resolve an order's lines, in one round trip. */
export async function resolveOrderLines(
  tx: Tx,
  input: {
    shopId: string;
    connectionId: string;
    orderId: string;
    lineIds: string[];
    refs: string[];
    skus: string[];
  },
): Promise<{
  existing: (OrderLineRow & { lineId: string })[];
  listings: {
    id: string;
    remoteRef: string;
    remoteVariantRef: string | null;
    sku: string | null;
    components: ComponentRow[];
  }[];
  items: { id: string; sku: string }[];
  /** The merchant's mappings of this channel's unmatched references to items. */
  mappings: { reference: string; itemId: string }[];
}> {
  const rows = await tx.query<{
    existing: (OrderLineRow & { lineId: string; id: string })[] | null;
    listings:
      | {
          id: string;
          remoteRef: string;
          remoteVariantRef: string | null;
          sku: string | null;
          components: ComponentRow[] | null;
        }[]
      | null;
    items: { id: string; sku: string }[] | null;
    mappings: { reference: string; itemId: string }[] | null;
  }>(sql`
    SELECT
      (SELECT json_agg(json_build_object(
                'id', o.id::text, 'lineId', o.line_id, 'itemId', o.item_id, 'locationId', o.location_id, 'listingId', o.listing_id,
                'perUnit', o.per_unit, 'ordered', o.ordered, 'orderedVersion', o.ordered_version, 'cancelledAll', o.cancelled_all,
                'cancelled', o.cancelled, 'shipped', o.shipped, 'returned', o.returned, 'committed', o.committed))
         FROM ${keysOf(input.lineIds)} AS k(line_id)
         CROSS JOIN LATERAL (SELECT * FROM order_line o
                              WHERE o.connection_id = ${input.connectionId}::uuid AND o.order_id = ${input.orderId}
                                AND o.line_id = k.line_id OFFSET 0) o) AS existing,
      (SELECT json_agg(json_build_object(
                'id', l.id, 'remoteRef', l.remote_ref, 'remoteVariantRef', l.remote_variant_ref, 'sku', l.sku,
                'components', (SELECT json_agg(json_build_object('listingId', c.listing_id, 'itemId', c.item_id, 'quantity', c.quantity))
                                 FROM listing_component c WHERE c.listing_id = l.id)))
         FROM (SELECT by_ref.id FROM ${keysOf(input.refs)} AS k(ref)
                 CROSS JOIN LATERAL (SELECT id FROM listing WHERE connection_id = ${input.connectionId}::uuid
                                        AND remote_ref = k.ref OFFSET 0) by_ref
               UNION
               SELECT by_variant.id FROM ${keysOf(input.refs)} AS k(ref)
                 CROSS JOIN LATERAL (SELECT id FROM listing WHERE connection_id = ${input.connectionId}::uuid
                                        AND remote_variant_ref = k.ref OFFSET 0) by_variant
               UNION
               SELECT by_sku.id FROM ${keysOf(input.skus)} AS k(sku)
                 CROSS JOIN LATERAL (SELECT id FROM listing WHERE connection_id = ${input.connectionId}::uuid
                                        AND sku = k.sku OFFSET 0) by_sku) ids
         CROSS JOIN LATERAL (SELECT * FROM listing l WHERE l.id = ids.id AND l.status <> 'disabled' OFFSET 0) l) AS listings,
      (SELECT json_agg(json_build_object('id', i.id, 'sku', i.sku))
         FROM ${keysOf(input.skus)} AS k(sku)
         CROSS JOIN LATERAL (SELECT i.id, i.sku FROM stock_item i
                              WHERE i.shop_id = ${input.shopId}::uuid AND i.sku = k.sku OFFSET 0) i) AS items,
      (SELECT json_agg(json_build_object('reference', m.reference, 'itemId', m.item_id))
         FROM ${keysOf([...input.refs, ...input.skus])} AS k(reference)
         CROSS JOIN LATERAL (SELECT m.reference, m.item_id FROM line_mapping m
                              WHERE m.connection_id = ${input.connectionId}::uuid AND m.reference = k.reference OFFSET 0) m) AS mappings`);
  const row = rows[0];
  return {
    existing: (row?.existing ?? []).map((e) => ({ ...e, id: BigInt(e.id) })),
    listings: (row?.listings ?? [])
      .map((l) => ({ ...l, components: l.components ?? [] }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
    items: row?.items ?? [],
    mappings: row?.mappings ?? [],
  };
}

/**
 * Net on_hand change the ledger has applied but not yet written to the source (the outbox). A
 * level loaded under the item locks carries it already (`lockAndLoad`); this reads one that was not.
 */
export async function pendingToSource(tx: Tx, itemId: string, locationId: string): Promise<number> {
  const rows = await tx.query<{ delta: number }>(
    sql`SELECT ${outboxOf(sql`${itemId}::uuid`, sql`${locationId}::uuid`)} AS delta`,
  );
  return rows[0]?.delta ?? 0;
}

/** One level's outbox as an SQL expression: its pending source adjustments, summed (0: none). */
function outboxOf(itemId: Raw | Sql, locationId: Raw | Sql): Sql {
  return sql`COALESCE((SELECT sum(a.delta)::int FROM source_adjustment a
                        WHERE a.item_id = ${itemId} AND a.location_id = ${locationId}
                          AND a.status = 'pending'), 0)`;
}

/** Components of some listings (republishing outside an event). */
export async function componentsOf(tx: Tx, listingIds: string[]): Promise<ComponentRow[]> {
  return tx.query<ComponentRow>(sql`
    SELECT listing_id AS "listingId", item_id AS "itemId", quantity FROM listing_component
     WHERE listing_id = ANY(${listingIds}::uuid[])`);
}

/** Listings of a shop by id, with what computing their published quantity needs. */
export async function listingsToPublish(
  tx: Tx,
  shopId: string,
  listingIds: string[],
): Promise<
  { id: string; connectionId: string; sku: string | null; sourceLocationId: string | null }[]
> {
  return tx.query(sql`
    SELECT id, connection_id AS "connectionId", sku, source_location_id AS "sourceLocationId"
      FROM listing WHERE id = ANY(${listingIds}::uuid[]) AND shop_id = ${shopId}::uuid`);
}

/**
 * The shop's listings among `listingIds`, each with the items it is made of (none: a listing
 * without components), in one round trip.
 */
export async function listingItems(
  tx: Tx,
  shopId: string,
  listingIds: string[],
): Promise<{ listingId: string; itemIds: string[] }[]> {
  return tx.query(sql`
    SELECT l.id AS "listingId",
           COALESCE((SELECT array_agg(c.item_id) FROM listing_component c WHERE c.listing_id = l.id),
                    '{}'::uuid[]) AS "itemIds"
      FROM listing l WHERE l.id = ANY(${listingIds}::uuid[]) AND l.shop_id = ${shopId}::uuid`);
}

export async function activeListingIds(shopId: string): Promise<string[]> {
  const rows = await db().query<{ id: string }>(
    sql`SELECT id FROM listing WHERE shop_id = ${shopId}::uuid AND status = 'active'`,
  );
  return rows.map((r) => r.id);
}

/**
 * Settles an order snapshot that changes nothing (`UnchangedClaim`) in one statement: when every
 * claimed line holds exactly that quantity (one row each), every keyed effect is already a
 * movement and every keyed line is plain, the lines take the snapshot's version (so an older
 * snapshot cannot win later) and true is returned; otherwise nothing changes and false.
 *
 * Inside the event's transaction (`tx`) or on its own. Safe without the order lock: the lines
 * are row-locked first (FOR UPDATE waits for an apply that is changing them and then judges
 * their committed values), and lines an apply is still inserting are not visible, so the claim
 * fails and the caller takes the full path.
 */
export async function settleUnchangedOrder(
  input: { shopId: string; connectionId: string } & UnchangedClaim,
  tx: Tx = db(),
): Promise<boolean> {
  const rows = await tx.query<{ unchanged: boolean }>(sql`
    WITH cur AS (
      SELECT line_id, ordered, per_unit FROM order_line
       WHERE connection_id = ${input.connectionId}::uuid AND order_id = ${input.orderId}
         FOR UPDATE
    ), claimed AS (
      SELECT * FROM unnest(${input.lines.map((l) => l.lineId)}::text[],
                           ${input.lines.map((l) => l.quantity)}::int[]) AS w(line_id, quantity)
    ), verdict AS (
      SELECT NOT EXISTS (
               SELECT 1 FROM claimed w
                WHERE (SELECT count(*) FROM cur c WHERE c.line_id = w.line_id) <> 1
                   OR NOT EXISTS (SELECT 1 FROM cur c
                                   WHERE c.line_id = w.line_id AND c.ordered = w.quantity * c.per_unit))
         AND NOT EXISTS (
               SELECT 1 FROM unnest(${input.keyedLineIds}::text[]) AS k(line_id)
                WHERE (SELECT count(*) FROM cur c WHERE c.line_id = k.line_id) <> 1)
         AND (SELECT count(*) FROM movement
               WHERE shop_id = ${input.shopId}::uuid
                 AND idempotency_key = ANY(${input.keys}::text[])) = cardinality(${input.keys}::text[])
             AS unchanged
    ), bumped AS (
      UPDATE order_line o SET ordered_version = ${input.version}, updated_at = now()
       WHERE (SELECT unchanged FROM verdict) AND ${input.version}::text IS NOT NULL
         AND o.connection_id = ${input.connectionId}::uuid AND o.order_id = ${input.orderId}
         AND o.line_id = ANY(${input.lines.map((l) => l.lineId)}::text[])
         AND (o.ordered_version IS NULL OR o.ordered_version < ${input.version})
    )
    SELECT unchanged FROM verdict`);
  return rows[0]?.unchanged === true;
}

/** Commitment rows of the opening order (orders placed before StockGuard was connected). */
export async function openingLines(
  connectionId: string,
  openingOrderId: string,
): Promise<{ itemId: string; locationId: string; ordered: number; committed: number }[]> {
  return db().query(sql`
    SELECT item_id AS "itemId", location_id AS "locationId", ordered, committed FROM order_line
     WHERE connection_id = ${connectionId}::uuid AND order_id = ${openingOrderId}`);
}

/**
 * What a channel shows changed by its own order by an amount StockGuard cannot place in time
 * against what it last saw (a cancel, a sale in the same second as the last observation): the
 * next read of it (the push's, or the source's counting read) replaces the model.
 */
export async function markNeedsRead(tx: Tx, listingId: string): Promise<void> {
  // A source level is read by the counting read (flagged as an inbound change).
  await tx.execute(sql`
    UPDATE listing SET needs_read = true, published_version = published_version + 1,
                       dirty_since = COALESCE(dirty_since, now()),
                       remote_source = CASE WHEN source_location_id IS NOT NULL THEN 'webhook' ELSE remote_source END
     WHERE id = ${listingId}::uuid`);
}

/**
 * Remembers `units` of the channel's own sales applied that could not be placed against the last
 * look at it (added to those still standing since that look); returns how many stand now.
 */
export async function recordUnplacedSale(
  tx: Tx,
  listingId: string,
  units: number,
): Promise<number | null> {
  const [row] = await tx.query<{ unplacedSold: number }>(sql`
    UPDATE listing li
       SET unplaced_sold = CASE WHEN ${UNPLACED_STAND} THEN li.unplaced_sold + ${units} ELSE ${units} END,
           unplaced_at = clock_timestamp()
     WHERE li.id = ${listingId}::uuid
    RETURNING li.unplaced_sold AS "unplacedSold"`);
  return row?.unplacedSold ?? null;
}

/**
 * Moves what StockGuard believes a channel shows by `delta` (the channel's own sale, applied),
 * unless the channel was observed at or after `at` (that observation includes it).
 */
export async function shiftRemote(
  tx: Tx,
  listingId: string,
  delta: number,
  at: string,
): Promise<boolean> {
  const n = await tx.execute(sql`
    UPDATE listing
       SET remote_quantity = remote_quantity + ${delta},
           remote_state = CASE WHEN remote_state ? 'available'
                               THEN jsonb_set(remote_state, '{available}', to_jsonb((remote_state->>'available')::int + ${delta}))
                               ELSE remote_state END
     WHERE id = ${listingId}::uuid AND remote_quantity IS NOT NULL
       AND (remote_observed_at IS NULL OR remote_observed_at < ${at}::timestamptz)`);
  return n > 0;
}

/** The merchant maps a channel reference (SKU or variant) to an item, once per connection. */
export async function upsertLineMapping(input: {
  shopId: string;
  connectionId: string;
  reference: string;
  itemId: string;
}): Promise<void> {
  await db().execute(sql`
    INSERT INTO line_mapping (shop_id, connection_id, reference, item_id)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.reference}, ${input.itemId}::uuid)
    ON CONFLICT (connection_id, reference) DO UPDATE SET item_id = EXCLUDED.item_id`);
}

export async function unmatchedLine(
  shopId: string,
  id: bigint,
): Promise<{
  id: bigint;
  connectionId: string;
  orderId: string;
  lineId: string;
  sku: string | null;
  remoteRef: string | null;
  resolvedAt: Date | null;
} | null> {
  const rows = await db().query<{
    id: bigint;
    connectionId: string;
    orderId: string;
    lineId: string;
    sku: string | null;
    remoteRef: string | null;
    resolvedAt: Date | null;
  }>(sql`
    SELECT id, connection_id AS "connectionId", order_id AS "orderId", line_id AS "lineId", sku,
           remote_ref AS "remoteRef", resolved_at AS "resolvedAt"
      FROM unmatched_line WHERE id = ${id}::bigint AND shop_id = ${shopId}::uuid`);
  return rows[0] ?? null;
}

/** Unmatched lines of a connection's orders that a mapping now covers are resolved. */
export async function resolveUnmatchedLines(
  connectionId: string,
  orderIds: string[],
): Promise<number> {
  return db().execute(sql`
    UPDATE unmatched_line u SET resolved_at = now()
     WHERE u.connection_id = ${connectionId}::uuid AND u.order_id = ANY(${orderIds}::text[])
       AND u.resolved_at IS NULL
       AND EXISTS (SELECT 1 FROM order_line o WHERE o.connection_id = u.connection_id
                    AND o.order_id = u.order_id AND o.line_id = u.line_id)`);
}

/** Receipts of one order of a connection, oldest first (to apply its events again). */
export async function orderReceipts(
  connectionId: string,
  orderId: string,
): Promise<{ id: bigint; topic: string; payload: unknown; receivedAt: Date }[]> {
  return db().query(sql`
    SELECT id, topic, payload, received_at AS "receivedAt" FROM receipt
     WHERE connection_id = ${connectionId}::uuid AND resource_id = ${orderId}
       AND status IN ('applied', 'pending')
     ORDER BY received_at, id`);
}

/** Replaces a listing's components (a bundle or multipack the merchant defines). */
export async function replaceComponents(
  tx: Tx,
  listingId: string,
  components: { itemId: string; quantity: number }[],
): Promise<void> {
  await tx.execute(sql`DELETE FROM listing_component WHERE listing_id = ${listingId}::uuid`);
  await tx.execute(sql`
    INSERT INTO listing_component (listing_id, item_id, quantity)
    SELECT ${listingId}::uuid, unnest(${components.map((c) => c.itemId)}::uuid[]),
           unnest(${components.map((c) => c.quantity)}::int[])`);
}

export async function listingOfShop(
  shopId: string,
  input: { listingId?: string; connectionId?: string; sku?: string },
): Promise<{ id: string; connectionId: string; sku: string | null } | null> {
  const rows = await db().query<{ id: string; connectionId: string; sku: string | null }>(sql`
    SELECT id, connection_id AS "connectionId", sku FROM listing
     WHERE shop_id = ${shopId}::uuid
       AND (${input.listingId ?? null}::uuid IS NULL OR id = ${input.listingId ?? null}::uuid)
       AND (${input.connectionId ?? null}::uuid IS NULL OR connection_id = ${input.connectionId ?? null}::uuid)
       AND (${input.sku ?? null}::text IS NULL OR sku = ${input.sku ?? null})
     LIMIT 2`);
  return rows.length === 1 ? rows[0]! : null;
}

/** Items of a shop by id, outside a ledger event (admin and mapping). */
export async function findItemsByIdOutsideEvent(
  shopId: string,
  ids: string[],
): Promise<{ id: string; sku: string }[]> {
  return findItemsById(db(), shopId, ids);
}
