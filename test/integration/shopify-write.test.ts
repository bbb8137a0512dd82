import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext, QuantityWrite } from "../../app/channels/channel-adapter";
import prisma from "../../app/db.server";
import { resetEnvCache } from "../../app/env.server";
import { db } from "../../app/lib/sql.server";
import { loadConnection } from "../../app/repositories/push.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { sealCredentials, shopifyAdapter, toContext } from "../../app/services/channels.server";
import { recordInstall } from "../../app/services/shops.server";
import { startLocalShopify, type LocalShopify } from "../sandbox/shopify/server";

/**
 * Compare-and-set writes to another store: Shopify applies a batch all or nothing, so a store that
 * keeps selling one SKU must not hold back the rest of the batch (measured before this was fixed:
 * under load, whole batches of 250 went stale round after round for seconds).
 */
const SOURCE = "cas-source.myshopify.com";
const OTHER = "cas-other.myshopify.com";
const SKUS = ["A", "B", "C"];
let local: LocalShopify;
let other: ConnectionContext;

const available = (sku: string) => {
  const shop = local.sandbox.shop(OTHER);
  const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
  return [...shop.items.get(variant.inventoryItemId)!.levels.values()][0]!.quantities.available;
};

beforeAll(async () => {
  local = await startLocalShopify({
    timeScale: 0.001,
    seed: {
      shops: [SOURCE, OTHER].map((domain, i) => ({
        domain,
        accessToken: `token-${i}`,
        products: SKUS.map((sku) => ({
          title: sku,
          variants: [{ sku, inventory: { Warehouse: 10 } }],
        })),
      })),
    },
  });
  process.env.SHOPIFY_ADMIN_API_ORIGIN = local.url;
  resetEnvCache();
  const installed = await recordInstall({ domain: SOURCE });
  await prisma.session.create({
    data: { id: `offline_${SOURCE}`, shop: SOURCE, state: "", accessToken: "token-0" },
  });
  const sales = await prisma.connection.create({
    data: {
      shopId: installed.shopId,
      kind: "shopify",
      role: "sales",
      name: "Other",
      accountRef: OTHER,
      credentials: sealCredentials({ accessToken: "token-1" }),
    },
  });
  const source = toContext((await loadConnection(db(), installed.sourceConnectionId))!);
  other = toContext((await loadConnection(db(), sales.id))!);
  await importCatalog(source, shopifyAdapter());
  await importCatalog(other, shopifyAdapter());
});

afterAll(async () => {
  await local?.close();
});

describe("writeQuantities (inventorySetQuantities with changeFromQuantity)", () => {
  it("applies the rest of a batch when one entry is stale, and reports only that one", async () => {
    const listings = await prisma.listing.findMany({
      where: { connectionId: other.id },
      orderBy: { sku: "asc" },
    });
    expect(listings.map((l) => l.sku)).toEqual(SKUS);
    // The store sells one B that we have not heard of yet.
    local.sandbox.checkout(OTHER, { lines: [{ sku: "B", quantity: 1 }] });
    expect(available("B")).toBe(9);

    const writes: QuantityWrite[] = listings.map((l) => ({
      listingId: l.id,
      remoteRef: l.remoteRef,
      remoteLocationRef: l.remoteLocationRef,
      quantity: 7,
      expected: 10,
    }));
    const results = await shopifyAdapter().writeQuantities(other, writes, "v1");
    const bySku = new Map(
      results.map((r) => [listings.find((l) => l.id === r.listingId)!.sku, r.state]),
    );
    expect(Object.fromEntries(bySku)).toEqual({ A: "applied", B: "stale", C: "applied" });
    expect([available("A"), available("B"), available("C")]).toEqual([7, 9, 7]);
  });

  it("applies nothing and reports each entry when all of them are stale", async () => {
    const listings = await prisma.listing.findMany({
      where: { connectionId: other.id },
      orderBy: { sku: "asc" },
    });
    // A and C show 7 now; expecting 8 is stale for both, and nothing is applied.
    const writes: QuantityWrite[] = listings
      .filter((l) => l.sku !== "B")
      .map((l) => ({
        listingId: l.id,
        remoteRef: l.remoteRef,
        remoteLocationRef: l.remoteLocationRef,
        quantity: 5,
        expected: 8,
      }));
    const results = await shopifyAdapter().writeQuantities(other, writes, "v2");
    expect(results.map((r) => r.state)).toEqual(["stale", "stale"]);
    expect([available("A"), available("C")]).toEqual([7, 7]);
  });
});
