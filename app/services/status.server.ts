import { db, sql } from "../lib/sql.server";

export type ConnectionStatusReport = {
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
  recentFailures: { kind: string; reason: string; at: string }[];
  catalogIssues: number;
};

export type ShopStatusReport = {
  shop: string;
  status: string;
  syncEnabled: boolean;
  items: number;
  unmatchedLines: number;
  pendingReceipts: number;
  incidents: { total: number; oversoldUnits: number; last24h: number };
  connections: ConnectionStatusReport[];
};

/** `status --shop`: per connection, listings, last push, pending pushes and failures. */
export async function shopStatus(domain: string): Promise<ShopStatusReport | null> {
  const shops = await db().query<{ id: string; status: string; syncEnabled: boolean }>(sql`
    SELECT id, status::text AS status, sync_enabled AS "syncEnabled" FROM shop WHERE domain = ${domain}`);
  const shop = shops[0];
  if (!shop) return null;
  const [counts] = await db().query<{
    items: number;
    unmatched: number;
    receipts: number;
    incidents: number;
    units: number;
    recent: number;
  }>(sql`
    SELECT (SELECT count(*)::int FROM stock_item WHERE shop_id = ${shop.id}::uuid) AS items,
           (SELECT count(*)::int FROM unmatched_line WHERE shop_id = ${shop.id}::uuid AND resolved_at IS NULL) AS unmatched,
           (SELECT count(*)::int FROM receipt WHERE shop_id = ${shop.id}::uuid AND status = 'pending') AS receipts,
           (SELECT count(*)::int FROM oversell_incident WHERE shop_id = ${shop.id}::uuid) AS incidents,
           (SELECT COALESCE(sum(shortfall), 0)::int FROM oversell_incident WHERE shop_id = ${shop.id}::uuid) AS units,
           (SELECT count(*)::int FROM oversell_incident WHERE shop_id = ${shop.id}::uuid AND occurred_at > now() - interval '24 hours') AS recent`);
  const connections = await db().query<Omit<ConnectionStatusReport, "recentFailures">>(sql`
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
      FROM connection c WHERE c.shop_id = ${shop.id}::uuid ORDER BY c.role, c.created_at`);
  const report: ConnectionStatusReport[] = [];
  for (const c of connections) {
    const failures = await db().query<{ kind: string; reason: string; at: Date }>(sql`
      SELECT kind, reason, occurred_at AS at FROM sync_failure
       WHERE connection_id = ${c.id}::uuid AND resolved_at IS NULL ORDER BY occurred_at DESC LIMIT 5`);
    report.push({
      ...c,
      recentFailures: failures.map((f) => ({
        kind: f.kind,
        reason: f.reason,
        at: f.at.toISOString(),
      })),
    });
  }
  return {
    shop: domain,
    status: shop.status,
    syncEnabled: shop.syncEnabled,
    items: counts?.items ?? 0,
    unmatchedLines: counts?.unmatched ?? 0,
    pendingReceipts: counts?.receipts ?? 0,
    incidents: {
      total: counts?.incidents ?? 0,
      oversoldUnits: counts?.units ?? 0,
      last24h: counts?.recent ?? 0,
    },
    connections: report,
  };
}
