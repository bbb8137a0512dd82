import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import type { LineCommand } from "../../app/domain/ledger";
import { resetEnvCache } from "../../app/env.server";
import { seal } from "../../app/lib/credentials.server";
import {
  loadConnection,
  toContext,
  upsertSalesConnection,
} from "../../app/repositories/connections.server";
import { storeOfflineToken } from "../../app/repositories/sessions.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { pushSourceConnection } from "../../app/services/push/push-source.server";
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

/**
 * A source store holding `stock` of each SKU and two sales stores holding none, each a product
 * per SKU; the shop installed, both stores connected, every catalog imported and the source's
 * states pushed (what a merchant's set-up leaves).
 */
export async function startSourceAndTwoStores(
  domains: [source: string, a: string, b: string],
  products: { title: string; sku: string }[],
  stock = 50,
): Promise<{
  local: LocalShopify;
  shopId: string;
  source: ConnectionContext;
  a: ConnectionContext;
  b: ConnectionContext;
}> {
  const local = await startLocalStores(
    domains.map((domain, i) => ({
      domain,
      products: products.map(({ title, sku }) => ({
        title,
        variants: [{ sku, inventory: { Warehouse: i === 0 ? stock : 0 } }],
      })),
    })),
  );
  const { shopId, source } = await installSource(domains[0], "token-0");
  const a = await connectSalesStore(shopId, domains[1], "token-1");
  const b = await connectSalesStore(shopId, domains[2], "token-2");
  for (const conn of [source, a, b]) await importCatalog(conn, adapterFor("shopify"));
  await pushSourceConnection(source, adapterFor("shopify"), {});
  return { local, shopId, source, a, b };
}

/** What `store` shows available for `sku` at its only location. */
export function availableAt(local: LocalShopify, store: string, sku: string): number {
  const shop = local.sandbox.shop(store);
  const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
  return [...shop.items.get(variant.inventoryItemId)!.levels.values()][0]!.quantities.available;
}

/**
 * A command on an order's only line at `conn`, applied as its webhook would apply it (the local
 * stores' own webhooks go nowhere in these tests).
 */
export async function applyOrderLine(
  shopId: string,
  conn: ConnectionContext,
  line: { orderId: string; sku: string; command: LineCommand },
): Promise<void> {
  const listing = await prisma.listing.findFirstOrThrow({
    where: { connectionId: conn.id, sku: line.sku },
  });
  await applyLedgerEvent({
    shopId,
    actor: "test:order",
    operations: [
      {
        type: "line",
        key: `${conn.id}/order/${line.orderId}/line/1/${line.command.kind}`,
        connectionId: conn.id,
        orderId: line.orderId,
        lineId: "1",
        sku: line.sku,
        remoteRef: listing.remoteVariantRef,
        command: line.command,
      },
    ],
  });
}
