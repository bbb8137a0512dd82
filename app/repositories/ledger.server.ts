import { Prisma } from "@prisma/client";
import type { LineState } from "../domain/ledger";
import type { BufferRule, FactDelta, LevelFacts } from "../domain/types";

/**
 * SQL of the ledger, one function per statement, always scoped by shop (or by ids that were
 * resolved within the shop). Every function takes the transaction it runs in: the apply service
 * owns transaction boundaries and lock order.
 */
export type Tx = Prisma.TransactionClient;

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
};

export type ComponentRow = { listingId: string; itemId: string; quantity: number };

export async function shopState(tx: Tx, shopId: string) {
  const rows = await tx.$queryRaw<{ domain: string; status: string; syncEnabled: boolean }[]>`
    SELECT domain, status::text AS status, sync_enabled AS "syncEnabled" FROM shop WHERE id = ${shopId}::uuid`;
  return rows[0] ?? null;
}

/** Existing commitment rows of some lines of one order (all their component items). */
export async function findOrderLines(
  tx: Tx,
  connectionId: string,
  orderId: string,
  lineIds: string[],
): Promise<(OrderLineRow & { lineId: string })[]> {
  return tx.$queryRaw`
    SELECT id, line_id AS "lineId", item_id AS "itemId", location_id AS "locationId",
           listing_id AS "listingId", per_unit AS "perUnit", ordered,
           ordered_version AS "orderedVersion", cancelled_all AS "cancelledAll", cancelled,
           shipped, returned, committed
      FROM order_line
     WHERE connection_id = ${connectionId}::uuid AND order_id = ${orderId}
       AND line_id = ANY(${lineIds}::text[])`;
}

/**
 * Listings of a connection that a line could be: by remote ref (variant / inventory item /
 * seller SKU) or by normalised SKU. Returns components for each.
 */
export async function findListingsForLines(
  tx: Tx,
  connectionId: string,
  refs: string[],
  skus: string[],
): Promise<{ id: string; remoteRef: string; remoteVariantRef: string | null; sku: string | null; components: ComponentRow[] }[]> {
  const rows = await tx.$queryRaw<
    { id: string; remoteRef: string; remoteVariantRef: string | null; sku: string | null; itemId: string | null; quantity: number | null }[]
  >`
    SELECT l.id, l.remote_ref AS "remoteRef", l.remote_variant_ref AS "remoteVariantRef", l.sku,
           c.item_id AS "itemId", c.quantity
      FROM listing l
      LEFT JOIN listing_component c ON c.listing_id = l.id
     WHERE l.connection_id = ${connectionId}::uuid
       AND l.status <> 'disabled'
       AND (l.remote_ref = ANY(${refs}::text[]) OR l.remote_variant_ref = ANY(${refs}::text[])
            OR l.sku = ANY(${skus}::text[]))
     ORDER BY l.id`;
  const byId = new Map<string, { id: string; remoteRef: string; remoteVariantRef: string | null; sku: string | null; components: ComponentRow[] }>();
  for (const row of rows) {
    let listing = byId.get(row.id);
    if (!listing) {
      listing = { id: row.id, remoteRef: row.remoteRef, remoteVariantRef: row.remoteVariantRef, sku: row.sku, components: [] };
      byId.set(row.id, listing);
    }
    if (row.itemId && row.quantity) listing.components.push({ listingId: row.id, itemId: row.itemId, quantity: row.quantity });
  }
  return [...byId.values()];
}

export async function findItemsBySku(tx: Tx, shopId: string, skus: string[]): Promise<{ id: string; sku: string }[]> {
  if (skus.length === 0) return [];
  return tx.$queryRaw`SELECT id, sku FROM stock_item WHERE shop_id = ${shopId}::uuid AND sku = ANY(${skus}::text[])`;
}

export async function findItemsById(tx: Tx, shopId: string, ids: string[]): Promise<{ id: string; sku: string }[]> {
  if (ids.length === 0) return [];
  return tx.$queryRaw`SELECT id, sku FROM stock_item WHERE shop_id = ${shopId}::uuid AND id = ANY(${ids}::uuid[])`;
}

/**
 * Items whose published quantities depend on `itemIds`: the items themselves plus every other
 * component of a bundle that contains one of them (their ATS is read to price the bundle, so
 * they must be locked too, or a concurrent event could make us publish from a stale read).
 */
export async function expandWithBundlePartners(tx: Tx, itemIds: string[]): Promise<string[]> {
  if (itemIds.length === 0) return [];
  const rows = await tx.$queryRaw<{ itemId: string }[]>`
    SELECT DISTINCT c2.item_id AS "itemId"
      FROM listing_component c1
      JOIN listing_component c2 ON c2.listing_id = c1.listing_id
     WHERE c1.item_id = ANY(${itemIds}::uuid[])`;
  return [...new Set([...itemIds, ...rows.map((r) => r.itemId)])];
}

/** Per-item critical section: rows locked in id order, so concurrent events never deadlock. */
export async function lockItems(tx: Tx, shopId: string, itemIds: string[]): Promise<void> {
  if (itemIds.length === 0) return;
  const sorted = [...itemIds].sort();
  await tx.$queryRaw`
    SELECT id FROM stock_item WHERE shop_id = ${shopId}::uuid AND id = ANY(${sorted}::uuid[])
     ORDER BY id FOR UPDATE`;
}

/** Balances of the items at the shop's source locations. */
export async function loadLevels(tx: Tx, itemIds: string[]): Promise<LevelRow[]> {
  if (itemIds.length === 0) return [];
  return tx.$queryRaw`
    SELECT s.item_id AS "itemId", s.location_id AS "locationId", s.on_hand AS "onHand",
           s.committed, s.held, s.damaged, s.safety_stock AS "safetyStock", l.is_primary AS "isPrimary"
      FROM stock_level s JOIN location l ON l.id = s.location_id
     WHERE s.item_id = ANY(${itemIds}::uuid[]) AND l.is_source AND l.active`;
}

export async function sourceLocations(tx: Tx, shopId: string): Promise<{ id: string; isPrimary: boolean }[]> {
  return tx.$queryRaw`
    SELECT id, is_primary AS "isPrimary" FROM location
     WHERE shop_id = ${shopId}::uuid AND is_source AND active ORDER BY is_primary DESC, created_at, id`;
}

export async function ensureLevel(tx: Tx, shopId: string, itemId: string, locationId: string): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO stock_level (shop_id, item_id, location_id) VALUES (${shopId}::uuid, ${itemId}::uuid, ${locationId}::uuid)
    ON CONFLICT (item_id, location_id) DO NOTHING`;
}

/** Creates the commitment row if missing, then locks it. */
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
  await tx.$executeRaw`
    INSERT INTO order_line (shop_id, connection_id, order_id, line_id, item_id, location_id, listing_id, sku, per_unit)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.orderId}, ${input.lineId},
            ${input.itemId}::uuid, ${input.locationId}::uuid, ${input.listingId}::uuid, ${input.sku}, ${input.perUnit})
    ON CONFLICT (connection_id, order_id, line_id, item_id) DO NOTHING`;
  const rows = await tx.$queryRaw<OrderLineRow[]>`
    SELECT id, item_id AS "itemId", location_id AS "locationId", listing_id AS "listingId",
           per_unit AS "perUnit", ordered, ordered_version AS "orderedVersion",
           cancelled_all AS "cancelledAll", cancelled, shipped, returned, committed
      FROM order_line
     WHERE connection_id = ${input.connectionId}::uuid AND order_id = ${input.orderId}
       AND line_id = ${input.lineId} AND item_id = ${input.itemId}::uuid
     FOR UPDATE`;
  const row = rows[0];
  if (!row) throw new Error("order line vanished after insert");
  return row;
}

export async function saveOrderLine(tx: Tx, id: bigint, state: LineState, committed: number): Promise<void> {
  await tx.$executeRaw`
    UPDATE order_line
       SET ordered = ${state.ordered}, ordered_version = ${state.orderedVersion},
           cancelled_all = ${state.cancelledAll}, cancelled = ${state.cancelled},
           shipped = ${state.shipped}, returned = ${state.returned}, committed = ${committed},
           updated_at = now()
     WHERE id = ${id}`;
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

/** The idempotency gate: returns the new movement id, or null when the key was seen before. */
export async function insertMovement(tx: Tx, m: MovementInput): Promise<bigint | null> {
  const rows = await tx.$queryRaw<{ id: bigint }[]>`
    INSERT INTO movement (shop_id, item_id, location_id, idempotency_key, kind, d_on_hand, d_committed,
                          d_held, d_damaged, d_safety_stock, receipt_id, connection_id, order_ref,
                          line_ref, actor, reason)
    VALUES (${m.shopId}::uuid, ${m.itemId}::uuid, ${m.locationId}::uuid, ${m.key},
            ${m.kind}::"MovementKind", ${m.delta.onHand}, ${m.delta.committed}, ${m.delta.held},
            ${m.delta.damaged}, ${m.delta.safetyStock}, ${m.receiptId}, ${m.connectionId}::uuid,
            ${m.orderRef}, ${m.lineRef}, ${m.actor}, ${m.reason})
    ON CONFLICT (shop_id, idempotency_key) DO NOTHING
    RETURNING id`;
  return rows[0]?.id ?? null;
}

export async function movementExists(tx: Tx, shopId: string, key: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ one: number }[]>`
    SELECT 1 AS one FROM movement WHERE shop_id = ${shopId}::uuid AND idempotency_key = ${key}`;
  return rows.length > 0;
}

/** Balances change by the movement's delta in one atomic statement (no read-modify-write). */
export async function applyLevelDelta(tx: Tx, itemId: string, locationId: string, d: FactDelta): Promise<void> {
  const updated = await tx.$executeRaw`
    UPDATE stock_level
       SET on_hand = on_hand + ${d.onHand}, committed = committed + ${d.committed},
           held = held + ${d.held}, damaged = damaged + ${d.damaged},
           safety_stock = safety_stock + ${d.safetyStock}, updated_at = now()
     WHERE item_id = ${itemId}::uuid AND location_id = ${locationId}::uuid`;
  if (updated !== 1) throw new Error(`no stock level for item ${itemId} at ${locationId}`);
}

export async function recordUnmatched(
  tx: Tx,
  input: { shopId: string; connectionId: string; orderId: string; lineId: string; sku: string | null; remoteRef: string | null; quantity: number },
): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO unmatched_line (shop_id, connection_id, order_id, line_id, sku, remote_ref, quantity)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.orderId}, ${input.lineId},
            ${input.sku}, ${input.remoteRef}, ${input.quantity})
    ON CONFLICT (connection_id, order_id, line_id)
    DO UPDATE SET last_seen_at = now(), quantity = GREATEST(unmatched_line.quantity, EXCLUDED.quantity)`;
}

export async function listingsForItems(
  tx: Tx,
  itemIds: string[],
): Promise<{ listings: ListingRow[]; components: ComponentRow[] }> {
  if (itemIds.length === 0) return { listings: [], components: [] };
  const listings = await tx.$queryRaw<ListingRow[]>`
    SELECT DISTINCT l.id, l.connection_id AS "connectionId", c.role::text AS "connectionRole",
           c.status::text AS "connectionStatus", l.sku, l.source_location_id AS "sourceLocationId",
           l.published_quantity AS "publishedQuantity", l.pushed_quantity AS "pushedQuantity",
           l.last_pushed_at AS "lastPushedAt", l.remote_quantity AS "remoteQuantity",
           l.remote_observed_at AS "remoteObservedAt", l.status::text AS status
      FROM listing l
      JOIN listing_component lc ON lc.listing_id = l.id
      JOIN connection c ON c.id = l.connection_id
     WHERE lc.item_id = ANY(${itemIds}::uuid[])`;
  if (listings.length === 0) return { listings, components: [] };
  const components = await tx.$queryRaw<ComponentRow[]>`
    SELECT listing_id AS "listingId", item_id AS "itemId", quantity FROM listing_component
     WHERE listing_id = ANY(${listings.map((l) => l.id)}::uuid[])`;
  return { listings, components };
}

export async function loadBufferRules(tx: Tx, shopId: string): Promise<BufferRule[]> {
  return tx.$queryRaw`
    SELECT id, connection_id AS "connectionId", sku, kind::text AS kind, value
      FROM buffer_rule WHERE shop_id = ${shopId}::uuid`;
}

/**
 * Marks a listing for push when its published quantity changed (or, for source-store listings,
 * when anything at its level changed: reserved / held / safety states are projected there too).
 * Returns true when the row was marked.
 */
export async function markListingChanged(
  tx: Tx,
  input: { listingId: string; published: number; force: boolean; receiptId: bigint | null; since: Date },
): Promise<boolean> {
  const receipt = input.receiptId === null ? null : [input.receiptId];
  const updated = await tx.$executeRaw`
    UPDATE listing
       SET published_quantity = ${input.published},
           published_version = published_version + 1,
           dirty_since = COALESCE(dirty_since, ${input.since}),
           pending_receipt_ids = CASE WHEN ${receipt}::bigint[] IS NULL THEN pending_receipt_ids
                                      ELSE (pending_receipt_ids || ${receipt}::bigint[])[GREATEST(1, cardinality(pending_receipt_ids) - 48):]
                                 END,
           updated_at = now()
     WHERE id = ${input.listingId}::uuid
       AND (${input.force} OR published_quantity <> ${input.published})`;
  return updated === 1;
}

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
    rootCause: string;
  },
): Promise<bigint> {
  const rows = await tx.$queryRaw<{ id: bigint }[]>`
    INSERT INTO oversell_incident (shop_id, item_id, sku, connection_id, order_ref, line_ref, movement_id,
                                   receipt_id, shortfall, ats_before, ats_after, snapshot, root_cause)
    VALUES (${input.shopId}::uuid, ${input.itemId}::uuid, ${input.sku}, ${input.connectionId}::uuid,
            ${input.orderRef}, ${input.lineRef}, ${input.movementId}, ${input.receiptId}, ${input.shortfall},
            ${input.atsBefore}, ${input.atsAfter}, ${JSON.stringify(input.snapshot)}::jsonb, ${input.rootCause})
    RETURNING id`;
  return rows[0]!.id;
}
