import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import prisma from "../../app/db.server";
import { pollConnection } from "../../app/services/inbound/poll.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { pushConnection } from "../../app/services/push/push-connection.server";
import { createRule } from "../../app/services/rules.server";
import {
  PARTNER,
  committedOf,
  ingestPending,
  startWalmartFixture,
  type WalmartFixture,
} from "./walmart-setup";

/**
 * What reaches StockGuard from Walmart: webhook deliveries authenticated by the connection's own
 * HMAC secret (forged or unsigned ones refused with 401 and stored nowhere), deduplicated on
 * Walmart's eventId, applied through the ledger (unknown SKUs become unmatched lines), cancellation
 * events read back as the order, INVENTORY_OOS as a level observation, and the poll of
 * `GET /v3/orders` for what Walmart does not push (seller cancellations, shipments), including
 * the first poll adopting orders placed before the connection.
 */
let fx: WalmartFixture;
let conn: ConnectionContext;
let adoptedPo: string;

const receipts = (where: Record<string, unknown> = {}) =>
  prisma.receipt.count({ where: { connectionId: conn.id, ...where } });

async function delivered(): Promise<void> {
  expect(await fx.walmart.sandbox.waitForDeliveriesIdle(20_000)).toBe(true);
}

beforeAll(async () => {
  fx = await startWalmartFixture({
    domain: "wm-inbound.myshopify.com",
    source: { A: 10, B: 10, C: 10, D: 10 },
    walmartItems: [
      { sku: "A", quantity: 0 },
      { sku: "B", quantity: 5 },
      { sku: "C", quantity: 0 },
      { sku: "D", quantity: 0 },
      { sku: "WM-ONLY", quantity: 5 },
    ],
  });
  // Before StockGuard: an order of 3 B, one of them already shipped.
  const early = fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "B", qty: 3 }] });
  fx.walmart.sandbox.shipLine(PARTNER, early.purchaseOrderId, "1", { quantity: 1 });
  adoptedPo = early.purchaseOrderId;
  conn = await fx.connect();
  await pushConnection(conn.id);
}, 120_000);

afterAll(async () => fx?.close());

describe("the first poll", () => {
  it("adopts orders still open: their open units committed, earlier shipments not counted again", async () => {
    expect(await pollConnection(conn.id)).toEqual({ stored: 1 });
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "B")).toBe(2);
    const shipped = await prisma.movement.count({ where: { shopId: fx.shopId, kind: "shipped" } });
    expect(shipped).toBe(0);
    // Polling again finds nothing new.
    expect(await pollConnection(conn.id)).toEqual({ stored: 0 });
    // A later shipment of the adopted order does leave the shelf.
    fx.walmart.sandbox.shipLine(PARTNER, adoptedPo, "1", { quantity: 1 });
    expect(await pollConnection(conn.id)).toEqual({ stored: 1 }); // a shipment: no check needed
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "B")).toBe(1);
    const moves = await prisma.movement.findMany({ where: { shopId: fx.shopId, kind: "shipped" } });
    expect(moves.map((m) => m.dOnHand)).toEqual([-1]);
  });
});

describe("webhook deliveries", () => {
  it("a Walmart order arrives signed, is stored once however often it is sent, and commits once", async () => {
    fx.walmart.sandbox.configureDelivery({ duplicateProbability: 1 });
    const order = fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "A", qty: 2 }] });
    await delivered();
    fx.walmart.sandbox.configureDelivery({ duplicateProbability: 0 });
    const sent = fx.walmart.sandbox.deliveries({ eventType: "ORDER_UPDATES" });
    expect(sent.filter((d) => d.state === "delivered").length).toBeGreaterThanOrEqual(2);
    expect(sent.every((d) => d.attempts.every((a) => a.status === 200))).toBe(true);
    expect(await receipts({ topic: "ORDER_UPDATES", resourceId: order.purchaseOrderId })).toBe(1);
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "A")).toBe(2);
    const line = await prisma.orderLine.findFirstOrThrow({
      where: { connectionId: conn.id, orderId: order.purchaseOrderId },
    });
    expect(line).toMatchObject({ lineId: "1", ordered: 2, committed: 2 });
  });

  it("refuses forged and unsigned deliveries with 401 and stores nothing", async () => {
    const url = `${fx.inboundUrl}/webhooks/walmart/${conn.id}`;
    const body = JSON.stringify({
      source: { eventType: "PO_CREATED", eventId: "forged-1", eventTime: new Date().toISOString() },
      payload: {
        purchaseOrderId: "999",
        orderLines: [{ lineNumber: "1", sku: "A", quantity: { measurementValue: "9" } }],
      },
    });
    const before = {
      receipts: await prisma.receipt.count(),
      rejected: await prisma.rejectedDelivery.count(),
    };
    const post = (headers: Record<string, string>) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const wrongKey = createHmac("sha256", "not-our-secret").update(body).digest("base64");
    expect((await post({ "WM_SG.SIGNATURE": wrongKey })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect((await post({ Authorization: "Basic dXNlcjpwYXNz" })).status).toBe(401);
    // Another connection's URL, or no connection at all.
    expect(
      (await fetch(`${fx.inboundUrl}/webhooks/walmart/not-a-uuid`, { method: "POST", body }))
        .status,
    ).toBe(404);
    expect(
      (
        await fetch(`${fx.inboundUrl}/webhooks/walmart/00000000-0000-4000-8000-000000000000`, {
          method: "POST",
          body,
        })
      ).status,
    ).toBe(404);
    expect({
      receipts: await prisma.receipt.count(),
      rejected: await prisma.rejectedDelivery.count(),
    }).toEqual(before);
    expect(await committedOf(fx.shopId, "A")).toBe(2);
  });

  it("records lines of SKUs the shop does not have as unmatched", async () => {
    const order = fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "WM-ONLY", qty: 1 }] });
    await delivered();
    await ingestPending(conn.id);
    const unmatched = await prisma.unmatchedLine.findMany({ where: { connectionId: conn.id } });
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]).toMatchObject({ orderId: order.purchaseOrderId, sku: "WM-ONLY" });
  });

  it("an auto-cancellation reads the order back and releases its units; intent to cancel does not", async () => {
    await pushConnection(conn.id);
    const order = fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "C", qty: 3 }] });
    await delivered();
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "C")).toBe(3);
    fx.walmart.sandbox.cancelLine(PARTNER, order.purchaseOrderId, "1", { kind: "intent" });
    await delivered();
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "C")).toBe(3);
    const ordersRead = () =>
      fx.walmart.sandbox.requestLog.filter((r) => r.operation === "orders.get").length;
    const reads = ordersRead();
    fx.walmart.sandbox.cancelLine(PARTNER, order.purchaseOrderId, "1", {
      kind: "auto",
      quantity: 1,
    });
    await delivered();
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "C")).toBe(2);
    expect(ordersRead()).toBe(reads + 1);
    fx.walmart.sandbox.cancelLines(PARTNER, order.purchaseOrderId, { kind: "fraud" });
    await delivered();
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "C")).toBe(0);
    // The same cancellations seen again by the poll count once.
    await pollConnection(conn.id);
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "C")).toBe(0);
  });

  it("INVENTORY_OOS is recorded; OFFER_UNPUBLISHED reads the catalog again", async () => {
    await pushConnection(conn.id);
    const published = (
      await prisma.listing.findFirstOrThrow({ where: { connectionId: conn.id, sku: "D" } })
    ).publishedQuantity;
    fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "D", qty: published }] });
    await delivered();
    const oos = await prisma.receipt.findFirstOrThrow({
      where: { connectionId: conn.id, topic: "INVENTORY_OOS" },
    });
    expect(oos.resourceId).toBe("D");
    await ingestPending(conn.id);
    expect((await prisma.receipt.findUniqueOrThrow({ where: { id: oos.id } })).status).toBe(
      "ignored",
    );
    // The order explains the drop: published is 0, and StockGuard's model of Walmart follows the
    // sale — or, when the sale and the last write are too close in time to order, the next push
    // reads Walmart first. Either way nothing is written back.
    const listing = await prisma.listing.findFirstOrThrow({
      where: { connectionId: conn.id, sku: "D" },
    });
    expect(listing.publishedQuantity).toBe(0);
    expect(listing.remoteQuantity === 0 || listing.needsRead).toBe(true);
    const writes = fx.walmart.sandbox.inventoryWriteLog(PARTNER, "D").length;
    await pushConnection(conn.id);
    expect(fx.walmart.sandbox.inventoryWriteLog(PARTNER, "D").length).toBe(writes);
    expect(
      await prisma.listing.findFirstOrThrow({ where: { connectionId: conn.id, sku: "D" } }),
    ).toMatchObject({ remoteQuantity: 0, needsRead: false });

    fx.walmart.sandbox.unpublishItem(PARTNER, "C");
    await delivered();
    const event = await prisma.receipt.findFirstOrThrow({
      where: { connectionId: conn.id, topic: "OFFER_UNPUBLISHED" },
    });
    expect(event.resourceId).toBe("C");
    expect(await ingestReceipt(event.id)).toEqual({
      status: "observed",
      action: "catalog import scheduled",
    });
    fx.walmart.sandbox.publishItem(PARTNER, "C");
  });
});

describe("the poll", () => {
  it("catches what Walmart does not push: the seller's cancellations and shipments", async () => {
    await pollConnection(conn.id);
    fx.walmart.sandbox.configureDelivery({ paused: true });
    const order = fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "A", qty: 3 }] });
    fx.walmart.sandbox.cancelLine(PARTNER, order.purchaseOrderId, "1", {
      kind: "seller",
      quantity: 1,
    });
    fx.walmart.sandbox.shipLine(PARTNER, order.purchaseOrderId, "1", { quantity: 1 });
    const before = await committedOf(fx.shopId, "A");
    // The order's snapshot, and a check of A (its cancelled unit shows on Walmart again).
    expect(await pollConnection(conn.id)).toEqual({ stored: 2 });
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "A")).toBe(before + 1);
    const shipped = await prisma.movement.findMany({
      where: { shopId: fx.shopId, kind: "shipped", orderRef: order.purchaseOrderId },
    });
    expect(shipped.map((m) => m.dOnHand)).toEqual([-1]);
    // The webhooks arrive late: nothing changes.
    fx.walmart.sandbox.configureDelivery({ paused: false });
    await delivered();
    await ingestPending(conn.id);
    expect(await committedOf(fx.shopId, "A")).toBe(before + 1);
    // Buyer data never reached the database.
    const payloads = await prisma.receipt.findMany({ where: { connectionId: conn.id } });
    const text = JSON.stringify(payloads.map((r) => r.payload));
    expect(text).not.toContain("relay.walmart.com");
    expect(text).not.toContain("postalAddress");
  });

  it("a cancellation that cannot raise the published quantity still lowers Walmart", async () => {
    // Walmart may show at most 1 A: the published quantity is capped, a release cannot raise it.
    await createRule(fx.shopId, { kind: "max_shown", value: 1, connectionId: conn.id, sku: "A" });
    await pushConnection(conn.id);
    const shows = () => fx.walmart.sandbox.item(PARTNER, "A").availToSellQty;
    expect(shows()).toBe(1);
    // A Walmart sale takes Walmart to 0 while 1 is still published (the cap, not the stock, sets
    // it): once the order has reached the ledger the push raises it back.
    const order = fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "A", qty: 1 }] });
    expect(shows()).toBe(0);
    await delivered();
    await ingestPending(conn.id);
    await pushConnection(conn.id);
    expect(shows()).toBe(1);
    expect(await pollConnection(conn.id)).toEqual({ stored: 2 }); // the snapshot and a check
    await ingestPending(conn.id);
    await pushConnection(conn.id);
    expect(shows()).toBe(1);
    // The seller cancels it (no event): Walmart releases the unit and would offer 2.
    fx.walmart.sandbox.cancelLine(PARTNER, order.purchaseOrderId, "1", { kind: "seller" });
    expect(shows()).toBe(2);
    expect(await pollConnection(conn.id)).toEqual({ stored: 2 }); // the snapshot and a check
    await ingestPending(conn.id);
    await pushConnection(conn.id);
    expect(shows()).toBe(1);
    expect(
      (await prisma.listing.findFirstOrThrow({ where: { connectionId: conn.id, sku: "A" } }))
        .remoteQuantity,
    ).toBe(1);
  });
});
