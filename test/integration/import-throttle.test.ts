import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { resetEnvCache } from "../../app/env.server";
import { db } from "../../app/lib/sql.server";
import { loadConnection } from "../../app/repositories/push.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { shopifyAdapter, toContext } from "../../app/services/channels.server";
import { recordInstall } from "../../app/services/shops.server";
import { startLocalShopify, type LocalShopify } from "../sandbox/shopify/server";

/**
 * A catalog larger than the store's API budget imports completely: calls wait for the budget to
 * refill instead of failing half-way (seen with 10,000 SKUs: `shop:connect` exited with
 * "Shopify cost budget exhausted").
 */
const STORE = "big-catalog.myshopify.com";
const SKUS = 600;
let local: LocalShopify;

beforeAll(async () => {
  local = await startLocalShopify({
    timeScale: 0.001,
    seed: {
      shops: [
        {
          domain: STORE,
          accessToken: "token-big",
          // A small bucket: each catalog page is estimated at 760 points.
          throttle: { maximumAvailable: 1000, restoreRate: 1000 },
          products: Array.from({ length: SKUS }, (_, i) => ({
            title: `P${i}`,
            variants: [{ sku: `BIG-${i}`, inventory: { Warehouse: 3 } }],
          })),
        },
      ],
    },
  });
  process.env.SHOPIFY_ADMIN_API_ORIGIN = local.url;
  resetEnvCache();
});

afterAll(async () => {
  await local?.close();
});

describe("catalog import under a tight API budget", () => {
  it("waits for the budget and imports every SKU", async () => {
    const installed = await recordInstall({ domain: STORE });
    await prisma.session.create({
      data: { id: `offline_${STORE}`, shop: STORE, state: "", accessToken: "token-big" },
    });
    const source = toContext((await loadConnection(db(), installed.sourceConnectionId))!);
    const started = Date.now();
    const summary = await importCatalog(source, shopifyAdapter());
    expect(summary.variants).toBe(SKUS);
    expect(await prisma.stockItem.count({ where: { shopId: installed.shopId } })).toBe(SKUS);
    // It really had to wait: three pages of 760 points cannot fit in a 1,000-point bucket.
    expect(Date.now() - started).toBeGreaterThan(1_000);
  }, 120_000);
});
