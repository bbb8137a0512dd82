import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { warmOrderPath } from "../../app/services/warm-up.server";
import { seedShop } from "../factories/shop";

/** Rows every table the ledger's order path writes holds (the warm-up must leave them all). */
async function everything() {
  const [counts] = await prisma.$queryRawUnsafe<Record<string, bigint>[]>(`
    SELECT (SELECT count(*) FROM shop) AS shops, (SELECT count(*) FROM connection) AS connections,
           (SELECT count(*) FROM stock_item) AS items, (SELECT count(*) FROM stock_level) AS levels,
           (SELECT count(*) FROM listing) AS listings, (SELECT count(*) FROM movement) AS movements,
           (SELECT count(*) FROM order_line) AS order_lines,
           (SELECT count(*) FROM unmatched_line) AS unmatched,
           (SELECT count(*) FROM oversell_incident) AS incidents,
           (SELECT count(*) FROM source_adjustment) AS outbox,
           (SELECT coalesce(sum(published_version), 0) FROM listing) AS published`);
  return Object.fromEntries(Object.entries(counts!).map(([k, v]) => [k, Number(v)]));
}

describe("the web's warm-up of its order path (decision 0022)", () => {
  it("applies every synthetic order as a sale, in transactions that leave nothing behind", async () => {
    await seedShop(prisma, { items: [{ sku: "REAL-1", onHand: 5 }] });
    const before = await everything();
    const result = await warmOrderPath({ orders: 24, parallel: 3, budgetMs: 60_000 });
    // Each order was committed and published to the other stores inside its transaction
    // (warmOrderPath stops at the first one that is not), then all of it rolled back.
    expect(result.stopped).toBeUndefined();
    expect(result).toMatchObject({ orders: 24 });
    expect(await everything()).toEqual(before);
    expect(await prisma.shop.count({ where: { domain: { endsWith: ".invalid" } } })).toBe(0);
  });

  it("stops at its time budget", async () => {
    const result = await warmOrderPath({ orders: 100_000, parallel: 2, budgetMs: 300 });
    expect(result.orders).toBeGreaterThan(0);
    expect(result.orders).toBeLessThan(100_000);
    expect(result.stopped).toContain("time budget");
  });

  it("does nothing when asked for no orders", async () => {
    const before = await everything();
    expect(await warmOrderPath({ orders: 0, parallel: 4, budgetMs: 60_000 })).toMatchObject({
      orders: 0,
    });
    expect(await everything()).toEqual(before);
  });
});
