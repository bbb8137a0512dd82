import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AmazonAdapter } from "../../app/channels/amazon/adapter.server";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { ChannelAuthError } from "../../app/channels/errors";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { pollConnection, receiveQueue } from "../../app/services/inbound/poll.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { AMAZON_SENDER_ID } from "../sandbox/amazon/notifications";
import { DEFAULT_APP, DEFAULT_AWS } from "../sandbox/amazon/sandbox";
import {
  connectAmazon,
  MARKETPLACE,
  ORDERS_QUEUE,
  SELLER,
  startAmazonTestWorld,
  type AmazonTestWorld,
} from "./amazon-fixtures";

/**
 * Amazon inbound: ORDER_CHANGE notifications pulled from SQS with the real AWS SDK, stored under
 * their NotificationId (duplicates stored once), deleted once stored, and applied through the
 * ledger in any order (OrderLevel and OrderItemLevel; buyer-requested cancellations, seller
 * cancellations, partial and full shipments); unknown SKUs become unmatched lines, FBA orders are
 * ignored, messages that are not Amazon's notifications for this application are deleted and
 * stored nowhere, and the Orders API poll finds what notifications missed.
 */
let world: AmazonTestWorld;
let conn: ConnectionContext;
const sb = () => world.amazon.sandbox;

/** Receives until the queues are empty (everything Amazon sent is stored and deleted). */
async function drain(): Promise<void> {
  expect(await sb().waitForIdle()).toBe(true);
  for (let i = 0; i < 50; i++) {
    const left = sb()
      .queueList()
      .reduce((n, q) => n + sb().queueContents(q.name).messages.length, 0);
    if (left === 0) return;
    await receiveQueue("amazon");
  }
  throw new Error("the queues did not drain");
}

/** Applies every pending receipt, newest first (the ledger does not depend on the order). */
async function applyPending(): Promise<number> {
  const pending = await prisma.receipt.findMany({
    where: { connectionId: conn.id, status: "pending" },
    orderBy: { id: "desc" },
  });
  for (const r of pending) await ingestReceipt(r.id);
  return pending.length;
}

const lines = (orderId: string) =>
  prisma.orderLine.findMany({ where: { connectionId: conn.id, orderId }, orderBy: { sku: "asc" } });

beforeAll(async () => {
  world = await startAmazonTestWorld("amazon-inbound.myshopify.com");
  // The local Orders API lags by 120 ms (2 minutes × 0.001).
  conn = await connectAmazon(world, { marketplaceId: MARKETPLACE, ordersApiLagMs: 200 });
  await drain();
  await applyPending();
});

afterAll(async () => world?.close());

beforeEach(() => {
  sb().configureDelivery({ duplicateProbability: 0, paused: false, reorder: false });
  sb().configureSqs({ duplicateProbability: 0, reorder: false });
  sb().setNotificationLevel(SELLER, "OrderLevel");
});

describe("ORDER_CHANGE through SQS", () => {
  it("stores each notification once under its NotificationId, deletes it, and commits the order", async () => {
    sb().configureDelivery({ duplicateProbability: 1 });
    sb().configureSqs({ duplicateProbability: 1 });
    const order = sb().purchase(SELLER, { sku: "MUG-BLUE", quantity: 2 });
    await drain();
    const notifications = sb().notificationList({ sellerId: SELLER, type: "ORDER_CHANGE" });
    const mine = notifications.filter(
      (n) =>
        (n.payload as { Payload: { OrderChangeNotification: { AmazonOrderId: string } } }).Payload
          .OrderChangeNotification.AmazonOrderId === order.amazonOrderId,
    );
    expect(mine).toHaveLength(1);
    // Sent twice by Amazon, each copy stored twice by SQS: four messages, one receipt.
    expect(mine[0]!.attempts.filter((a) => a.messageId).length).toBe(2);
    const receipts = await prisma.receipt.findMany({
      where: { connectionId: conn.id, resourceId: order.amazonOrderId },
    });
    expect(receipts.map((r) => [r.topic, r.eventId])).toEqual([
      ["ORDER_CHANGE", mine[0]!.notificationId],
    ]);
    // Customer data is not kept.
    expect(JSON.stringify(receipts[0]!.payload)).not.toContain("DestinationPostalCode");
    expect(sb().queueContents(ORDERS_QUEUE).messages).toEqual([]);
    await applyPending();
    expect((await lines(order.amazonOrderId)).map((l) => [l.sku, l.ordered, l.committed])).toEqual([
      ["MUG-BLUE", 2, 2],
    ]);
  });

  it("handles OrderItemLevel notifications (one per item)", async () => {
    sb().setNotificationLevel(SELLER, "OrderItemLevel");
    const order = sb().purchase(SELLER, {
      items: [
        { sku: "MUG-RED", quantity: 1 },
        { sku: "CAP-MIX", quantity: 2 },
      ],
    });
    await drain();
    const receipts = await prisma.receipt.count({
      where: { connectionId: conn.id, resourceId: order.amazonOrderId },
    });
    expect(receipts).toBe(2);
    await applyPending();
    expect((await lines(order.amazonOrderId)).map((l) => [l.sku, l.committed])).toEqual([
      ["CAP-MIX", 2],
      ["MUG-RED", 1],
    ]);
  });

  it("turns buyer-requested cancellations, cancellations and shipments into ledger events, in any order", async () => {
    const cancelled = sb().purchase(SELLER, { sku: "CAP-MIX", quantity: 2, status: "Unshipped" });
    const shipped = sb().purchase(SELLER, { sku: "MUG-RED", quantity: 2, status: "Unshipped" });
    const shippedBefore = await prisma.movement.count({ where: { kind: "shipped" } });
    sb().buyerCancel(cancelled.amazonOrderId, { reason: "Ordered by mistake" });
    sb().ship(shipped.amazonOrderId, { items: [{ sku: "MUG-RED", quantity: 1 }] });
    await drain();
    // Applied newest first: the shipment before the order it belongs to.
    await applyPending();
    expect((await lines(cancelled.amazonOrderId))[0]).toMatchObject({
      ordered: 2,
      cancelled: 2,
      committed: 0,
    });
    expect((await lines(shipped.amazonOrderId))[0]).toMatchObject({
      ordered: 2,
      shipped: 1,
      committed: 1,
    });
    sb().sellerCancel(cancelled.amazonOrderId);
    sb().ship(shipped.amazonOrderId);
    await drain();
    await applyPending();
    expect((await lines(cancelled.amazonOrderId))[0]).toMatchObject({
      cancelledAll: true,
      committed: 0,
    });
    expect((await lines(shipped.amazonOrderId))[0]).toMatchObject({ shipped: 2, committed: 0 });
    // Every notification repeats the cumulative QuantityShipped: each unit counted once.
    expect(await prisma.movement.count({ where: { kind: "shipped" } })).toBe(shippedBefore + 2);
  });

  it("records an unknown SKU as an unmatched line and ignores orders fulfilled by Amazon", async () => {
    const unknown = sb().purchase(SELLER, { sku: "AMZ-ONLY", quantity: 1 });
    const fba = sb().purchase(SELLER, { sku: "TEE-FBA", quantity: 1, channel: "AFN" });
    await drain();
    await applyPending();
    const unmatched = await prisma.unmatchedLine.findMany({
      where: { connectionId: conn.id, orderId: unknown.amazonOrderId },
    });
    expect(unmatched.map((u) => [u.sku, u.quantity])).toEqual([["AMZ-ONLY", 1]]);
    const receipt = await prisma.receipt.findFirstOrThrow({
      where: { connectionId: conn.id, resourceId: fba.amazonOrderId },
    });
    expect(receipt.status).toBe("ignored");
    expect(await lines(fba.amazonOrderId)).toEqual([]);
  });
});

describe("messages that are not Amazon's notifications", () => {
  it("are deleted and stored nowhere: another sender, another application, garbage", async () => {
    const adapter = adapterFor("amazon") as AmazonAdapter;
    const refusedBefore = adapter.queues.refused;
    const receiptsBefore = await prisma.receipt.count();
    const valid = sb().notificationList({ sellerId: SELLER, type: "ORDER_CHANGE" }).at(-1)!
      .payload as Record<string, unknown>;
    const forged = (id: string, applicationId = DEFAULT_APP.applicationId) =>
      JSON.stringify({
        ...valid,
        NotificationMetadata: {
          ...(valid.NotificationMetadata as object),
          NotificationId: id,
          ApplicationId: applicationId,
        },
      });
    // Someone else with SendMessage rights (the AWS SDK, signed with an access key of ours).
    const client = new SQSClient({
      endpoint: world.amazon.url,
      region: DEFAULT_AWS.region,
      credentials: DEFAULT_AWS.credentials[0]!,
    });
    await client.send(
      new SendMessageCommand({
        QueueUrl: sb().queueUrl(DEFAULT_AWS.accountId, ORDERS_QUEUE),
        MessageBody: forged("forged-1"),
      }),
    );
    client.destroy();
    // Sent by Amazon's service but for another application, and a body that is not JSON.
    const queue = sb().findQueue(ORDERS_QUEUE);
    sb().sqs.send(queue, forged("forged-2", "amzn1.sp.solution.other"), {
      senderId: AMAZON_SENDER_ID,
    });
    sb().sqs.send(queue, "{not json", { senderId: AMAZON_SENDER_ID });
    await drain();
    expect(adapter.queues.refused - refusedBefore).toBe(3);
    expect(await prisma.receipt.count()).toBe(receiptsBefore);
    expect(sb().queueContents(ORDERS_QUEUE).messages).toEqual([]);
  });
});

describe("polling the Orders API", () => {
  it("finds an order whose notification never came, and the late notification changes nothing", async () => {
    await pollConnection(conn.id); // sets the cursor if this is the first poll
    sb().configureDelivery({ paused: true });
    const order = sb().purchase(SELLER, { sku: "MUG-BLUE", quantity: 1 });
    await new Promise((r) => setTimeout(r, 400)); // past the Orders API lag
    const { stored } = await pollConnection(conn.id);
    expect(stored).toBeGreaterThanOrEqual(1);
    const polled = await prisma.receipt.findMany({
      where: { connectionId: conn.id, resourceId: order.amazonOrderId },
    });
    expect(polled.map((r) => r.topic)).toEqual(["ORDER_POLLED"]);
    await applyPending();
    expect((await lines(order.amazonOrderId))[0]).toMatchObject({ ordered: 1, committed: 1 });

    sb().configureDelivery({ paused: false });
    await drain();
    await applyPending();
    expect(
      await prisma.receipt.count({
        where: { connectionId: conn.id, resourceId: order.amazonOrderId },
      }),
    ).toBe(2);
    expect((await lines(order.amazonOrderId))[0]).toMatchObject({ ordered: 1, committed: 1 });
  });
});

describe("a seller who revokes StockGuard", () => {
  it("pauses the connection at the next poll, with the reason shown, and polls it no more", async () => {
    sb().revokeRefreshToken({ sellerId: SELLER });
    await expect(pollConnection(conn.id)).rejects.toBeInstanceOf(ChannelAuthError);
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row.status).toBe("error");
    expect(row.statusReason).toMatch(/connect the Amazon account again/);
    const calls = sb().requests().length;
    expect(await pollConnection(conn.id)).toEqual({ stored: 0 });
    expect(sb().requests().length).toBe(calls);
  });
});
