import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { sqlPool } from "../../app/lib/sql.server";
import { upsertItems, upsertListings } from "../../app/repositories/catalog.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";
import { untilSomeoneWaitsForALock } from "../helpers/lock-waits";

/**
 * A catalog import writes items and links listings to them while sales are applied, and the
 * ledger locks items FOR UPDATE in id order. An import statement that locks items in catalog
 * order deadlocks with it: two stores connected at once failed `channel:connect` with "deadlock
 * detected". Here a ledger-like transaction holds the lower item while the import runs on the
 * higher one first, then asks for the higher item: in id order (or without locking unchanged
 * items) both finish; in catalog order Postgres aborts one as a deadlock.
 */
async function twoItems(): Promise<{
  shop: SeededShop;
  low: [string, string];
  high: [string, string];
}> {
  const shop = await seedShop(prisma, {
    items: [
      { sku: "LOCK-A", onHand: 3 },
      { sku: "LOCK-B", onHand: 3 },
    ],
    sourceListings: false,
  });
  const [low, high] = [...shop.itemIds.entries()].sort((a, b) => (a[1] < b[1] ? -1 : 1));
  return { shop, low: low!, high: high! };
}

/**
 * Runs `importing` while a transaction holds the lower item, waits until the import either
 * finished or waits for a lock, then takes the higher item: returns what each side got.
 */
async function raceWithLedger(
  low: string,
  high: string,
  importing: () => Promise<unknown>,
): Promise<{ ledger: string; import: string }> {
  const ledger = await sqlPool().connect();
  try {
    await ledger.query("BEGIN");
    await ledger.query("SET LOCAL lock_timeout = '10s'");
    await ledger.query("SELECT id FROM stock_item WHERE id = $1 FOR UPDATE", [low]);
    let settled = false;
    const result = importing().then(
      () => "done",
      (error: unknown) => (error as Error).message,
    );
    void result.finally(() => (settled = true));
    await untilSomeoneWaitsForALock(prisma, "the import", () => settled);
    const second = await ledger
      .query("SELECT id FROM stock_item WHERE id = $1 FOR UPDATE", [high])
      .then(
        () => "locked",
        (error: Error) => error.message,
      );
    await ledger.query(second === "locked" ? "COMMIT" : "ROLLBACK");
    return { ledger: second, import: await result };
  } finally {
    ledger.release();
  }
}

describe("catalog import and ledger lock order", () => {
  it("links listings to items in id order, so a sale applied meanwhile cannot deadlock with it", async () => {
    const { shop, low, high } = await twoItems();
    const { connectionId } = await addSalesConnection(prisma, shop, { listings: [] });
    // The catalog lists the higher item first.
    const rows = [high, low].map(([sku, itemId], i) => ({
      remoteRef: `gid://shopify/InventoryItem/lock-${i}`,
      remoteLocationRef: "gid://shopify/Location/1",
      remoteVariantRef: null,
      sku,
      title: sku,
      itemId,
      sourceLocationId: null,
    }));
    const outcome = await raceWithLedger(low[1], high[1], () =>
      upsertListings(shop.shopId, connectionId, rows),
    );
    expect(outcome).toEqual({ ledger: "locked", import: "done" });
    const components = await prisma.listingComponent.findMany({
      where: { listing: { connectionId } },
    });
    expect(components.map((c) => c.itemId).sort()).toEqual([low[1], high[1]].sort());
  });

  it("writes the source's items without locking unchanged ones, and changed ones in id order", async () => {
    const { shop, low, high } = await twoItems();
    for (const [sku, id] of [low, high])
      await prisma.stockItem.update({ where: { id }, data: { title: sku } });
    // A re-import with nothing changed, then one that renames both items; the higher first.
    for (const rename of [false, true]) {
      const items = [high, low].map(([sku]) => ({ sku, title: rename ? `${sku} v2` : sku }));
      const outcome = await raceWithLedger(low[1], high[1], () => upsertItems(shop.shopId, items));
      expect(outcome).toEqual({ ledger: "locked", import: "done" });
    }
    const after = await prisma.stockItem.findMany({
      where: { shopId: shop.shopId },
      orderBy: { sku: "asc" },
    });
    expect(after.map((i) => i.title)).toEqual(["LOCK-A v2", "LOCK-B v2"]);
    // A new SKU is created; the map names every SKU asked for.
    const ids = await upsertItems(shop.shopId, [
      { sku: low[0], title: `${low[0]} v2` },
      { sku: "LOCK-NEW", title: "New" },
    ]);
    expect(ids.get(low[0])).toBe(low[1]);
    expect(ids.get("LOCK-NEW")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
