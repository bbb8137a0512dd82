import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { resetEnvCache } from "../../app/env.server";
import { seal } from "../../app/lib/credentials.server";
import {
  loadConnection,
  toContext,
  upsertSalesConnection,
} from "../../app/repositories/connections.server";
import { storeOfflineToken } from "../../app/repositories/sessions.server";
import { recordInstall } from "../../app/services/shops.server";
import type { ShopSeed } from "../sandbox/shopify/state";
import { startLocalShopify, type LocalShopify } from "../sandbox/shopify/server";

/**
 * Integration tests against the local Shopify, service by service (no processes): start it with
 * the given stores (store i answers to token `token-i` unless its seed says otherwise) and send
 * this process's Admin API requests to it.
 */
export async function startLocalStores(stores: ShopSeed[]): Promise<LocalShopify> {
  const local = await startLocalShopify({
    timeScale: 0.001,
    seed: {
      shops: stores.map((store, i) => ({
        ...store,
        accessToken: store.accessToken ?? `token-${i}`,
      })),
    },
  });
  process.env.SHOPIFY_ADMIN_API_ORIGIN = local.url;
  resetEnvCache();
  return local;
}

/** Installs a store as a shop's source (offline session with its token); returns its context. */
export async function installSource(
  domain: string,
  accessToken: string,
): Promise<{ shopId: string; source: ConnectionContext }> {
  const installed = await recordInstall({ domain, startSync: true });
  await storeOfflineToken({ shop: domain, accessToken, scopes: [] });
  const source = toContext((await loadConnection(installed.sourceConnectionId))!);
  return { shopId: installed.shopId, source };
}

/** Connects another store as a sales channel of the shop; returns its context. */
export async function connectSalesStore(
  shopId: string,
  domain: string,
  accessToken: string,
): Promise<ConnectionContext> {
  const sales = await upsertSalesConnection({
    shopId,
    kind: "shopify",
    accountRef: domain,
    name: "Other",
    credentials: seal({ accessToken }),
  });
  return toContext((await loadConnection(sales.id))!);
}
