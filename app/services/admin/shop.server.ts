/**
 * The shop behind an admin (or sandbox sign-in) request, looked up by its domain
 * (`session.shop`). Every admin service scopes its queries by the id returned here.
 */
import { findAdminShop, findShopInstallation } from "../../repositories/admin/shop.server";

export type AdminShop = { id: string; domain: string; name: string | null; syncEnabled: boolean };

/**
 * The shop row is created at install (afterAuth → recordInstall), so a missing one is answered
 * with a 404 rather than an empty page.
 */
export async function requireShop(domain: string): Promise<AdminShop> {
  const shop = await findAdminShop({ domain });
  if (!shop) {
    throw new Response(`${domain} has not finished installing StockGuard`, { status: 404 });
  }
  return shop;
}

/** True when the shop is installed and has not uninstalled StockGuard since. */
export async function isShopActive(domain: string): Promise<boolean> {
  const shop = await findShopInstallation({ domain });
  return shop?.status === "active";
}
