import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { republishShop } from "../../app/services/ledger/republish.server";
import { settleIncidents } from "../../app/services/incidents/settle.server";
import { ago, incidentsOf, sell, twoChannels } from "./incident-helpers";

/**
 * Issue 13 part 2: each of the five causes, produced through the ledger and the settle service,
 * with the evidence that decided it stored on the incident; `unknown` carries its reason.
 */
async function settledIncident(shopId: string) {
  await settleIncidents({ settleMs: 0, shopId });
  const confirmed = (await incidentsOf(shopId)).filter((i) => i.status === "confirmed");
  expect(confirmed).toHaveLength(1);
  return confirmed[0]!;
}

describe("root causes of confirmed oversells", () => {
  it("sync delay: y's sale was applied, but not yet written to x when x sold", async () => {
    const { shop, x, y, sku } = await twoChannels(1);
    const ySale = await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(60_000));
    // x sells after StockGuard applied y's sale; the write to x had not happened (no trace).
    await sell(
      shop.shopId,
      x.connectionId,
      "x1",
      sku,
      1,
      new Date(ySale.appliedAt.getTime() + 500),
    );
    const incident = await settledIncident(shop.shopId);
    expect(incident).toMatchObject({ cause: "sync_delay", rootCause: "sync_delay", units: 1 });
    expect(incident.evidence).toMatchObject({
      kind: "write_after_sale",
      pairs: [
        {
          firstSale: { connectionId: y.connectionId },
          secondSale: { connectionId: x.connectionId },
          writtenToSecond: null,
        },
      ],
    });
  });

  it("a sale already written to the other channel before it sold is not a sync delay", async () => {
    const { shop, x, y, sku } = await twoChannels(1);
    const ySale = await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(60_000));
    // StockGuard wrote y's sale to x at once; x sold a minute later anyway (it showed 0): the
    // write was current, so nothing but x's own failure to respect it explains the oversell.
    await prisma.pushTrace.create({
      data: {
        receiptId: ySale.receiptId,
        connectionId: x.connectionId,
        writtenAt: ySale.appliedAt,
      },
    });
    await sell(
      shop.shopId,
      x.connectionId,
      "x1",
      sku,
      1,
      new Date(ySale.appliedAt.getTime() + 60_000),
    );
    const incident = await settledIncident(shop.shopId);
    expect(incident.cause).toBe("unknown");
    expect((incident.evidence as { reason: string }).reason).toMatch(/explains/);
  });

  it("simultaneous channels: both sold before either sale reached StockGuard, no buffer", async () => {
    const { shop, x, y, sku } = await twoChannels(1);
    await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(60_000));
    await sell(shop.shopId, x.connectionId, "x1", sku, 1, ago(59_900));
    const incident = await settledIncident(shop.shopId);
    expect(incident).toMatchObject({ cause: "simultaneous_channels", units: 1 });
    expect(incident.evidence).toMatchObject({
      kind: "sales_inside_sync_window",
      channels: 2,
      bufferHeldBack: 0,
    });
  });

  it("low buffer: a buffer of 1 held back was below the demand inside one sync window", async () => {
    const { shop, x, y, sku } = await twoChannels(3);
    await prisma.bufferRule.create({
      data: { shopId: shop.shopId, connectionId: null, sku: null, kind: "reserve_units", value: 1 },
    });
    await republishShop(shop.shopId);
    await sell(shop.shopId, y.connectionId, "y1", sku, 2, ago(60_000));
    await sell(shop.shopId, x.connectionId, "x1", sku, 2, ago(59_900));
    const incident = await settledIncident(shop.shopId);
    expect(incident).toMatchObject({ cause: "low_buffer", units: 1 });
    expect(incident.evidence).toMatchObject({
      kind: "buffer_below_demand",
      bufferHeldBack: 1,
      demandInWindow: 4,
    });
  });

  it("allocation error: stock adjusted at the source below what was already sold", async () => {
    const { shop, x, sku, itemId } = await twoChannels(2);
    await sell(shop.shopId, x.connectionId, "x1", sku, 2, ago(60_000));
    await applyLedgerEvent({
      shopId: shop.shopId,
      actor: "shopify:inventory_levels/update",
      operations: [
        {
          type: "item",
          key: "count-1",
          itemId,
          command: { kind: "on_hand_counted", onHand: 1, pendingToSource: 0 },
        },
      ],
    });
    const incident = await settledIncident(shop.shopId);
    expect(incident).toMatchObject({ cause: "allocation_error", units: 1, connectionId: null });
    expect(incident.evidence).toMatchObject({
      kind: "stock_taken_below_sold",
      movementKind: "on_hand_counted",
    });
  });

  it("a merchant's own adjustment in the admin is their decision, never an oversell", async () => {
    const { shop, x, sku, itemId } = await twoChannels(2);
    await sell(shop.shopId, x.connectionId, "x1", sku, 2, ago(60_000));
    await applyLedgerEvent({
      shopId: shop.shopId,
      actor: "admin:user/1",
      operations: [
        {
          type: "item",
          key: "adjust-1",
          itemId,
          command: { kind: "manual_adjustment", delta: -1, reason: "broken" },
        },
      ],
    });
    await settleIncidents({ settleMs: 0, shopId: shop.shopId });
    expect(await incidentsOf(shop.shopId)).toMatchObject([
      { status: "merchant_decision", units: 1 },
    ]);
  });

  it("integration failure: writes to the selling channel were failing when it sold", async () => {
    const { shop, x, y, sku } = await twoChannels(1);
    await prisma.syncFailure.create({
      data: {
        shopId: shop.shopId,
        connectionId: x.connectionId,
        kind: "write_failed",
        reason: "channel answered 500",
        occurredAt: ago(120_000),
      },
    });
    await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(60_000));
    await sell(shop.shopId, x.connectionId, "x1", sku, 1, ago(30_000));
    const incident = await settledIncident(shop.shopId);
    expect(incident).toMatchObject({ cause: "integration_failure", units: 1 });
    expect(incident.evidence).toMatchObject({
      kind: "write_failures",
      failures: [{ kind: "write_failed", reason: "channel answered 500" }],
    });
  });

  it("integration failure: reconcile found the channel drifted before it sold", async () => {
    const { shop, x, y, sku } = await twoChannels(1);
    await prisma.driftRecord.create({
      data: {
        shopId: shop.shopId,
        connectionId: x.connectionId,
        listingId: x.listingIds.get(sku)!,
        expected: 1,
        observed: 4,
        cause: "channel_changed",
        detectedAt: ago(90_000),
      },
    });
    await sell(shop.shopId, y.connectionId, "y1", sku, 1, ago(60_000));
    await sell(shop.shopId, x.connectionId, "x1", sku, 1, ago(30_000));
    const incident = await settledIncident(shop.shopId);
    expect(incident).toMatchObject({ cause: "integration_failure" });
    expect(incident.evidence).toMatchObject({
      kind: "drift",
      drift: [{ expected: 1, observed: 4 }],
    });
  });
});
