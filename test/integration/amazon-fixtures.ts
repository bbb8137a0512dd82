/**
 * Shared set-up of the Amazon integration tests (not a test file): a local Shopify source store
 * and the local Amazon (LWA, SP-API, SQS in one origin), the channel's `AMAZON_*` configuration
 * pointed at it, and an Amazon connection made the product's own way — a consent redirect
 * started by `startAuthorization`, followed on the local consent page, completed by
 * `completeAuthorization` (code exchange, subscriptions, catalog import).
 */
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { resetAmazonConfig } from "../../app/channels/amazon/config.server";
import { adapterFor } from "../../app/channels/registry.server";
import { loadConnection, toContext } from "../../app/repositories/connections.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import {
  completeAuthorization,
  startAuthorization,
} from "../../app/services/connect-marketplace.server";
import { installSource, startLocalStores } from "../helpers/local-stores";
import { AMAZON_SENDER_ID } from "../sandbox/amazon/notifications";
import { DEFAULT_APP, DEFAULT_AWS, type AmazonSeed } from "../sandbox/amazon/sandbox";
import { startLocalAmazon, type LocalAmazon, type StartOptions } from "../sandbox/amazon/server";
import type { LocalShopify } from "../sandbox/shopify/server";

export const SELLER = "A1STOCKGUARD01";
export const MARKETPLACE = "ATVPDKIKX0DER";
export const ORDERS_QUEUE = "sp-api-notifications";
export const EVENTS_QUEUE = "sp-api-eventbridge";
/** `SHOPIFY_APP_URL` of the integration tests (test/setup/env.ts) + the callback route. */
export const CALLBACK = "https://stockguard.test/connect/amazon/callback";

/** Source stock per SKU; Amazon lists some of them, one FBA-only and one the shop lacks. */
export const SOURCE_STOCK: Record<string, number> = { "MUG-BLUE": 8, "MUG-RED": 4, "CAP-MIX": 6 };

export function amazonSeed(overrides: Partial<AmazonSeed> = {}): AmazonSeed {
  return {
    app: { redirectUris: [CALLBACK], draft: true },
    queues: [
      { name: ORDERS_QUEUE, allowAmazon: true },
      { name: EVENTS_QUEUE, allowAmazon: true },
    ],
    eventBridgeTarget: EVENTS_QUEUE,
    consent: { mode: "auto", sellerId: SELLER },
    sellers: [
      {
        sellerId: SELLER,
        name: "StockGuard test seller",
        listings: [
          { sku: "MUG-BLUE", productType: "DRINKING_CUP", quantity: 10, leadTimeToShipMaxDays: 3 },
          { sku: "MUG-RED", productType: "DRINKING_CUP", quantity: 3 },
          { sku: "CAP-MIX", productType: "HAT", quantity: 5, fbaQuantity: 7 },
          { sku: "TEE-FBA", productType: "SHIRT", fbaQuantity: 20 },
          { sku: "AMZ-ONLY", productType: "PRODUCT", quantity: 2 },
        ],
      },
    ],
    ...overrides,
  };
}

/** The channel's configuration for a local Amazon (what an operator sets in production). */
export function amazonEnv(local: LocalAmazon): Record<string, string> {
  const credentials = DEFAULT_AWS.credentials[0]!;
  return {
    AMAZON_LWA_CLIENT_ID: DEFAULT_APP.clientId,
    AMAZON_LWA_CLIENT_SECRET: DEFAULT_APP.clientSecret,
    AMAZON_LWA_SECRET_ROTATED_AT: new Date().toISOString(),
    AMAZON_APPLICATION_ID: DEFAULT_APP.applicationId,
    AMAZON_APPLICATION_DRAFT: "1",
    AMAZON_SQS_QUEUE_URL: local.sandbox.queueUrl(DEFAULT_AWS.accountId, ORDERS_QUEUE),
    AMAZON_SQS_EVENTBRIDGE_QUEUE_URL: local.sandbox.queueUrl(DEFAULT_AWS.accountId, EVENTS_QUEUE),
    AMAZON_SQS_REGION: DEFAULT_AWS.region,
    AMAZON_SQS_ENDPOINT: local.url,
    AMAZON_SQS_WAIT_SECONDS: "1",
    AMAZON_AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AMAZON_AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AMAZON_SQS_ALLOWED_SENDER_IDS: AMAZON_SENDER_ID,
    AMAZON_EVENTBRIDGE_ACCOUNT_ID: DEFAULT_AWS.accountId,
    AMAZON_EVENTBRIDGE_REGION: DEFAULT_AWS.region,
  };
}

export function useAmazonEnv(local: LocalAmazon): void {
  Object.assign(process.env, amazonEnv(local));
  resetAmazonConfig();
}

export type AmazonTestWorld = {
  shopify: LocalShopify;
  amazon: LocalAmazon;
  shopId: string;
  shopDomain: string;
  source: ConnectionContext;
  close(): Promise<void>;
};

/** A source store with `SOURCE_STOCK`, imported, and a local Amazon configured (not connected). */
export async function startAmazonTestWorld(
  shopDomain: string,
  options: StartOptions = {},
): Promise<AmazonTestWorld> {
  const shopify = await startLocalStores([
    {
      domain: shopDomain,
      products: Object.entries(SOURCE_STOCK).map(([sku, units]) => ({
        title: sku,
        variants: [{ sku, inventory: { Warehouse: units } }],
      })),
    },
  ]);
  const { shopId, source } = await installSource(shopDomain, "token-0");
  await importCatalog(source, adapterFor("shopify"));
  const amazon = await startLocalAmazon({
    timeScale: 0.001,
    rngSeed: 11,
    seed: amazonSeed(),
    behaviour: { pendingOrderMs: null },
    ...options,
  });
  useAmazonEnv(amazon);
  return {
    shopify,
    amazon,
    shopId,
    shopDomain,
    source,
    close: async () => {
      await amazon.close();
      await shopify.close();
    },
  };
}

/** Follows a consent page's redirects to the callback and returns its query. */
export async function followConsent(consentUrl: string): Promise<URLSearchParams> {
  let url = consentUrl;
  for (let hop = 0; hop < 5; hop++) {
    if (url.startsWith(CALLBACK)) return new URL(url).searchParams;
    const response = await fetch(url, { redirect: "manual" });
    const location = response.headers.get("location");
    if (!location) throw new Error(`consent answered ${response.status} without a redirect`);
    url = new URL(location, url).toString();
  }
  throw new Error("too many redirects");
}

/** Connects the seller through the consent redirect; returns the connection's context. */
export async function connectAmazon(
  world: AmazonTestWorld,
  settings: Record<string, unknown> = { marketplaceId: MARKETPLACE },
): Promise<ConnectionContext & { consentUrl: string }> {
  const { consentUrl } = await startAuthorization({
    shopDomain: world.shopDomain,
    kind: "amazon",
    apiBaseUrl: world.amazon.url,
    settings,
  });
  const params = await followConsent(consentUrl);
  const connected = await completeAuthorization({ kind: "amazon", params });
  return { ...toContext((await loadConnection(connected.connectionId))!), consentUrl };
}
