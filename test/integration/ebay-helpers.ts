/**
 * Shared set-up of the eBay integration tests (not a test file): the eBay application's
 * configuration, an HTTP server standing in for StockGuard's web process (it hands
 * `/webhooks/<kind>/<id>` to the real route handler, so the local eBay's endpoint challenge and
 * signed pushes go through the product's own path), and connecting a seller through the
 * product's own authorisation flow (consent redirect → callback → code exchange).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { resetEbayConfig } from "../../app/channels/ebay/config.server";
import { resetEnvCache } from "../../app/env.server";
import {
  callbackUrl,
  completeAuthorization,
  startAuthorization,
  type ConnectedMarketplace,
} from "../../app/services/connect-marketplace.server";
import { handleMarketplaceDelivery } from "../../app/webhooks/marketplace-inbound.server";
import type { EbaySeed, ItemSeed, TradingListingSeed } from "../sandbox/ebay/model";

export const EBAY_APP = {
  clientId: "StockGua-StockGua-PRD-0e1d2c3b4-a5f6e7d8",
  clientSecret: "PRD-0e1d2c3b4a5f-6e7d-8c9b-0a1f-2e3d",
  ruName: "StockGuard_Inc-StockGua-StockG-testrunam",
  verificationToken: "stockguard-test-verification-token-0123456789",
  alertEmail: "ops@stockguard.test",
};

/** The `EBAY_*` variables of the application above (process.env, or a world's processes). */
export function ebayAppEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    EBAY_CLIENT_ID: EBAY_APP.clientId,
    EBAY_CLIENT_SECRET: EBAY_APP.clientSecret,
    EBAY_RU_NAME: EBAY_APP.ruName,
    EBAY_VERIFICATION_TOKEN: EBAY_APP.verificationToken,
    EBAY_ALERT_EMAIL: EBAY_APP.alertEmail,
    ...extra,
  };
}

export function useEbayEnv(extra: Record<string, string> = {}): void {
  Object.assign(process.env, ebayAppEnv(extra));
  resetEbayConfig();
}

/** The local eBay's seed: the application (its RuName accepts at `appUrl`) and the sellers. */
export function ebaySeed(
  appUrl: string,
  sellers: {
    username: string;
    userId: string;
    inventory: ItemSeed[];
    tradingListings?: TradingListingSeed[];
  }[],
): EbaySeed {
  return {
    apps: [
      {
        clientId: EBAY_APP.clientId,
        clientSecret: EBAY_APP.clientSecret,
        ruName: EBAY_APP.ruName,
        acceptUrl: `${appUrl}/connect/ebay/callback`,
      },
    ],
    sellers,
    consent: { autoApprove: true, seller: sellers[0]!.username },
  };
}

/** StockGuard's web edge for marketplace deliveries, in this process; sets SHOPIFY_APP_URL. */
export async function startWebEdge(): Promise<{
  url: string;
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}> {
  const requests: { method: string; path: string; status: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
      const match = /^\/webhooks\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (!match) {
        res.writeHead(404).end();
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === "string") headers.set(name, value);
      const method = req.method ?? "GET";
      const request = new Request(url, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks),
      });
      handleMarketplaceDelivery(request, { kind: match[1], connectionId: match[2] })
        .then(async (response) => {
          requests.push({ method, path: url.pathname, status: response.status });
          const body = Buffer.from(await response.arrayBuffer());
          res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
          res.end(body);
        })
        .catch(() => {
          res.writeHead(500).end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.SHOPIFY_APP_URL = url;
  resetEnvCache();
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Connects the local eBay's consenting seller to the shop the way `channel:connect
 * --follow-consent` does: start the authorisation, follow the consent page's redirects up to
 * StockGuard's callback, complete it.
 */
export async function connectEbay(
  shopDomain: string,
  ebayUrl: string,
): Promise<ConnectedMarketplace> {
  const { consentUrl } = await startAuthorization({
    shopDomain,
    kind: "ebay",
    apiBaseUrl: ebayUrl,
  });
  const callback = callbackUrl("ebay");
  let url = consentUrl;
  for (let hop = 0; hop < 10 && !url.startsWith(callback); hop++) {
    const response = await fetch(url, { redirect: "manual" });
    const location = response.headers.get("location");
    if (!location) throw new Error(`consent answered ${response.status} without a redirect`);
    url = new URL(location, url).toString();
  }
  return completeAuthorization({ kind: "ebay", params: new URL(url).searchParams });
}
