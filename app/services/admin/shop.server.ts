/**
 * The shop behind an admin (or sandbox sign-in) request, looked up by its domain
 * (`session.shop`). Every admin service scopes its queries by the id returned here.
 */
import { findAdminShop, findShopInstallation } from "../../repositories/admin/shop.server";
import { installFromShopify } from "../shops.server";

export type AdminShop = { id: string; domain: string; name: string | null; syncEnabled: boolean };

/** How long a page waits for the install that its own request's token exchange started. */
const INSTALL_WAIT_MS = 3_000;

/**
 * The shop row is created at install (afterAuth → installFromShopify). On the very first load,
 * Remix runs the layout's and the page's loaders in parallel: one exchanges the session token
 * and runs afterAuth, the other finds the stored session and arrives here first — so the page
 * waits for that install a moment, then completes it itself (idempotent: the request is
 * authenticated by Shopify, so the store has installed the app; this also repairs an install
 * whose afterAuth failed once, which would otherwise never run again). A shop that still does
 * not exist is answered with a 404 rather than an empty page.
 */
export async function requireShop(domain: string): Promise<AdminShop> {
  const shop = (await findAdminShop({ domain })) ?? (await awaitInstall(domain));
  if (!shop) {
    throw new Response(`${domain} has not finished installing StockGuard`, { status: 404 });
  }
  return shop;
}

async function awaitInstall(domain: string): Promise<AdminShop | null> {
  const deadline = Date.now() + INSTALL_WAIT_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const shop = await findAdminShop({ domain });
    if (shop) return shop;
  }
  try {
    await installFromShopify(domain);
  } catch {
    // A concurrent install won the race (unique domain): read what it wrote.
  }
  return findAdminShop({ domain });
}

/** True when the shop is installed and has not uninstalled StockGuard since. */
export async function isShopActive(domain: string): Promise<boolean> {
  const shop = await findShopInstallation({ domain });
  return shop?.status === "active";
}
