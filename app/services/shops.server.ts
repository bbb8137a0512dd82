/**
 * Install and uninstall of a shop: the use cases behind OAuth / token exchange, `shop:connect`
 * and the `app/uninstalled` webhook.
 */
import * as sessions from "../repositories/sessions.server";
import * as shops from "../repositories/shops.server";

/** Install (OAuth, token exchange or `shop:connect`): the shop is active and syncing. */
export const recordInstall = shops.upsertInstalledShop;

/** `app/uninstalled`: idempotent; sessions go, sync stops, the ledger stays until shop/redact. */
export const recordUninstall = shops.markUninstalled;

/** `app/scopes_update`: the offline session's scope follows what the merchant granted. */
export async function updateSessionScopes(sessionId: string, scopes: string[]): Promise<void> {
  await sessions.updateScopes(sessionId, scopes);
}

/** A shop by its myshopify.com domain (null when never installed). */
export const findShop = shops.shopByDomain;

/** A shop by id (null when erased). */
export const findShopById = shops.shopById;
