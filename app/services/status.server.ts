/**
 * What state StockGuard is in: the `status --shop` report (CLI, and the admin Overview's
 * connection table) and the web process's readiness (`/healthz`). Reads only, through
 * `repositories/status.server.ts`.
 */
import {
  countShopBacklog,
  findShopState,
  listConnectionStatus,
  listRecentOpenFailures,
  pingDatabase,
  type ConnectionStatusRow,
} from "../repositories/status.server";

export type ConnectionStatusReport = ConnectionStatusRow & {
  recentFailures: { kind: string; reason: string; at: string }[];
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

const RECENT_FAILURES = 5;

/** `status --shop`: per connection, listings, last push, pending pushes and failures. */
export async function shopStatus(domain: string): Promise<ShopStatusReport | null> {
  const shop = await findShopState({ domain });
  if (!shop) return null;
  const counts = await countShopBacklog({ shopId: shop.id });
  const connections = await listConnectionStatus({ shopId: shop.id });
  const report: ConnectionStatusReport[] = [];
  for (const c of connections) {
    const failures = await listRecentOpenFailures({
      shopId: shop.id,
      connectionId: c.id,
      limit: RECENT_FAILURES,
    });
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

/** Readiness for load balancers and the sandbox: true when the database answers. */
export async function databaseReady(): Promise<boolean> {
  try {
    await pingDatabase();
    return true;
  } catch {
    return false;
  }
}
