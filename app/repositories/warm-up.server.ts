/**
 * A throw-away shop for the ledger warm-up (services/warm-up.server.ts): written inside a
 * transaction the warm-up always rolls back, so no other session ever sees it. Its domain is
 * under `.invalid` (reserved: never a store).
 */
import { randomUUID } from "node:crypto";
import { sql } from "../lib/sql.server";
import type { Tx } from "./tx.server";

export type WarmUpShop = {
  shopId: string;
  /** The stores that sell (Shopify), each listing every item. */
  salesConnectionIds: string[];
  /** Variant ids (numeric, as a Shopify order names them) and SKUs, one per item. */
  variants: { variantId: number; sku: string }[];
};

/** A shop with a source store, `stores` other stores and `items` items of 1,000 units each. */
export async function seedWarmUpShop(
  tx: Tx,
  options: { items: number; stores: number },
): Promise<WarmUpShop> {
  const domain = `warm-up-${randomUUID().slice(0, 8)}.invalid`;
  const [shop] = await tx.query<{ id: string }>(sql`
    INSERT INTO shop (id, domain, name, updated_at)
    VALUES (gen_random_uuid(), ${domain}, 'StockGuard warm-up', now())
    RETURNING id`);
  const shopId = shop!.id;
  const connections = await tx.query<{ id: string; role: string }>(sql`
    INSERT INTO connection (id, shop_id, kind, role, name, account_ref, updated_at)
    SELECT gen_random_uuid(), ${shopId}::uuid, 'shopify', r.role::"ConnectionRole", r.ref, r.ref, now()
      FROM (SELECT 'source' AS role, ${domain} AS ref
            UNION ALL
            SELECT 'sales', 'store-' || n || '.' || ${domain} FROM generate_series(1, ${options.stores}::int) n) r
    RETURNING id, role::text AS role`);
  const source = connections.find((c) => c.role === "source")!.id;
  const [location] = await tx.query<{ id: string }>(sql`
    INSERT INTO location (id, shop_id, connection_id, remote_id, name, is_primary, updated_at)
    VALUES (gen_random_uuid(), ${shopId}::uuid, ${source}::uuid, 'gid://shopify/Location/1', 'Warm-up', true, now())
    RETURNING id`);
  await tx.execute(sql`
    WITH items AS (
      INSERT INTO stock_item (id, shop_id, sku, updated_at)
      SELECT gen_random_uuid(), ${shopId}::uuid, 'WARM-UP-' || n, now() FROM generate_series(1, ${options.items}::int) n
      RETURNING id, sku),
    levels AS (
      INSERT INTO stock_level (shop_id, item_id, location_id, on_hand)
      SELECT ${shopId}::uuid, id, ${location!.id}::uuid, 1000 FROM items),
    listings AS (
      INSERT INTO listing (id, shop_id, connection_id, remote_ref, remote_location_ref, remote_variant_ref,
                           sku, source_location_id, published_quantity, tracked)
      SELECT gen_random_uuid(), ${shopId}::uuid, c.id, 'gid://shopify/InventoryItem/' || substr(i.sku, 9),
             'gid://shopify/Location/1', 'gid://shopify/ProductVariant/' || substr(i.sku, 9), i.sku,
             CASE WHEN c.id = ${source}::uuid THEN ${location!.id}::uuid END, 1000, true
        FROM items i CROSS JOIN unnest(${connections.map((c) => c.id)}::uuid[]) AS c(id)
      RETURNING id, sku)
    INSERT INTO listing_component (listing_id, item_id)
    SELECT l.id, i.id FROM listings l JOIN items i ON i.sku = l.sku`);
  return {
    shopId,
    salesConnectionIds: connections.filter((c) => c.role === "sales").map((c) => c.id),
    variants: Array.from({ length: options.items }, (_, i) => ({
      variantId: i + 1,
      sku: `WARM-UP-${i + 1}`,
    })),
  };
}
