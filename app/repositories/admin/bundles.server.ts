/**
 * The Bundles page's read model: listings that sell more than one item or several units of one
 * (bundles and multipacks) with their components and each component's available-to-sell, what
 * the listing publishes, and the listings a merchant can define as bundles (by channel and SKU).
 */
import { db, sql } from "../../lib/sql.server";

export type BundleRow = {
  listingId: string;
  connectionId: string;
  connectionName: string;
  sku: string | null;
  title: string | null;
  publishedQuantity: number;
  remoteQuantity: number | null;
  pending: boolean;
  components: { sku: string; title: string | null; quantity: number; ats: number }[];
};

export async function listBundles(input: { shopId: string; limit: number }): Promise<BundleRow[]> {
  return db().query<BundleRow>(sql`
    SELECT l.id AS "listingId", c.id AS "connectionId", c.name AS "connectionName", l.sku, l.title,
           l.published_quantity AS "publishedQuantity", l.remote_quantity AS "remoteQuantity",
           (l.published_version > l.pushed_version) AS pending,
           (SELECT json_agg(json_build_object(
                     'sku', i.sku, 'title', i.title, 'quantity', lc.quantity,
                     'ats', COALESCE((SELECT sum(s.on_hand - s.committed - s.held - s.damaged - s.safety_stock)
                                        FROM stock_level s JOIN location loc ON loc.id = s.location_id
                                       WHERE s.item_id = i.id AND loc.is_source), 0))
                   ORDER BY i.sku)
              FROM listing_component lc JOIN stock_item i ON i.id = lc.item_id
             WHERE lc.listing_id = l.id) AS components
      FROM listing l JOIN connection c ON c.id = l.connection_id
     WHERE l.shop_id = ${input.shopId}::uuid AND c.status <> 'disconnected'
       AND EXISTS (SELECT 1 FROM listing_component lc WHERE lc.listing_id = l.id
                    GROUP BY lc.listing_id HAVING count(*) > 1 OR max(lc.quantity) > 1)
     ORDER BY c.role, c.created_at, l.sku
     LIMIT ${input.limit}`);
}

/** Channels whose listings can be bundles: the shop's live sales channels. */
export async function listBundleChannels(input: {
  shopId: string;
}): Promise<{ id: string; name: string; kind: string }[]> {
  return db().query(sql`
    SELECT id, name, kind::text AS kind FROM connection
     WHERE shop_id = ${input.shopId}::uuid AND role = 'sales' AND status <> 'disconnected'
     ORDER BY created_at`);
}

/** What one listing publishes now (after a bundle change). */
export async function listingPublished(input: {
  shopId: string;
  listingId: string;
}): Promise<{ sku: string | null; publishedQuantity: number } | null> {
  const rows = await db().query<{ sku: string | null; publishedQuantity: number }>(sql`
    SELECT sku, published_quantity AS "publishedQuantity" FROM listing
     WHERE shop_id = ${input.shopId}::uuid AND id = ${input.listingId}::uuid`);
  return rows[0] ?? null;
}
