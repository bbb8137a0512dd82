import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext, QuantityWrite } from "../../app/channels/channel-adapter";
import prisma from "../../app/db.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { adapterFor } from "../../app/channels/registry.server";
import { connectSalesStore, installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

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
  local = await startLocalStores(
    [SOURCE, OTHER].map((domain) => ({
      domain,
      products: SKUS.map((sku) => ({
        title: sku,
        variants: [{ sku, inventory: { Warehouse: 10 } }],
      })),
    })),
  );
  const { shopId, source } = await installSource(SOURCE, "token-0");
  other = await connectSalesStore(shopId, OTHER, "token-1");
  await importCatalog(source, adapterFor("shopify"));
  await importCatalog(other, adapterFor("shopify"));
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
    const results = await adapterFor("shopify").writeQuantities(other, writes, "v1");
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
    const results = await adapterFor("shopify").writeQuantities(other, writes, "v2");
    expect(results.map((r) => r.state)).toEqual(["stale", "stale"]);
    expect([available("A"), available("C")]).toEqual([7, 7]);
  });
});
