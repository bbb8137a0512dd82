import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { sqlPool } from "../../app/lib/sql.server";
import { upsertListings } from "../../app/repositories/catalog.server";
import { addSalesConnection, seedShop } from "../factories/shop";

/**
 * A catalog import links listings to items while sales are applied: the link's foreign key check
 * share-locks each item, the ledger locks items FOR UPDATE in id order. Two stores connected at
 * once deadlocked ("deadlock detected" from `channel:connect`) when the import took its item locks
 * in catalog order. Here a ledger-like transaction holds the lower item, the import waits on it,
 * then the transaction asks for the higher item: in id order the import holds nothing yet and
 * both finish; in catalog order (higher first) Postgres would abort one as a deadlock.
 */
describe("catalog import and ledger lock order", () => {
  it("links listings to items in id order, so a sale applied meanwhile cannot deadlock with it", async () => {
    const shop = await seedShop(prisma, {
      items: [
        { sku: "LOCK-A", onHand: 3 },
        { sku: "LOCK-B", onHand: 3 },
      ],
      sourceListings: false,
    });
    const { connectionId } = await addSalesConnection(prisma, shop, { listings: [] });
    const [low, high] = [...shop.itemIds.entries()].sort((a, b) => (a[1] < b[1] ? -1 : 1));
    const ledger = await sqlPool().connect();
    try {
      await ledger.query("BEGIN");
      await ledger.query("SET LOCAL lock_timeout = '10s'");
      await ledger.query("SELECT id FROM stock_item WHERE id = $1 FOR UPDATE", [low![1]]);
      // The catalog lists the higher item first.
      const rows = [high!, low!].map(([sku, itemId], i) => ({
        remoteRef: `gid://shopify/InventoryItem/lock-${i}`,
        remoteLocationRef: "gid://shopify/Location/1",
        remoteVariantRef: null,
        sku,
        title: sku,
        itemId,
        sourceLocationId: null,
      }));
      const importing = upsertListings(shop.shopId, connectionId, rows).then(
        (ids) => ({ ok: true as const, ids }),
        (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
      );
      // Until the import waits for the lower item's lock.
      for (let i = 0; ; i++) {
        const waiting = await prisma.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO listing_component%'`;
        if (Number(waiting[0]!.n) > 0) break;
        if (i > 200) throw new Error("the import never waited for the locked item");
        await new Promise((r) => setTimeout(r, 25));
      }
      const second = await ledger
        .query("SELECT id FROM stock_item WHERE id = $1 FOR UPDATE", [high![1]])
        .then(
          () => "locked",
          (error: Error) => error.message,
        );
      await ledger.query(second === "locked" ? "COMMIT" : "ROLLBACK");
      expect(second).toBe("locked");
      const imported = await importing;
      expect(imported).toMatchObject({ ok: true });
      const components = await prisma.listingComponent.findMany({
        where: { listing: { connectionId } },
      });
      expect(components.map((c) => c.itemId).sort()).toEqual([low![1], high![1]].sort());
    } finally {
      ledger.release();
    }
  });
});
