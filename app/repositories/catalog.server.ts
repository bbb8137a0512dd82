/**
 * The catalog: source locations, stock items (one per shop and normalised SKU), listings and
 * their components as imported from each connection, and the catalog issues the merchant sees
 * (duplicate, empty and unmatched SKUs).
 */
import { db, sql, type SqlClient } from "../lib/sql.server";
import { transaction } from "./tx.server";

export type CatalogIssueKind =
  | "duplicate_sku"
  | "empty_sku"
  | "unmatched_sku"
  /** Listed on the channel but not synced by design (Amazon FBA-only listings). */
  | "not_synced"
  /**
   * Sold on the channel but its quantity cannot be set through the API StockGuard uses (an eBay
   * listing made with the Trading API / Seller Hub, unknown to the Inventory API). Found from
   * orders, so catalog imports leave it alone.
   */
  | "not_manageable";

/**
 * Replaces the connection's open issues of these kinds with `issues` (one transaction): issues
 * still present stay open with their first sighting kept, the others are resolved.
 */
export async function replaceCatalogIssues(input: {
  shopId: string;
  connectionId: string;
  kinds: CatalogIssueKind[];
  issues: { kind: CatalogIssueKind; sku: string | null; remoteRefs: string[]; details: string }[];
}): Promise<void> {
  await transaction(async (tx) => {
    await tx.execute(sql`
      UPDATE catalog_issue SET resolved_at = now()
       WHERE connection_id = ${input.connectionId}::uuid AND resolved_at IS NULL
         AND kind = ANY(${input.kinds}::text[])`);
    for (const issue of input.issues) {
      await tx.execute(sql`
        INSERT INTO catalog_issue (shop_id, connection_id, kind, sku, remote_refs, details)
        VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${issue.kind}, ${issue.sku},
                ${issue.remoteRefs}::text[], ${issue.details})
        ON CONFLICT (connection_id, kind, sku)
        DO UPDATE SET remote_refs = EXCLUDED.remote_refs, details = EXCLUDED.details,
                      last_seen_at = now(), resolved_at = NULL`);
    }
  });
}

/** Opens (or refreshes) one issue of a connection, leaving its other issues as they are. */
export async function recordCatalogIssue(input: {
  shopId: string;
  connectionId: string;
  kind: CatalogIssueKind;
  sku: string | null;
  remoteRefs: string[];
  details: string;
}): Promise<void> {
  await db().execute(sql`
    INSERT INTO catalog_issue (shop_id, connection_id, kind, sku, remote_refs, details)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.kind}, ${input.sku},
            ${input.remoteRefs}::text[], ${input.details})
    ON CONFLICT (connection_id, kind, sku)
    DO UPDATE SET remote_refs = EXCLUDED.remote_refs, details = EXCLUDED.details,
                  last_seen_at = now(), resolved_at = NULL`);
}

/** Resolves one open issue of a connection (the channel fixed it); false when none was open. */
export async function resolveCatalogIssue(input: {
  connectionId: string;
  kind: CatalogIssueKind;
  sku: string | null;
}): Promise<boolean> {
  const n = await db().execute(sql`
    UPDATE catalog_issue SET resolved_at = now()
     WHERE connection_id = ${input.connectionId}::uuid AND kind = ${input.kind}
       AND sku IS NOT DISTINCT FROM ${input.sku} AND resolved_at IS NULL`);
  return n > 0;
}

/** The source store's locations become the hub's source locations; returns remote → hub id. */
export async function upsertSourceLocations(
  shopId: string,
  connectionId: string,
  locations: { id: string; name: string }[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [index, location] of locations.entries()) {
    // The first one the channel lists is primary unless the shop has one already.
    const rows = await db().query<{ id: string }>(sql`
      INSERT INTO location (id, shop_id, connection_id, remote_id, name, is_source, is_primary, active, updated_at)
      VALUES (gen_random_uuid(), ${shopId}::uuid, ${connectionId}::uuid, ${location.id}, ${location.name}, true,
              ${index === 0} AND NOT EXISTS (SELECT 1 FROM location WHERE shop_id = ${shopId}::uuid AND is_primary),
              true, now())
      ON CONFLICT (connection_id, remote_id) DO UPDATE SET name = EXCLUDED.name, active = true, updated_at = now()
      RETURNING id`);
    out.set(location.id, rows[0]!.id);
  }
  return out;
}

/** Stock items by SKU, created when missing; returns SKU → item id. */
export async function upsertItems(
  shopId: string,
  items: { sku: string; title: string }[],
): Promise<Map<string, string>> {
  if (items.length === 0) return new Map();
  const skus = items.map((i) => i.sku);
  // Sales lock items FOR UPDATE in id order (ledger lockAndLoad). An upsert's DO UPDATE would lock
  // every existing item of the page in catalog order and could deadlock with a sale applied
  // meanwhile; so new SKUs are inserted (no one else can hold a row that does not exist yet), an
  // unchanged item is not touched, and a renamed one is locked in id order before it is written.
  return transaction(async (tx) => {
    await tx.execute(sql`
      INSERT INTO stock_item (id, shop_id, sku, title, updated_at)
      SELECT gen_random_uuid(), ${shopId}::uuid, u.sku, u.title, now()
        FROM unnest(${skus}::text[], ${items.map((i) => i.title)}::text[]) AS u(sku, title)
      ON CONFLICT (shop_id, sku) DO NOTHING`);
    const rows = await tx.query<{ id: string; sku: string; title: string | null }>(sql`
      SELECT id, sku, title FROM stock_item WHERE shop_id = ${shopId}::uuid AND sku = ANY(${skus}::text[])`);
    const titleOf = new Map(items.map((i) => [i.sku, i.title]));
    const renamed = rows
      .filter((r) => r.title !== titleOf.get(r.sku))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    if (renamed.length > 0) {
      await tx.query(sql`
        SELECT id FROM stock_item WHERE id = ANY(${renamed.map((r) => r.id)}::uuid[]) ORDER BY id FOR UPDATE`);
      await tx.execute(sql`
        UPDATE stock_item i SET title = u.title, updated_at = now()
          FROM unnest(${renamed.map((r) => r.id)}::uuid[], ${renamed.map((r) => titleOf.get(r.sku)!)}::text[]) AS u(id, title)
         WHERE i.id = u.id`);
    }
    return new Map(rows.map((r) => [r.sku, r.id]));
  });
}

export async function itemsBySku(shopId: string, skus: string[]): Promise<Map<string, string>> {
  if (skus.length === 0) return new Map();
  const rows = await db().query<{ id: string; sku: string }>(sql`
    SELECT id, sku FROM stock_item WHERE shop_id = ${shopId}::uuid AND sku = ANY(${skus}::text[])`);
  return new Map(rows.map((r) => [r.sku, r.id]));
}

export async function ensureLevels(
  shopId: string,
  itemIds: string[],
  locationId: string,
): Promise<void> {
  if (itemIds.length === 0) return;
  await db().execute(sql`
    INSERT INTO stock_level (shop_id, item_id, location_id)
    SELECT ${shopId}::uuid, unnest(${itemIds}::uuid[]), ${locationId}::uuid
    ON CONFLICT (item_id, location_id) DO NOTHING`);
}

export type ListingUpsert = {
  remoteRef: string;
  remoteLocationRef: string;
  remoteVariantRef: string | null;
  sku: string;
  title: string;
  itemId: string;
  sourceLocationId: string | null;
};

/**
 * Listings of a connection, created or refreshed (a disabled one stays disabled). A new listing
 * is one unit of its item; a plain listing whose SKU now points at another item is remapped;
 * bundles and multipacks (set by the merchant) are left alone. Returns the listing ids.
 */
export async function upsertListings(
  shopId: string,
  connectionId: string,
  rows: ListingUpsert[],
  client: SqlClient = db(),
): Promise<string[]> {
  if (rows.length === 0) return [];
  const listings = await client.query<{ id: string }>(sql`
    INSERT INTO listing (id, shop_id, connection_id, remote_ref, remote_location_ref, remote_variant_ref, sku, title,
                         source_location_id, status, updated_at)
    SELECT gen_random_uuid(), ${shopId}::uuid, ${connectionId}::uuid, u.remote_ref, u.location, u.variant, u.sku, u.title,
           u.source_location_id, 'active', now()
      FROM unnest(${rows.map((r) => r.remoteRef)}::text[], ${rows.map((r) => r.remoteLocationRef)}::text[],
                  ${rows.map((r) => r.remoteVariantRef)}::text[], ${rows.map((r) => r.sku)}::text[],
                  ${rows.map((r) => r.title)}::text[], ${rows.map((r) => r.sourceLocationId)}::uuid[])
           AS u(remote_ref, location, variant, sku, title, source_location_id)
    ON CONFLICT (connection_id, remote_ref, remote_location_ref)
    DO UPDATE SET remote_variant_ref = EXCLUDED.remote_variant_ref, sku = EXCLUDED.sku, title = EXCLUDED.title,
                  status = CASE WHEN listing.status = 'disabled' THEN listing.status ELSE 'active'::"ListingStatus" END,
                  updated_at = now()
    RETURNING id`);
  const remoteRefs = rows.map((r) => r.remoteRef);
  const remoteLocations = rows.map((r) => r.remoteLocationRef);
  const itemIds = rows.map((r) => r.itemId);
  // In item id order: each row's foreign key check share-locks its item, and the ledger locks
  // items in id order (lockAndLoad), so any other order can deadlock with a sale being applied
  // (two stores connected at once did).
  await client.execute(sql`
    INSERT INTO listing_component (listing_id, item_id, quantity)
    SELECT l.id, u.item_id, 1
      FROM unnest(${remoteRefs}::text[], ${remoteLocations}::text[], ${itemIds}::uuid[]) AS u(remote_ref, location, item_id)
      JOIN listing l ON l.connection_id = ${connectionId}::uuid AND l.remote_ref = u.remote_ref AND l.remote_location_ref = u.location
     WHERE NOT EXISTS (SELECT 1 FROM listing_component c WHERE c.listing_id = l.id)
     ORDER BY u.item_id
    ON CONFLICT (listing_id, item_id) DO NOTHING`);
  await client.execute(sql`
    UPDATE listing_component c SET item_id = u.item_id
      FROM unnest(${remoteRefs}::text[], ${remoteLocations}::text[], ${itemIds}::uuid[]) AS u(remote_ref, location, item_id)
      JOIN listing l ON l.connection_id = ${connectionId}::uuid AND l.remote_ref = u.remote_ref AND l.remote_location_ref = u.location
     WHERE c.listing_id = l.id AND c.item_id <> u.item_id AND c.quantity = 1
       AND (SELECT count(*) FROM listing_component c2 WHERE c2.listing_id = l.id) = 1`);
  return listings.map((l) => l.id);
}

export type ListingRef = {
  id: string;
  remoteRef: string;
  remoteLocationRef: string;
  itemId: string;
  sourceLocationId: string;
  sku: string;
};

/** Every active listing of a connection with its (first) item. */
export async function listingRefs(connectionId: string): Promise<ListingRef[]> {
  return db().query<ListingRef>(sql`
    SELECT l.id, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef", c.item_id AS "itemId",
           l.source_location_id AS "sourceLocationId", i.sku
      FROM listing l
      JOIN listing_component c ON c.listing_id = l.id
      JOIN stock_item i ON i.id = c.item_id
     WHERE l.connection_id = ${connectionId}::uuid AND l.status = 'active'`);
}

/**
 * What the channel's catalog says about each variant, stored on every listing of it (every
 * location): tracked, sells when out of stock, barcode, unit price, product (risk checks and
 * cycle counts read them). Unreadable prices are stored as unknown.
 */
export async function recordCatalogFacts(
  connectionId: string,
  rows: {
    remoteRef: string;
    tracked: boolean;
    sellsWhenOutOfStock: boolean;
    barcode: string | null;
    unitPrice: string | null;
    remoteProductRef: string | null;
  }[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await db().execute(sql`
      UPDATE listing l
         SET tracked = u.tracked, sells_when_out_of_stock = u.continues, barcode = NULLIF(btrim(u.barcode), ''),
             unit_price = CASE WHEN u.price ~ '^[0-9]{1,12}([.][0-9]{1,2})?$' THEN u.price::numeric END,
             remote_product_ref = u.product
        FROM unnest(${chunk.map((r) => r.remoteRef)}::text[], ${chunk.map((r) => r.tracked)}::boolean[],
                    ${chunk.map((r) => r.sellsWhenOutOfStock)}::boolean[], ${chunk.map((r) => r.barcode)}::text[],
                    ${chunk.map((r) => r.unitPrice)}::text[], ${chunk.map((r) => r.remoteProductRef)}::text[])
             AS u(remote_ref, tracked, continues, barcode, price, product)
       WHERE l.connection_id = ${connectionId}::uuid AND l.remote_ref = u.remote_ref`);
  }
}

/**
 * Refreshes the planner's statistics after a large first import, so the first orders do not run
 * on plans made for empty tables. Best effort: a user that does not own the tables cannot.
 */
export async function analyzeCatalogTables(): Promise<void> {
  await db().execute(sql`ANALYZE stock_item, stock_level, listing, listing_component`);
}
