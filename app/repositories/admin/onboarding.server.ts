/**
 * The Overview's onboarding read model: what a merchant has set up so far (the source locations
 * whose stock is pooled, the sales channels, the shop-wide default buffer, whether this store is
 * linked to another one) and the preview of the first sync — for every listing, what StockGuard
 * would publish against what the channel shows now, before anything is written.
 */
import { db, sql } from "../../lib/sql.server";

export type SetupStateRow = {
  syncEnabled: boolean;
  holdsReleasedAt: Date | null;
  /** The source shop this store sells for, when it is linked as a sales channel. */
  linkedToDomain: string | null;
};

export async function findSetupState(input: { shopId: string }): Promise<SetupStateRow | null> {
  const rows = await db().query<SetupStateRow>(sql`
    SELECT s.sync_enabled AS "syncEnabled", s.holds_released_at AS "holdsReleasedAt",
           l.domain AS "linkedToDomain"
      FROM shop s LEFT JOIN shop l ON l.id = s.linked_to_shop_id
     WHERE s.id = ${input.shopId}::uuid`);
  return rows[0] ?? null;
}

export type SourceLocationRow = {
  id: string;
  name: string;
  active: boolean;
  primary: boolean;
  /** Units on hand there, over every item. */
  onHand: number;
  items: number;
};

/** The locations of the source store whose stock is pooled (counted by the ledger). */
export async function listSourceLocations(input: { shopId: string }): Promise<SourceLocationRow[]> {
  return db().query<SourceLocationRow>(sql`
    SELECT l.id, l.name, l.active, l.is_primary AS "primary",
           COALESCE((SELECT sum(s.on_hand) FROM stock_level s WHERE s.location_id = l.id), 0)::int AS "onHand",
           (SELECT count(*) FROM stock_level s WHERE s.location_id = l.id AND s.on_hand <> 0)::int AS items
      FROM location l JOIN connection c ON c.id = l.connection_id
     WHERE l.shop_id = ${input.shopId}::uuid AND l.is_source AND c.role = 'source'
     ORDER BY l.is_primary DESC, l.name`);
}

/** Shop-wide default buffer rules (every channel, every SKU). */
export async function listDefaultRules(input: {
  shopId: string;
}): Promise<{ kind: string; value: number }[]> {
  return db().query(sql`
    SELECT kind::text AS kind, value FROM buffer_rule
     WHERE shop_id = ${input.shopId}::uuid AND connection_id IS NULL AND sku IS NULL
     ORDER BY kind`);
}

export type PreviewChannelRow = {
  connectionId: string;
  name: string;
  kind: string;
  role: string;
  status: string;
  listings: number;
  /** Listings whose published quantity differs from what the channel shows (or was never read). */
  changes: number;
};

/**
 * Per connection that would be written (active ones): its listings, and how many of them the
 * first write would change.
 */
export async function countPreviewChanges(input: { shopId: string }): Promise<PreviewChannelRow[]> {
  return db().query<PreviewChannelRow>(sql`
    SELECT c.id AS "connectionId", c.name, c.kind::text AS kind, c.role::text AS role, c.status::text AS status,
           count(l.id)::int AS listings,
           count(l.id) FILTER (WHERE l.remote_quantity IS DISTINCT FROM l.published_quantity)::int AS changes
      FROM connection c LEFT JOIN listing l ON l.connection_id = c.id AND l.status = 'active'
     WHERE c.shop_id = ${input.shopId}::uuid AND c.status = 'active'
     GROUP BY c.id
     ORDER BY c.role, c.created_at`);
}

export type PreviewDifferenceRow = {
  listingId: string;
  connectionId: string;
  connectionName: string;
  sku: string | null;
  title: string | null;
  /** What the channel shows now (null: never read). */
  shows: number | null;
  /** What StockGuard would write. */
  publishes: number;
  components: number;
};

/** The listings the first write would change, by SKU then channel (at most `limit`). */
export async function listPreviewDifferences(input: {
  shopId: string;
  limit: number;
}): Promise<PreviewDifferenceRow[]> {
  return db().query<PreviewDifferenceRow>(sql`
    SELECT l.id AS "listingId", c.id AS "connectionId", c.name AS "connectionName", l.sku, l.title,
           l.remote_quantity AS shows, l.published_quantity AS publishes,
           (SELECT count(*) FROM listing_component lc WHERE lc.listing_id = l.id)::int AS components
      FROM listing l JOIN connection c ON c.id = l.connection_id
     WHERE l.shop_id = ${input.shopId}::uuid AND l.status = 'active' AND c.status = 'active'
       AND l.remote_quantity IS DISTINCT FROM l.published_quantity
     ORDER BY l.sku NULLS LAST, c.role, c.created_at, l.remote_location_ref
     LIMIT ${input.limit}`);
}
