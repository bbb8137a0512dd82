import type { ConnectionContext } from "../../channels/channel-adapter";
import type { ShopifyAdapter } from "../../channels/shopify/adapter.server";
import type { CatalogData } from "../../channels/shopify/operations";
import { normalizeSku } from "../../domain/sku";
import { db, sql, transaction } from "../../lib/sql.server";
import { log } from "../../logger.server";
import * as push from "../../repositories/push.server";
import {
  applyLedgerEvent,
  type ItemOperation,
  type LineOperation,
} from "../ledger/apply-event.server";
import { OPENING_ORDER_ID } from "../ingest/read-source-levels.server";
import { republishListings } from "../ledger/republish.server";

type Variant = CatalogData["productVariants"]["nodes"][number];

export type ImportSummary = {
  connectionId: string;
  role: "source" | "sales";
  variants: number;
  listings: number;
  items: number;
  duplicateSkus: number;
  emptySkus: number;
  unmatchedSkus: number;
  locations: number;
};

/**
 * Catalog import, on connect and after catalog webhooks. Variants are matched by normalised SKU;
 * duplicate or empty SKUs are reported to the merchant as catalog issues and left out, never
 * guessed.
 *
 * - Source store: its active locations become the hub's source locations; every SKU becomes a
 *   stock item with one listing per location. On the first import the physical quantities open
 *   the ledger (on_hand, plus orders already committed in Shopify as an opening commitment, and
 *   safety stock, quality control and damaged units as found).
 * - Another store: its variants become listings of the hub's items at the store's sync location.
 */
const IMPORT_THROTTLE_WAIT_MS = 60_000;

export async function importCatalog(
  connection: ConnectionContext,
  adapter: ShopifyAdapter,
): Promise<ImportSummary> {
  // A large catalog spends the store's API budget several times over; wait for it to refill
  // rather than failing half-way (an import cannot resume from the middle).
  const conn: ConnectionContext = { ...connection, throttleWaitMs: IMPORT_THROTTLE_WAIT_MS };
  const logger = log({ connectionId: conn.id, shop: conn.accountRef });
  const locations = (await adapter.locations(conn)).filter((l) => l.isActive);
  const variants: Variant[] = [];
  for await (const page of adapter.catalog(conn)) variants.push(...page);

  // Group by normalised SKU; report duplicates and empties.
  const bySku = new Map<string, Variant[]>();
  const empty: Variant[] = [];
  for (const v of variants) {
    const sku = normalizeSku(v.sku);
    if (sku === null) empty.push(v);
    else bySku.set(sku, [...(bySku.get(sku) ?? []), v]);
  }
  const unique = new Map<string, Variant>();
  const duplicates: [string, Variant[]][] = [];
  for (const [sku, list] of bySku) {
    if (list.length === 1) unique.set(sku, list[0]!);
    else duplicates.push([sku, list]);
  }
  await recordIssues(conn, duplicates, empty);

  const summary: ImportSummary = {
    connectionId: conn.id,
    role: conn.role,
    variants: variants.length,
    listings: 0,
    items: 0,
    duplicateSkus: duplicates.length,
    emptySkus: empty.length,
    unmatchedSkus: 0,
    locations: 0,
  };
  if (conn.role === "source") await importSource(conn, adapter, locations, unique, summary);
  else await importSales(conn, adapter, locations, unique, summary);
  const [previous] = await db().query<{ importedAt: Date | null }>(sql`
    WITH before AS (SELECT imported_at FROM connection WHERE id = ${conn.id}::uuid)
    UPDATE connection SET imported_at = now() WHERE id = ${conn.id}::uuid
    RETURNING (SELECT imported_at FROM before) AS "importedAt"`);
  // A first import can add tens of thousands of rows at once; refresh the planner's statistics
  // now rather than when autovacuum gets to it, so the first orders do not run on plans made
  // for empty tables. Later imports (catalog refreshes) add a few rows at most. Best effort: a
  // database user that does not own the tables cannot.
  if (!previous?.importedAt && variants.length >= 500) {
    await db()
      .execute(sql`ANALYZE stock_item, stock_level, listing, listing_component`)
      .catch((error: unknown) => logger.warn({ err: error }, "ANALYZE after import failed"));
  }
  logger.info(summary, "catalog imported");
  return summary;
}

async function recordIssues(
  conn: ConnectionContext,
  duplicates: [string, Variant[]][],
  empty: Variant[],
): Promise<void> {
  await transaction(async (tx) => {
    await tx.execute(sql`
      UPDATE catalog_issue SET resolved_at = now()
       WHERE connection_id = ${conn.id}::uuid AND resolved_at IS NULL AND kind IN ('duplicate_sku', 'empty_sku')`);
    for (const [sku, list] of duplicates) {
      await tx.execute(sql`
        INSERT INTO catalog_issue (shop_id, connection_id, kind, sku, remote_refs, details)
        VALUES (${conn.shopId}::uuid, ${conn.id}::uuid, 'duplicate_sku', ${sku}, ${list.map((v) => v.id)}::text[],
                ${`${list.length} variants share SKU ${sku}: ${list.map((v) => v.displayName).join(", ")}. None of them is synced until the SKUs are unique.`})
        ON CONFLICT (connection_id, kind, sku)
        DO UPDATE SET remote_refs = EXCLUDED.remote_refs, details = EXCLUDED.details, last_seen_at = now(), resolved_at = NULL`);
    }
    if (empty.length > 0) {
      await tx.execute(sql`
        INSERT INTO catalog_issue (shop_id, connection_id, kind, sku, remote_refs, details)
        VALUES (${conn.shopId}::uuid, ${conn.id}::uuid, 'empty_sku', NULL, ${empty.map((v) => v.id)}::text[],
                ${`${empty.length} variant(s) have no SKU and cannot be matched: ${empty
                  .slice(0, 10)
                  .map((v) => v.displayName)
                  .join(", ")}${empty.length > 10 ? ", …" : ""}`})
        ON CONFLICT (connection_id, kind, sku)
        DO UPDATE SET remote_refs = EXCLUDED.remote_refs, details = EXCLUDED.details, last_seen_at = now(), resolved_at = NULL`);
    }
  });
}

async function importSource(
  conn: ConnectionContext,
  adapter: ShopifyAdapter,
  locations: { id: string; name: string; fulfillsOnlineOrders: boolean }[],
  variants: Map<string, Variant>,
  summary: ImportSummary,
): Promise<void> {
  const first =
    (
      await db().query<{ importedAt: Date | null }>(sql`
    SELECT imported_at AS "importedAt" FROM connection WHERE id = ${conn.id}::uuid`)
    )[0]?.importedAt === null;
  // Locations: the first one Shopify lists is primary unless one is already.
  const hubLocations = new Map<string, string>();
  for (const [index, location] of locations.entries()) {
    const rows = await db().query<{ id: string }>(sql`
      INSERT INTO location (id, shop_id, connection_id, remote_id, name, is_source, is_primary, active, updated_at)
      VALUES (gen_random_uuid(), ${conn.shopId}::uuid, ${conn.id}::uuid, ${location.id}, ${location.name}, true,
              ${index === 0} AND NOT EXISTS (SELECT 1 FROM location WHERE shop_id = ${conn.shopId}::uuid AND is_primary),
              true, now())
      ON CONFLICT (connection_id, remote_id) DO UPDATE SET name = EXCLUDED.name, active = true, updated_at = now()
      RETURNING id`);
    hubLocations.set(location.id, rows[0]!.id);
  }
  summary.locations = hubLocations.size;

  const entries = [...variants.entries()];
  const listingIds: string[] = [];
  for (let i = 0; i < entries.length; i += 250) {
    const chunk = entries.slice(i, i + 250);
    const items = await db().query<{ id: string; sku: string }>(sql`
      INSERT INTO stock_item (id, shop_id, sku, title, updated_at)
      SELECT gen_random_uuid(), ${conn.shopId}::uuid, u.sku, u.title, now()
        FROM unnest(${chunk.map(([sku]) => sku)}::text[], ${chunk.map(([, v]) => v.displayName)}::text[]) AS u(sku, title)
      ON CONFLICT (shop_id, sku) DO UPDATE SET title = EXCLUDED.title, updated_at = now()
      RETURNING id, sku`);
    const itemOf = new Map(items.map((r) => [r.sku, r.id]));
    summary.items += items.length;
    for (const [remoteLocation, locationId] of hubLocations) {
      const rows = await upsertListings(
        conn,
        chunk.map(([sku, v]) => ({
          sku,
          variant: v,
          itemId: itemOf.get(sku)!,
          remoteLocation,
          sourceLocationId: locationId,
        })),
      );
      listingIds.push(...rows);
      await db().execute(sql`
        INSERT INTO stock_level (shop_id, item_id, location_id)
        SELECT ${conn.shopId}::uuid, unnest(${chunk.map(([sku]) => itemOf.get(sku)!)}::uuid[]), ${locationId}::uuid
        ON CONFLICT (item_id, location_id) DO NOTHING`);
    }
  }
  summary.listings = listingIds.length;

  // Quantities at every location, read in batches; they open (or correct) the ledger.
  const refs = await listingRefs(conn.id);
  const reads = await adapter.readQuantities(conn, refs);
  const readOf = new Map(reads.map((r) => [`${r.remoteRef}|${r.remoteLocationRef}`, r]));
  const importKey = new Date().toISOString();
  const operations: (ItemOperation | LineOperation)[] = [];
  for (const ref of refs) {
    const read = readOf.get(`${ref.remoteRef}|${ref.remoteLocationRef}`);
    if (!read) continue;
    await push.recordRemote(db(), {
      listingId: ref.id,
      quantity: read.quantity,
      state: read.states,
      source: "read",
      at: read.observedAt,
    });
    const s = read.states;
    operations.push({
      type: "item",
      key: `${conn.id}/import/${importKey}/${ref.id}/on_hand`,
      itemId: ref.itemId,
      locationId: ref.sourceLocationId,
      connectionId: conn.id,
      command: { kind: "on_hand_counted", onHand: s.on_hand ?? 0, pendingToSource: 0 },
    });
    if (first) {
      operations.push(
        {
          type: "item",
          key: `${conn.id}/import/${importKey}/${ref.id}/safety`,
          itemId: ref.itemId,
          locationId: ref.sourceLocationId,
          connectionId: conn.id,
          command: { kind: "safety_stock_set", quantity: Math.max(0, s.safety_stock ?? 0) },
        },
        {
          type: "item",
          key: `${conn.id}/import/${importKey}/${ref.id}/unsellable`,
          itemId: ref.itemId,
          locationId: ref.sourceLocationId,
          connectionId: conn.id,
          command: {
            kind: "unsellable_set",
            held: Math.max(0, s.quality_control ?? 0),
            damaged: Math.max(0, s.damaged ?? 0),
          },
        },
      );
      const opening = Math.max(0, (s.committed ?? 0) + (s.reserved ?? 0));
      if (opening > 0) {
        operations.push({
          type: "line",
          key: `${conn.id}/opening/${ref.itemId}/${ref.sourceLocationId}/ordered`,
          connectionId: conn.id,
          orderId: OPENING_ORDER_ID,
          lineId: `${ref.itemId}@${ref.sourceLocationId}`,
          sku: ref.sku,
          command: { kind: "placed", quantity: opening, version: importKey },
        });
      }
    }
  }
  for (let i = 0; i < operations.length; i += 300) {
    await applyLedgerEvent({
      shopId: conn.shopId,
      actor: "shopify:import",
      operations: operations.slice(i, i + 300),
    });
  }
  await republishListings(conn.shopId, listingIds, true);
}

async function importSales(
  conn: ConnectionContext,
  adapter: ShopifyAdapter,
  locations: { id: string; name: string; fulfillsOnlineOrders: boolean }[],
  variants: Map<string, Variant>,
  summary: ImportSummary,
): Promise<void> {
  const configured =
    typeof conn.settings.syncLocationId === "string" ? conn.settings.syncLocationId : null;
  const location =
    locations.find((l) => l.id === configured) ??
    locations.find((l) => l.fulfillsOnlineOrders) ??
    locations[0];
  if (!location) throw new Error(`${conn.accountRef} has no active location to sync`);
  if (configured !== location.id) {
    await db().execute(sql`
      UPDATE connection SET settings = settings || ${JSON.stringify({ syncLocationId: location.id })}::jsonb
       WHERE id = ${conn.id}::uuid`);
  }
  summary.locations = 1;
  const entries = [...variants.entries()];
  const items = await db().query<{ id: string; sku: string }>(sql`
    SELECT id, sku FROM stock_item WHERE shop_id = ${conn.shopId}::uuid AND sku = ANY(${entries.map(([sku]) => sku)}::text[])`);
  const itemOf = new Map(items.map((r) => [r.sku, r.id]));
  const matched = entries.filter(([sku]) => itemOf.has(sku));
  const unmatched = entries.filter(([sku]) => !itemOf.has(sku));
  summary.unmatchedSkus = unmatched.length;
  await db().execute(sql`
    UPDATE catalog_issue SET resolved_at = now()
     WHERE connection_id = ${conn.id}::uuid AND kind = 'unmatched_sku' AND resolved_at IS NULL`);
  for (const [sku, v] of unmatched) {
    await db().execute(sql`
      INSERT INTO catalog_issue (shop_id, connection_id, kind, sku, remote_refs, details)
      VALUES (${conn.shopId}::uuid, ${conn.id}::uuid, 'unmatched_sku', ${sku}, ${[v.id]}::text[],
              ${`${v.displayName} (SKU ${sku}) matches no SKU of the source store; it is not synced.`})
      ON CONFLICT (connection_id, kind, sku) DO UPDATE SET last_seen_at = now(), resolved_at = NULL`);
  }
  const listingIds: string[] = [];
  for (let i = 0; i < matched.length; i += 250) {
    const chunk = matched.slice(i, i + 250);
    listingIds.push(
      ...(await upsertListings(
        conn,
        chunk.map(([sku, v]) => ({
          sku,
          variant: v,
          itemId: itemOf.get(sku)!,
          remoteLocation: location.id,
          sourceLocationId: null,
        })),
      )),
    );
  }
  summary.listings = listingIds.length;
  const refs = await listingRefs(conn.id);
  for (const read of await adapter.readQuantities(conn, refs)) {
    const ref = refs.find(
      (r) => r.remoteRef === read.remoteRef && r.remoteLocationRef === read.remoteLocationRef,
    );
    if (ref)
      await push.recordRemote(db(), {
        listingId: ref.id,
        quantity: read.quantity,
        state: read.states,
        source: "read",
        at: read.observedAt,
      });
  }
  await republishListings(conn.shopId, listingIds, true);
}

async function upsertListings(
  conn: ConnectionContext,
  rows: {
    sku: string;
    variant: Variant;
    itemId: string;
    remoteLocation: string;
    sourceLocationId: string | null;
  }[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const listings = await db().query<{ id: string }>(sql`
    INSERT INTO listing (id, shop_id, connection_id, remote_ref, remote_location_ref, remote_variant_ref, sku, title,
                         source_location_id, status, updated_at)
    SELECT gen_random_uuid(), ${conn.shopId}::uuid, ${conn.id}::uuid, u.remote_ref, u.location, u.variant, u.sku, u.title,
           u.source_location_id, 'active', now()
      FROM unnest(${rows.map((r) => r.variant.inventoryItem.id)}::text[], ${rows.map((r) => r.remoteLocation)}::text[],
                  ${rows.map((r) => r.variant.id)}::text[], ${rows.map((r) => r.sku)}::text[],
                  ${rows.map((r) => r.variant.displayName)}::text[], ${rows.map((r) => r.sourceLocationId)}::uuid[])
           AS u(remote_ref, location, variant, sku, title, source_location_id)
    ON CONFLICT (connection_id, remote_ref, remote_location_ref)
    DO UPDATE SET remote_variant_ref = EXCLUDED.remote_variant_ref, sku = EXCLUDED.sku, title = EXCLUDED.title,
                  status = CASE WHEN listing.status = 'disabled' THEN listing.status ELSE 'active'::"ListingStatus" END,
                  updated_at = now()
    RETURNING id`);
  // Components: a new listing is one unit of its item. A plain listing whose SKU now points at
  // another item is remapped; bundles and multipacks (set by the merchant) are left alone.
  const remoteRefs = rows.map((r) => r.variant.inventoryItem.id);
  const remoteLocations = rows.map((r) => r.remoteLocation);
  const itemIds = rows.map((r) => r.itemId);
  await db().execute(sql`
    INSERT INTO listing_component (listing_id, item_id, quantity)
    SELECT l.id, u.item_id, 1
      FROM unnest(${remoteRefs}::text[], ${remoteLocations}::text[], ${itemIds}::uuid[]) AS u(remote_ref, location, item_id)
      JOIN listing l ON l.connection_id = ${conn.id}::uuid AND l.remote_ref = u.remote_ref AND l.remote_location_ref = u.location
     WHERE NOT EXISTS (SELECT 1 FROM listing_component c WHERE c.listing_id = l.id)
    ON CONFLICT (listing_id, item_id) DO NOTHING`);
  await db().execute(sql`
    UPDATE listing_component c SET item_id = u.item_id
      FROM unnest(${remoteRefs}::text[], ${remoteLocations}::text[], ${itemIds}::uuid[]) AS u(remote_ref, location, item_id)
      JOIN listing l ON l.connection_id = ${conn.id}::uuid AND l.remote_ref = u.remote_ref AND l.remote_location_ref = u.location
     WHERE c.listing_id = l.id AND c.item_id <> u.item_id AND c.quantity = 1
       AND (SELECT count(*) FROM listing_component c2 WHERE c2.listing_id = l.id) = 1`);
  return listings.map((l) => l.id);
}

async function listingRefs(connectionId: string) {
  return db().query<{
    id: string;
    remoteRef: string;
    remoteLocationRef: string;
    itemId: string;
    sourceLocationId: string;
    sku: string;
  }>(sql`
    SELECT l.id, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef", c.item_id AS "itemId",
           l.source_location_id AS "sourceLocationId", i.sku
      FROM listing l
      JOIN listing_component c ON c.listing_id = l.id
      JOIN stock_item i ON i.id = c.item_id
     WHERE l.connection_id = ${connectionId}::uuid AND l.status = 'active'`);
}
