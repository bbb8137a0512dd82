import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { settleIncidents } from "../../app/services/incidents/settle.server";
import {
  ago,
  cancelled,
  confirmedUnits,
  deliver,
  incidentsOf,
  sell,
  twoChannels,
} from "./incident-helpers";

/**
 * Issue 13 part 1: a shortfall is provisional until the item settles; only then is it confirmed
 * with units equal to what was really oversold, or explained away. Settling is a function of the
 * settled state: duplicate and reordered deliveries confirm the same units, settling twice
 * confirms nothing more, and stock that covers the shortfall again resolves the incident.
 */
describe("oversell incidents settle", () => {
  it("explains a shortfall seen while a cancel's restock was still in flight", async () => {
    const { shop, x, y, sku } = await twoChannels(1);
    // Reality: x sold the unit, x's order was cancelled, then y sold it. Deliveries: the cancel last.
    await sell(shop.shopId, x.connectionId, "x1", sku, 1, ago(30_000));
    await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(10_000));
    const [provisional] = await incidentsOf(shop.shopId);
    expect(provisional).toMatchObject({ status: "provisional", shortfall: 1, units: null });
    // Not confirmed while the item is not quiet (a movement inside the window).
    expect((await settleIncidents({ settleMs: 60_000, shopId: shop.shopId })).confirmed).toEqual(
      [],
    );
    await deliver(shop.shopId, x.connectionId, "cancel-x1", ago(20_000), [
      cancelled(x.connectionId, "x1", sku),
    ]);
    const outcome = await settleIncidents({ settleMs: 0, shopId: shop.shopId });
    expect(outcome).toMatchObject({ confirmed: [], explained: 1 });
    expect(await incidentsOf(shop.shopId)).toMatchObject([{ status: "explained", units: 0 }]);
    expect(await confirmedUnits(shop.shopId)).toBe(0);
  });

  it("waits for pending receipts of the shop, then confirms the units once", async () => {
    const { shop, x, y, sku } = await twoChannels(2);
    await sell(shop.shopId, x.connectionId, "x1", sku, 2, ago(30_000));
    await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(29_000));
    const late = await prisma.receipt.create({
      data: {
        shopId: shop.shopId,
        connectionId: x.connectionId,
        topic: "orders/updated",
        eventId: "still-pending",
        payload: {},
      },
    });
    expect(await settleIncidents({ settleMs: 0, shopId: shop.shopId })).toMatchObject({
      deferred: 1,
      confirmed: [],
    });
    await prisma.receipt.update({ where: { id: late.id }, data: { status: "applied" } });
    const first = await settleIncidents({ settleMs: 0, shopId: shop.shopId });
    expect(first.confirmed.map((c) => c.units)).toEqual([1]);
    const again = await settleIncidents({ settleMs: 0, shopId: shop.shopId });
    expect(again.confirmed).toEqual([]);
    expect(await confirmedUnits(shop.shopId)).toBe(1);
    const [incident] = await incidentsOf(shop.shopId);
    expect(incident).toMatchObject({ status: "confirmed", units: 1, resolvedAt: null });
    expect(incident!.cause).toBeTruthy();
    expect(incident!.evidence).toMatchObject({ units: 1 });
  });

  it("confirms the same units whatever the delivery order and however often events repeat", async () => {
    const results: number[] = [];
    for (const order of [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [2, 0, 3, 1, 2, 0],
    ]) {
      const { shop, x, y, sku } = await twoChannels(3);
      const sales = [
        () => sell(shop.shopId, x.connectionId, "a", sku, 2, ago(40_000)),
        () => sell(shop.shopId, y.connectionId, "b", sku, 1, ago(39_000)),
        () => sell(shop.shopId, x.connectionId, "c", sku, 2, ago(38_000)),
        () => sell(shop.shopId, y.connectionId, "d", sku, 1, ago(37_000)),
      ];
      for (const i of order) {
        await sales[i]!();
        // Settling in between (a quiet moment) must not change the final count.
        await settleIncidents({ settleMs: 0, shopId: shop.shopId });
      }
      await settleIncidents({ settleMs: 0, shopId: shop.shopId });
      results.push(await confirmedUnits(shop.shopId));
    }
    // 6 units sold against 3 in stock.
    expect(results).toEqual([3, 3, 3]);
  });

  it("resolves the item's incidents when stock covers the sold units again", async () => {
    const { shop, x, y, sku } = await twoChannels(1);
    await sell(shop.shopId, x.connectionId, "x1", sku, 1, ago(30_000));
    await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(29_000));
    await settleIncidents({ settleMs: 0, shopId: shop.shopId });
    expect(await incidentsOf(shop.shopId)).toMatchObject([
      { status: "confirmed", resolvedAt: null },
    ]);
    await deliver(shop.shopId, y.connectionId, "cancel-y1", ago(1_000), [
      cancelled(y.connectionId, "y1", sku),
    ]);
    await settleIncidents({ settleMs: 0, shopId: shop.shopId });
    const [incident] = await incidentsOf(shop.shopId);
    expect(incident!.resolvedAt).toBeInstanceOf(Date);
    expect(incident!.resolutionNote).toMatch(/covered/);
    // Confirmed units stay what they were: it happened.
    expect(await confirmedUnits(shop.shopId)).toBe(1);
  });
});
