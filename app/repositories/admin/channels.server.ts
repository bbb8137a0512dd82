/**
 * The Channels page's read model: every connection of the shop (source first, disconnected ones
 * last) with its status and reason, how it is authorised (its own credentials, or the store's
 * install of StockGuard), its listings and last write; and whether this store is itself linked
 * as another shop's sales channel.
 */
import { db, sql } from "../../lib/sql.server";

export type ChannelRow = {
  id: string;
  name: string;
  kind: string;
  role: "source" | "sales";
  account: string;
  status: string;
  statusReason: string | null;
  /** Sealed credentials are stored (a token or marketplace keys); false for linked stores. */
  hasCredentials: boolean;
  listings: number;
  lastPushAt: Date | null;
  createdAt: Date;
};

export async function listShopChannels(input: { shopId: string }): Promise<ChannelRow[]> {
  return db().query<ChannelRow>(sql`
    SELECT c.id, c.name, c.kind::text AS kind, c.role::text AS role, c.account_ref AS account,
           c.status::text AS status, c.status_reason AS "statusReason",
           (c.credentials IS NOT NULL) AS "hasCredentials",
           (SELECT count(*) FROM listing l WHERE l.connection_id = c.id AND l.status = 'active')::int AS listings,
           c.last_push_at AS "lastPushAt", c.created_at AS "createdAt"
      FROM connection c
     WHERE c.shop_id = ${input.shopId}::uuid
     ORDER BY c.role, (c.status = 'disconnected'), c.created_at`);
}

/** The domain of the shop this store is linked to as a sales channel, or null. */
export async function findLinkedSource(input: { shopId: string }): Promise<string | null> {
  const rows = await db().query<{ domain: string }>(sql`
    SELECT l.domain FROM shop s JOIN shop l ON l.id = s.linked_to_shop_id
     WHERE s.id = ${input.shopId}::uuid`);
  return rows[0]?.domain ?? null;
}
