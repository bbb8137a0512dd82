import { readFileSync } from "node:fs";
import path from "node:path";
import { startLocalShopify, type LocalShopify } from "../sandbox/shopify/server";
import type { ShopSeed } from "../sandbox/shopify/state";
import { freePort } from "../e2e/world";
import { API_KEY, API_SECRET, ROOT, startAdmin, type AdminHarness } from "./harness";

/**
 * The merchant's world for the browser: a local Shopify that knows StockGuard as an app (its
 * client id and secret, its `shopify.app.toml` webhooks, delivered only to stores that install
 * it), three stores, and the real web and worker processes on an empty database (the harness).
 * Nothing is set up behind the app's back: no session, no catalog, no webhook subscription —
 * stores install the app (the merchant's click, a control call), the admin opens with a session
 * token the app exchanges, and every subscription of a token-connected store is one the app
 * created through the Admin API.
 */
export const SOURCE = "source-store.myshopify.com";
/** Installs StockGuard and is linked to the source with a one-time code. */
export const LINKED = "store-b.myshopify.com";
/** Never installs StockGuard: connected with its custom app's Admin API token. */
export const TOKEN_STORE = "store-c.myshopify.com";
export const TOKEN_STORE_TOKEN = "shpat_store_c_custom_app";
export const TOKEN_STORE_SECRET = "shpss_store_c_custom_app";
/** A second custom app of that store, without the scopes StockGuard needs. */
export const READ_ONLY_TOKEN = "shpat_store_c_read_only";
/** Sold only on the token store: its order lines match nothing (the merchant maps them). */
export const TOKEN_STORE_ONLY_SKU = "C-GIFT-CARD";

export const skuOf = (i: number) => `SKU-${String(i).padStart(5, "0")}`;

export type MerchantWorld = {
  admin: AdminHarness;
  shopify: LocalShopify;
  skus: string[];
  close(): Promise<void>;
};

function store(
  domain: string,
  skus: string[],
  stock: number,
  extra: Partial<ShopSeed> = {},
): ShopSeed {
  return {
    domain,
    name: domain.split(".")[0],
    locations: [{ name: "Warehouse", isActive: true, fulfillsOnlineOrders: true }],
    products: skus.map((sku, i) => ({
      title: `Product ${i}`,
      variants: [
        {
          sku,
          title: "Default",
          inventoryPolicy: "DENY" as const,
          inventory: { Warehouse: stock },
        },
      ],
    })),
    // A Plus-sized bucket: the imports of three catalogs stay quick.
    throttle: { maximumAvailable: 20_000, restoreRate: 2_000, currentlyAvailable: 20_000 },
    ...extra,
  };
}

export async function startMerchantWorld(options: {
  skus: number;
  stock: number;
  env?: Record<string, string>;
}): Promise<MerchantWorld> {
  const skus = Array.from({ length: options.skus }, (_, i) => skuOf(i));
  const shopify = await startLocalShopify({
    timeScale: 0.001,
    rngSeed: 12,
    seed: {
      shops: [
        store(SOURCE, skus, options.stock),
        store(LINKED, skus, 0),
        {
          ...store(TOKEN_STORE, skus, 0, {
            accessToken: TOKEN_STORE_TOKEN,
            apiSecret: TOKEN_STORE_SECRET,
            customApps: [
              {
                accessToken: READ_ONLY_TOKEN,
                apiSecret: "shpss_read_only",
                accessScopes: ["read_orders"],
                title: "Order export",
              },
            ],
          }),
        },
      ],
    },
  });
  try {
    shopify.sandbox.createProduct(TOKEN_STORE, {
      title: "Gift card",
      variants: [
        {
          sku: TOKEN_STORE_ONLY_SKU,
          title: "Default",
          inventoryPolicy: "DENY",
          inventory: { Warehouse: 50 },
        },
      ],
    });
    const port = await freePort();
    // The app as the Partner Dashboard knows it: StockGuard's URL and its toml webhooks.
    shopify.sandbox.configureApp({
      clientId: API_KEY,
      clientSecret: API_SECRET,
      title: "StockGuard",
      toml: readFileSync(path.join(ROOT, "shopify.app.toml"), "utf8"),
      baseUrl: `http://127.0.0.1:${port}`,
    });
    const admin = await startAdmin({
      shops: [],
      port,
      worker: true,
      env: {
        SHOPIFY_ADMIN_API_ORIGIN: shopify.url,
        PUSH_SETTLE_MS: "2000",
        ...options.env,
      },
    });
    return {
      admin,
      shopify,
      skus,
      close: async () => {
        await admin.close();
        await shopify.close();
      },
    };
  } catch (error) {
    await shopify.close();
    throw error;
  }
}

/** The level of `sku` at a store's first location (every quantity state). */
export function levelOf(shopify: LocalShopify, domain: string, sku: string) {
  const shop = shopify.sandbox.shop(domain);
  const variant = [...shop.variants.values()].find((v) => v.sku === sku);
  if (!variant) throw new Error(`${domain} has no variant ${sku}`);
  const level = shop.items.get(variant.inventoryItemId)?.levels.values().next().value;
  if (!level) throw new Error(`${domain}: ${sku} is not stocked`);
  return level.quantities;
}

/** What a store's storefront offers for `sku`. */
export function shown(shopify: LocalShopify, domain: string, sku: string): number {
  return levelOf(shopify, domain, sku).available;
}
