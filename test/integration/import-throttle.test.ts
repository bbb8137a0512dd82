import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { adapterFor } from "../../app/channels/registry.server";
import { installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

/**
 * A catalog larger than the store's API budget imports completely: calls wait for the budget to
 * refill instead of failing half-way (seen with 10,000 SKUs: `shop:connect` exited with
 * "Shopify cost budget exhausted").
 */
const STORE = "big-catalog.myshopify.com";
const SKUS = 600;
let local: LocalShopify;

beforeAll(async () => {
  local = await startLocalStores([
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
  ]);
});

afterAll(async () => {
  await local?.close();
});

describe("catalog import under a tight API budget", () => {
  it("waits for the budget and imports every SKU", async () => {
    const { shopId, source } = await installSource(STORE, "token-big");
    const started = Date.now();
    const summary = await importCatalog(source, adapterFor("shopify"));
    expect(summary.variants).toBe(SKUS);
    expect(await prisma.stockItem.count({ where: { shopId } })).toBe(SKUS);
    // It really had to wait: three pages of 760 points cannot fit in a 1,000-point bucket.
    expect(Date.now() - started).toBeGreaterThan(1_000);
  }, 120_000);
});
