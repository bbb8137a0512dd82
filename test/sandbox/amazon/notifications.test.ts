/**
 * Notifications end to end: destinations (grantless) and subscriptions over HTTP, then the real
 * SQSClient receiving ORDER_CHANGE after purchases and cancels, at OrderLevel and OrderItemLevel,
 * with duplicates and drop-then-redeliver, and LISTINGS_ITEM_MFN_QUANTITY_CHANGE in the
 * EventBridge envelope after a patch applies.
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  EVENTS_QUEUE,
  LISTING_PATH,
  MARKETPLACE,
  ORDERS_QUEUE,
  SELLER,
  grantlessToken,
  quantityPatch,
  queueArn,
  queueUrl,
  seed,
  sellerToken,
  sp,
} from "./fixtures";
import { sqsClient } from "./sqs-client";
import { DEFAULT_APP, DEFAULT_AWS } from "./sandbox";
import { startLocalAmazon } from "./server";

const local = await startLocalAmazon({
  seed: seed(),
  timeScale: 0.001,
  rngSeed: 23,
  behaviour: { pendingOrderMs: null },
});
const client: SQSClient = sqsClient(local);
afterAll(async () => {
  client.destroy();
  await local.close();
});
const sb = local.sandbox;

let token: string;
let grantless: string;
beforeEach(async () => {
  sb.reset();
  token = await sellerToken(local);
  grantless = await grantlessToken(local);
});

async function subscribeOrderChange(): Promise<{ destinationId: string; subscriptionId: string }> {
  const destination = await sp<{ payload: { destinationId: string } }>(
    local,
    grantless,
    "POST",
    "/notifications/v1/destinations",
    {
      name: "orders",
      resourceSpecification: { sqs: { arn: queueArn(ORDERS_QUEUE) } },
    },
  );
  expect(destination.status).toBe(200);
  const subscription = await sp<{ payload: { subscriptionId: string } }>(
    local,
    token,
    "POST",
    "/notifications/v1/subscriptions/ORDER_CHANGE",
    { payloadVersion: "1.0", destinationId: destination.body.payload.destinationId },
  );
  expect(subscription.status).toBe(200);
  return {
    destinationId: destination.body.payload.destinationId,
    subscriptionId: subscription.body.payload.subscriptionId,
  };
}

async function receiveAll(queue: string, atLeast: number, waitSeconds = 2): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + waitSeconds * 1000;
  while (out.length < atLeast && Date.now() < deadline) {
    const answer = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl(local, queue),
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    out.push(...(answer.Messages ?? []));
  }
  return out;
}

type OrderChange = {
  NotificationType: string;
  NotificationMetadata: {
    NotificationId: string;
    SubscriptionId: string;
    ApplicationId: string;
    PublishTime: string;
  };
  Payload: {
    OrderChangeNotification: {
      NotificationLevel: string;
      AmazonOrderId: string;
      OrderChangeType: string;
      OrderChangeTrigger: { TimeOfOrderChange: string; ChangeReason: string };
      Summary: {
        OrderStatus: string;
        OrderItems: { SellerSKU: string; Quantity: number; IsBuyerRequestedCancel: boolean }[];
      };
    };
  };
};
const parse = (m: Message | undefined): OrderChange => JSON.parse(m?.Body ?? "{}") as OrderChange;

describe("destinations and subscriptions", () => {
  it("needs a grantless token for destinations and a seller token for subscriptions", async () => {
    const withSellerToken = await sp(local, token, "POST", "/notifications/v1/destinations", {
      name: "orders",
      resourceSpecification: { sqs: { arn: queueArn(ORDERS_QUEUE) } },
    });
    expect(withSellerToken.status).toBe(403);
    const { destinationId, subscriptionId } = await subscribeOrderChange();
    const again = await sp(local, grantless, "POST", "/notifications/v1/destinations", {
      name: "orders",
      resourceSpecification: { sqs: { arn: queueArn(ORDERS_QUEUE) } },
    });
    expect(again.status).toBe(409);
    const list = await sp<{ payload: unknown[] }>(
      local,
      grantless,
      "GET",
      "/notifications/v1/destinations",
    );
    expect(list.body.payload).toEqual([
      { destinationId, name: "orders", resource: { sqs: { arn: queueArn(ORDERS_QUEUE) } } },
    ]);
    expect(list.headers.get("x-amzn-ratelimit-limit")).toBe("1.0");
    const got = await sp<{ payload: unknown }>(
      local,
      token,
      "GET",
      "/notifications/v1/subscriptions/ORDER_CHANGE",
    );
    expect(got.body.payload).toEqual({ subscriptionId, payloadVersion: "1.0", destinationId });
    const byId = await sp(
      local,
      grantless,
      "GET",
      `/notifications/v1/subscriptions/ORDER_CHANGE/${subscriptionId}`,
    );
    expect(byId.status).toBe(200);
    const grantlessCreate = await sp(
      local,
      grantless,
      "POST",
      "/notifications/v1/subscriptions/ORDER_CHANGE",
      {
        payloadVersion: "1.0",
        destinationId,
      },
    );
    expect(grantlessCreate.status).toBe(403);
    const duplicate = await sp(
      local,
      token,
      "POST",
      "/notifications/v1/subscriptions/ORDER_CHANGE",
      {
        payloadVersion: "1.0",
        destinationId,
      },
    );
    expect(duplicate.status).toBe(409);
    // EventBridge notification types cannot use an SQS destination.
    const wrongWorkflow = await sp(
      local,
      token,
      "POST",
      "/notifications/v1/subscriptions/LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
      {
        payloadVersion: "1.0",
        destinationId,
      },
    );
    expect(wrongWorkflow.status).toBe(400);
  });
});

describe("ORDER_CHANGE through SQS", () => {
  it("arrives after a purchase in the OrderChangeNotification shape and is deleted", async () => {
    const { subscriptionId } = await subscribeOrderChange();
    const order = sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 2 });
    const [message, ...others] = await receiveAll(ORDERS_QUEUE, 1);
    expect(others).toEqual([]);
    const body = parse(message);
    expect(body).toMatchObject({
      NotificationVersion: "1.0",
      NotificationType: "ORDER_CHANGE",
      PayloadVersion: "1.0",
      Payload: {
        OrderChangeNotification: {
          NotificationLevel: "OrderLevel",
          SellerId: SELLER,
          AmazonOrderId: order.amazonOrderId,
          OrderChangeType: "OrderStatusChange",
          Summary: {
            MarketplaceId: MARKETPLACE,
            OrderStatus: "Pending",
            FulfillmentType: "MFN",
            OrderType: "StandardOrder",
            NumberOfItemsShipped: 0,
            OrderItems: [
              {
                SellerSKU: "MUG-BLUE",
                Quantity: 2,
                QuantityShipped: 0,
                IsBuyerRequestedCancel: false,
              },
            ],
          },
        },
      },
      NotificationMetadata: {
        ApplicationId: DEFAULT_APP.applicationId,
        SubscriptionId: subscriptionId,
      },
    });
    expect(body.NotificationMetadata.NotificationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      Date.parse(body.Payload.OrderChangeNotification.OrderChangeTrigger.TimeOfOrderChange),
    ).toBe(Date.parse(order.purchaseDate));
    await client.send(
      new DeleteMessageCommand({
        QueueUrl: queueUrl(local, ORDERS_QUEUE),
        ReceiptHandle: message?.ReceiptHandle,
      }),
    );
    expect(sb.queueContents(ORDERS_QUEUE).messages).toEqual([]);
    expect(sb.notificationList({ type: "ORDER_CHANGE" })[0]?.state).toBe("delivered");
  });

  it("reports buyer-requested cancels, seller cancels and shipping", async () => {
    await subscribeOrderChange();
    const order = sb.purchase(SELLER, { sku: "MUG-RED", quantity: 1, status: "Unshipped" });
    sb.buyerCancel(order.amazonOrderId, { reason: "Ordered by mistake" });
    sb.sellerCancel(order.amazonOrderId);
    const messages = (await receiveAll(ORDERS_QUEUE, 3)).map(parse);
    expect(
      messages.map((m) => [
        m.Payload.OrderChangeNotification.OrderChangeType,
        m.Payload.OrderChangeNotification.OrderChangeTrigger.ChangeReason,
        m.Payload.OrderChangeNotification.Summary.OrderStatus,
        m.Payload.OrderChangeNotification.Summary.OrderItems[0]?.IsBuyerRequestedCancel,
      ]),
    ).toEqual([
      ["OrderStatusChange", "Order Status Change", "Unshipped", false],
      ["BuyerRequestedChange", "Buyer Requested Cancel", "Unshipped", true],
      ["OrderStatusChange", "Order Status Change", "Canceled", true],
    ]);
  });

  it("sends one message per item at OrderItemLevel", async () => {
    await subscribeOrderChange();
    sb.setNotificationLevel(SELLER, "OrderItemLevel");
    sb.purchase(SELLER, {
      items: [
        { sku: "MUG-BLUE", quantity: 1 },
        { sku: "CAP-MIX", quantity: 2 },
      ],
    });
    const messages = (await receiveAll(ORDERS_QUEUE, 2)).map(parse);
    expect(messages.map((m) => m.Payload.OrderChangeNotification.NotificationLevel)).toEqual([
      "OrderItemLevel",
      "OrderItemLevel",
    ]);
    expect(
      messages.map((m) =>
        m.Payload.OrderChangeNotification.Summary.OrderItems.map((i) => i.SellerSKU),
      ),
    ).toEqual([["MUG-BLUE"], ["CAP-MIX"]]);
    expect(new Set(messages.map((m) => m.NotificationMetadata.NotificationId)).size).toBe(2);
  });

  it("duplicates a notification (same NotificationId) and redelivers a dropped one", async () => {
    await subscribeOrderChange();
    sb.configureDelivery({ duplicateProbability: 1 });
    sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 1 });
    const twice = await receiveAll(ORDERS_QUEUE, 2);
    expect(twice).toHaveLength(2);
    expect(parse(twice[0]).NotificationMetadata.NotificationId).toBe(
      parse(twice[1]).NotificationMetadata.NotificationId,
    );
    expect(twice[0]?.MessageId).not.toBe(twice[1]?.MessageId);

    sb.configureDelivery({
      duplicateProbability: 0,
      dropProbability: 1,
      redeliverAfterMs: [300_000, 300_000],
    });
    sb.purchase(SELLER, { sku: "MUG-RED", quantity: 1 });
    await new Promise((r) => setTimeout(r, 50));
    const [first, redelivery] =
      sb.notificationList({ type: "ORDER_CHANGE" }).at(-1)?.attempts ?? [];
    expect(first).toMatchObject({ kind: "first", dropped: true });
    if (first?.deliveredAt && !redelivery?.deliveredAt) {
      // The first attempt was lost: nothing new in the queue until the redelivery.
      expect(
        sb.queueContents(ORDERS_QUEUE).messages.filter((m) => m.receiveCount === 0),
      ).toHaveLength(0);
    }
    expect(await sb.waitForIdle(5_000)).toBe(true);
    const late = await receiveAll(ORDERS_QUEUE, 1);
    expect(parse(late[0]).Payload.OrderChangeNotification.Summary.OrderItems[0]?.SellerSKU).toBe(
      "MUG-RED",
    );
    const rec = sb.notificationList({ type: "ORDER_CHANGE" }).at(-1);
    expect(rec?.attempts.map((a) => [a.kind, a.dropped])).toEqual([
      ["first", true],
      ["redelivery", false],
    ]);
  });

  it("records notifications without a subscription and delivers nothing", async () => {
    sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 1 });
    await sb.waitForIdle();
    expect(sb.notificationList({ type: "ORDER_CHANGE" }).map((n) => n.state)).toEqual([
      "unsubscribed",
    ]);
    expect(sb.queueContents(ORDERS_QUEUE).messages).toEqual([]);
  });
});

describe("LISTINGS_ITEM_MFN_QUANTITY_CHANGE through EventBridge", () => {
  it("arrives in the EventBridge envelope when a patch applies and when a buyer purchases", async () => {
    const destination = await sp<{
      payload: { destinationId: string; resource: { eventBridge: { name: string } } };
    }>(local, grantless, "POST", "/notifications/v1/destinations", {
      name: "events",
      resourceSpecification: {
        eventBridge: { accountId: DEFAULT_AWS.accountId, region: "us-east-1" },
      },
    });
    expect(destination.status).toBe(200);
    const source = `aws.partner/sellingpartnerapi.amazon.com/${DEFAULT_AWS.accountId}/${DEFAULT_APP.applicationId}`;
    expect(destination.body.payload.resource.eventBridge).toEqual({
      name: source,
      region: "us-east-1",
      accountId: DEFAULT_AWS.accountId,
    });
    const subscription = await sp(
      local,
      token,
      "POST",
      "/notifications/v1/subscriptions/LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
      {
        payloadVersion: "1.0",
        destinationId: destination.body.payload.destinationId,
      },
    );
    expect(subscription.status).toBe(200);
    sb.routeEventBridge({ queue: EVENTS_QUEUE });

    await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), quantityPatch(7));
    expect(await sb.waitForIdle(5_000)).toBe(true);
    sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 2 });
    const events = (await receiveAll(EVENTS_QUEUE, 2)).map(
      (m) => JSON.parse(m.Body ?? "{}") as Record<string, unknown>,
    );
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      version: "0",
      "detail-type": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
      source,
      account: DEFAULT_AWS.accountId,
      region: "us-east-1",
      resources: [],
      detail: {
        NotificationVersion: "1.0",
        NotificationType: "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        PayloadVersion: "1.0",
        Payload: {
          SellerId: SELLER,
          FulfillmentChannelCode: "DEFAULT",
          Sku: "MUG-BLUE",
          Quantity: 7,
        },
      },
    });
    expect(String(events[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(events[1]).toMatchObject({ detail: { Payload: { Sku: "MUG-BLUE", Quantity: 5 } } });
  });
});
