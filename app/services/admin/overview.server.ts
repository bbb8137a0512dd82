/**
 * The Overview page: the shop, each connection's sync state (the CLI's `status` report) and the
 * headline numbers a merchant checks first, all scoped to one shop.
 */
import { countOversoldSince } from "../../repositories/admin/overview.server";
import { findShopInstallation } from "../../repositories/admin/shop.server";
import { shopStatus, type ConnectionStatusReport } from "../status.server";
import { getOnboarding, type Onboarding } from "./onboarding.server";
import { requireShop } from "./shop.server";

export type OverviewConnection = Omit<ConnectionStatusReport, "recentFailures"> & {
  /** Age of the oldest change not yet written to the channel (ms at `now`), or null. */
  oldestPendingAgeMs: number | null;
};

export type OversellWindow = { incidents: number; units: number };

export type AdminOverview = {
  /** Server time of the report: relative times are computed against it (no hydration drift). */
  now: string;
  shop: {
    domain: string;
    name: string | null;
    status: string;
    syncEnabled: boolean;
    installedAt: string;
  } | null;
  connections: OverviewConnection[];
  /** The set-up checklist, the import progress and the preview of the first sync. */
  onboarding: Onboarding | null;
  headline: {
    oversold24h: OversellWindow;
    oversold7d: OversellWindow;
    openFailures: number;
    unmatchedLines: number;
    catalogIssues: number;
    items: number;
    pendingReceipts: number;
  };
};

const DAY_MS = 86_400_000;

/** The Overview of one shop; an uninstalled-and-erased or unknown shop gets the empty page. */
export async function getAdminOverview(shopDomain: string): Promise<AdminOverview> {
  const now = new Date();
  // On the first load the install may still be under way in the layout's loader: wait for it.
  await requireShop(shopDomain);
  const shop = await findShopInstallation({ domain: shopDomain });
  const empty: AdminOverview["headline"] = {
    oversold24h: { incidents: 0, units: 0 },
    oversold7d: { incidents: 0, units: 0 },
    openFailures: 0,
    unmatchedLines: 0,
    catalogIssues: 0,
    items: 0,
    pendingReceipts: 0,
  };
  if (!shop)
    return {
      now: now.toISOString(),
      shop: null,
      connections: [],
      onboarding: null,
      headline: empty,
    };

  const oversold = (sinceMs: number): Promise<OversellWindow> =>
    countOversoldSince({ shopId: shop.id, since: new Date(now.getTime() - sinceMs) });
  const [report, oversold24h, oversold7d, onboarding] = await Promise.all([
    shopStatus(shopDomain),
    oversold(DAY_MS),
    oversold(7 * DAY_MS),
    getOnboarding(shopDomain),
  ]);
  const connections = (report?.connections ?? []).map(
    ({ recentFailures: _recent, ...c }): OverviewConnection => ({
      ...c,
      oldestPendingAgeMs: c.oldestPendingSince
        ? Math.max(0, now.getTime() - new Date(c.oldestPendingSince).getTime())
        : null,
    }),
  );
  return {
    now: now.toISOString(),
    shop: {
      domain: shop.domain,
      name: shop.name,
      status: shop.status,
      syncEnabled: shop.syncEnabled,
      installedAt: shop.installedAt.toISOString(),
    },
    connections,
    onboarding,
    headline: {
      oversold24h,
      oversold7d,
      openFailures: connections.reduce((sum, c) => sum + c.openFailures, 0),
      unmatchedLines: report?.unmatchedLines ?? 0,
      catalogIssues: connections.reduce((sum, c) => sum + c.catalogIssues, 0),
      items: report?.items ?? 0,
      pendingReceipts: report?.pendingReceipts ?? 0,
    },
  };
}
