/**
 * Integration set-up shared by the Walmart tests, service by service (no processes): the local
 * Shopify with a source store, the local Walmart Marketplace, and StockGuard's marketplace webhook
 * route served in this process on a real port (the local Walmart delivers there), with
 * SHOPIFY_APP_URL pointing at it so subscriptions name it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { resetEnvCache } from "../../app/env.server";
import { loadConnection, toContext } from "../../app/repositories/connections.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { connectWithKeys } from "../../app/services/connect-marketplace.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { handleMarketplaceDelivery } from "../../app/webhooks/marketplace-inbound.server";
import { installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";
import { startLocalWalmart, type LocalWalmart } from "../sandbox/walmart/server";
import type { ItemSeed } from "../sandbox/walmart/state";

export const PARTNER = "10001234567";
export const KEYS = { clientId: "wm-client-7f3a", clientSecret: "wm-secret-0b9e" };

export type WalmartFixture = {
  shopify: LocalShopify;
  walmart: LocalWalmart;
  shopId: string;
  domain: string;
  source: ConnectionContext;
  inboundUrl: string;
  /** Requests the inbound server answered: method, path, status. */
  inbound: { path: string; status: number }[];
  connect(): Promise<ConnectionContext>;
  close(): Promise<void>;
};

export async function startWalmartFixture(options: {
  domain: string;
  /** SKU → units at the source store. */
  source: Record<string, number>;
  walmartItems: ItemSeed[];
}): Promise<WalmartFixture> {
  const shopify = await startLocalStores([
    {
      domain: options.domain,
      products: Object.entries(options.source).map(([sku, units]) => ({
        title: `Product ${sku}`,
        variants: [{ sku, inventory: { Warehouse: units } }],
      })),
    },
  ]);
  const walmart = await startLocalWalmart({
    timeScale: 0.0005,
    rngSeed: 3,
    seed: {
      sellers: [{ partnerId: PARTNER, name: "Test Seller", ...KEYS, items: options.walmartItems }],
    },
  });
  const inbound: { path: string; status: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = `http://${req.headers.host}${req.url}`;
      const [, , kind, connectionId] = new URL(url).pathname.split("/");
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === "string") headers.set(name, value);
      const request = new Request(url, {
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks),
      });
      handleMarketplaceDelivery(request, { kind, connectionId })
        .then(async (response) => {
          inbound.push({ path: new URL(url).pathname, status: response.status });
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(Buffer.from(await response.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const inboundUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.SHOPIFY_APP_URL = inboundUrl;
  resetEnvCache();

  const { shopId, source } = await installSource(options.domain, "token-0");
  await importCatalog(source, adapterFor("shopify"));
  return {
    shopify,
    walmart,
    shopId,
    domain: options.domain,
    source,
    inboundUrl,
    inbound,
    async connect() {
      const connected = await connectWithKeys({
        shopDomain: options.domain,
        kind: "walmart",
        keys: KEYS,
        apiBaseUrl: walmart.url,
      });
      return toContext((await loadConnection(connected.connectionId))!);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await walmart.close();
      await shopify.close();
    },
  };
}

/** Applies every pending receipt of the connection (what the ingest workers would do). */
export async function ingestPending(connectionId: string): Promise<number> {
  let applied = 0;
  for (;;) {
    const pending = await prisma.receipt.findMany({
      where: { connectionId, status: "pending" },
      orderBy: { id: "asc" },
    });
    if (pending.length === 0) return applied;
    for (const r of pending) {
      await ingestReceipt(r.id);
      applied++;
    }
  }
}

/** The ledger's committed units of a SKU (every location). */
export async function committedOf(shopId: string, sku: string): Promise<number> {
  const levels = await prisma.stockLevel.findMany({ where: { shopId, item: { sku } } });
  return levels.reduce((s, l) => s + l.committed, 0);
}
