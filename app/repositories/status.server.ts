/**
 * The status read model (CLI `status`, the admin Overview, `/healthz`): per shop its backlog
 * counts, per connection its listings, pending pushes and open failures, and whether the
 * database answers at all. Raw SQL (one round trip per section); every statement is scoped by
 * the shop id resolved from the domain.
 */
import { db, sql } from "../lib/sql.server";

export type ShopStateRow = { id: string; status: string; syncEnabled: boolean };

export async function findShopState(input: { domain: string }): Promise<ShopStateRow | null> {
  const rows = await db().query<ShopStateRow>(sql`
    SELECT id, status::text AS status, sync_enabled AS "syncEnabled" FROM shop WHERE domain = ${input.domain}`);
  return rows[0] ?? null;
}

export type ShopBacklogCounts = {
  items: number;
  unmatched: number;
  receipts: number;
  incidents: number;
  units: number;
  recent: number;
};

/** Stock items, open unmatched lines, pending receipts, and oversells (all time, last 24 h). */
export async function countShopBacklog(input: {
  shopId: string;
}): Promise<ShopBacklogCounts | null> {
  const shopId = input.shopId;
  const [counts] = await db().query<ShopBacklogCounts>(sql`
    SELECT (SELECT count(*)::int FROM stock_item WHERE shop_id = ${shopId}::uuid) AS items,
           (SELECT count(*)::int FROM unmatched_line WHERE shop_id = ${shopId}::uuid AND resolved_at IS NULL) AS unmatched,
           (SELECT count(*)::int FROM receipt WHERE shop_id = ${shopId}::uuid AND status = 'pending') AS receipts,
           (SELECT count(*)::int FROM oversell_incident WHERE shop_id = ${shopId}::uuid AND status = 'confirmed') AS incidents,
           (SELECT COALESCE(sum(units), 0)::int FROM oversell_incident WHERE shop_id = ${shopId}::uuid AND status = 'confirmed') AS units,
           (SELECT count(*)::int FROM oversell_incident WHERE shop_id = ${shopId}::uuid AND status = 'confirmed' AND occurred_at > now() - interval '24 hours') AS recent`);
  return counts ?? null;
}

export type ConnectionStatusRow = {
  id: string;
  name: string;
  kind: string;
  role: string;
  account: string;
  status: string;
  statusReason: string | null;
  listings: number;
  pendingPushes: number;
  oldestPendingSince: string | null;
  lastPushAt: string | null;
  lastReconciledAt: string | null;
  openFailures: number;
  catalogIssues: number;
};

/** Every connection of the shop (source first, then by creation) with its sync counters. */
export async function listConnectionStatus(input: {
  shopId: string;
}): Promise<ConnectionStatusRow[]> {
  return db().query<ConnectionStatusRow>(sql`
    SELECT c.id, c.name, c.kind::text AS kind, c.role::text AS role, c.account_ref AS account, c.status::text AS status,
           c.status_reason AS "statusReason",
           (SELECT count(*)::int FROM listing l WHERE l.connection_id = c.id AND l.status = 'active') AS listings,
           (SELECT count(*)::int FROM listing l WHERE l.connection_id = c.id AND l.status = 'active'
               AND l.published_version > l.pushed_version) AS "pendingPushes",
           (SELECT to_char(min(l.dirty_since) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM listing l
             WHERE l.connection_id = c.id AND l.published_version > l.pushed_version) AS "oldestPendingSince",
           to_char(c.last_push_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastPushAt",
           to_char(c.last_reconciled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastReconciledAt",
           (SELECT count(*)::int FROM sync_failure f WHERE f.connection_id = c.id AND f.resolved_at IS NULL) AS "openFailures",
           (SELECT count(*)::int FROM catalog_issue i WHERE i.connection_id = c.id AND i.resolved_at IS NULL) AS "catalogIssues"
      FROM connection c WHERE c.shop_id = ${input.shopId}::uuid ORDER BY c.role, c.created_at`);
}

export type OpenFailureRow = { kind: string; reason: string; at: Date };

/** The newest unresolved sync failures of one connection of the shop. */
export async function listRecentOpenFailures(input: {
  shopId: string;
  connectionId: string;
  limit: number;
}): Promise<OpenFailureRow[]> {
  return db().query<OpenFailureRow>(sql`
    SELECT kind, reason, occurred_at AS at FROM sync_failure
     WHERE shop_id = ${input.shopId}::uuid AND connection_id = ${input.connectionId}::uuid AND resolved_at IS NULL
     ORDER BY occurred_at DESC LIMIT ${input.limit}`);
}

/** Resolves when PostgreSQL answers a trivial statement; rejects otherwise. */
export async function pingDatabase(): Promise<void> {
  await db().query(sql`SELECT 1`);
}
