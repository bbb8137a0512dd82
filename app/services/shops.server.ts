/**
 * Install and uninstall of a shop: the use cases behind OAuth / token exchange, `shop:connect`
 * and the `app/uninstalled` webhook.
 */
import * as sessions from "../repositories/sessions.server";
import { latestImportRuns } from "../repositories/import-runs.server";
import * as shops from "../repositories/shops.server";
import { requestImport } from "./catalog/import-runs.server";

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

/**
 * An install from Shopify (token exchange or OAuth): the shop is recorded with sync off until the
 * merchant starts it, and its catalog import starts in the background (once: a repeated install
 * of an imported shop does not import again).
 */
export async function installFromShopify(domain: string): Promise<void> {
  const installed = await shops.upsertInstalledShop({ domain, startSync: false });
  const latest = await latestImportRuns(installed.shopId);
  const ran = latest.find((r) => r.connectionId === installed.sourceConnectionId);
  if (!ran || ran.status === "failed")
    await requestImport(installed.sourceConnectionId, installed.created ? "install" : "reinstall");
}
