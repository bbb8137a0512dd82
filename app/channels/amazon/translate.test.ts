import { describe, expect, it } from "vitest";
import { amazonInbound } from "./inbound";
import { readMessage } from "./sqs.server";

/**
 * Amazon order notifications → ledger operations (pure): snapshots keyed so that any set of
 * notifications, in any order and any number of times, counts each unit once; FBA orders and
 * channels ignored; MFN quantity changes as precise level observations; and SQS messages that are
 * not this application's SP-API notifications refused before anything is stored.
 */
const CONN = "11111111-1111-4111-8111-111111111111";
const APP = "amzn1.sp.solution.app";

function orderChange(
  summary: Record<string, unknown>,
  extra: { id?: string; level?: string; changeType?: string } = {},
) {
  return {
    NotificationVersion: "1.0",
    NotificationType: "ORDER_CHANGE",
    PayloadVersion: "1.0",
    EventTime: "2026-11-20T15:09:53.109Z",
    Payload: {
      OrderChangeNotification: {
        NotificationLevel: extra.level ?? "OrderLevel",
        SellerId: "A1SELLER",
        AmazonOrderId: "111-0000000-0000001",
        OrderChangeType: extra.changeType ?? "OrderStatusChange",
        OrderChangeTrigger: {
          TimeOfOrderChange: "2026-11-20T15:09:50.000Z",
          ChangeReason: "Order Status Change",
        },
        Summary: {
          MarketplaceId: "ATVPDKIKX0DER",
          FulfillmentType: "MFN",
          PurchaseDate: "2026-11-20T15:00:00.000Z",
          DestinationPostalCode: "98101",
          ...summary,
        },
      },
    },
    NotificationMetadata: {
      ApplicationId: APP,
      SubscriptionId: "sub",
      PublishTime: "2026-11-20T15:09:54.000Z",
      NotificationId: extra.id ?? "n-1",
    },
  };
}

const item = (fields: Record<string, unknown> = {}) => ({
  OrderItemId: "50000000000001",
  SellerSKU: "MUG-BLUE",
  SupplySourceId: null,
  Quantity: 3,
  QuantityShipped: 0,
  IsBuyerRequestedCancel: false,
  ...fields,
});

function translate(payload: unknown, topic = "ORDER_CHANGE") {
  const checked = amazonInbound.check(topic, payload);
  if (!checked.ok) throw new Error(checked.reason);
  return { checked, meaning: amazonInbound.translate(CONN, topic, checked.payload) };
}

const keysOf = (payload: unknown) => {
  const { meaning } = translate(payload);
  if (meaning.kind !== "ledger") throw new Error(meaning.kind);
  return meaning.operations.map((o) => [
    o.key.slice(CONN.length + 1),
    o.type === "line" ? o.command : null,
  ]);
};

describe("ORDER_CHANGE → ledger operations", () => {
  it("commits an order's items with the purchase time as version, and strips customer data", () => {
    const { checked, meaning } = translate(
      orderChange({ OrderStatus: "Pending", OrderItems: [item()] }),
    );
    expect(JSON.stringify(checked.ok && checked.payload)).not.toContain("98101");
    expect(checked.ok && checked.resourceId).toBe("111-0000000-0000001");
    expect(meaning).toEqual({
      kind: "ledger",
      operations: [
        {
          type: "line",
          key: `${CONN}/order/111-0000000-0000001/item/50000000000001/ordered`,
          connectionId: CONN,
          orderId: "111-0000000-0000001",
          lineId: "50000000000001",
          sku: "MUG-BLUE",
          remoteRef: "MUG-BLUE",
          command: { kind: "placed", quantity: 3, version: "2026-11-20T15:00:00.000Z" },
        },
      ],
    });
  });

  it("keys shipped units one by one, so cumulative QuantityShipped counts each unit once", () => {
    const partial = keysOf(
      orderChange({ OrderStatus: "PartiallyShipped", OrderItems: [item({ QuantityShipped: 1 })] }),
    );
    const full = keysOf(
      orderChange({ OrderStatus: "Shipped", OrderItems: [item({ QuantityShipped: 3 })] }),
    );
    const shipped = (ops: unknown[][]) => ops.filter(([k]) => String(k).includes("/shipped/"));
    expect(shipped(partial).map(([k]) => k)).toEqual([
      "order/111-0000000-0000001/item/50000000000001/shipped/1",
    ]);
    expect(shipped(full).map(([k]) => k)).toEqual([
      "order/111-0000000-0000001/item/50000000000001/shipped/1",
      "order/111-0000000-0000001/item/50000000000001/shipped/2",
      "order/111-0000000-0000001/item/50000000000001/shipped/3",
    ]);
    for (const [, command] of shipped(full))
      expect(command).toEqual({ kind: "shipped", quantity: 1 });
  });

  it("releases the unshipped units of a buyer-requested cancellation, and the whole line when Canceled", () => {
    const requested = keysOf(
      orderChange(
        {
          OrderStatus: "Unshipped",
          OrderItems: [item({ QuantityShipped: 1, IsBuyerRequestedCancel: true })],
        },
        { changeType: "BuyerRequestedChange" },
      ),
    );
    expect(requested.find(([k]) => String(k).endsWith("/buyer-cancel"))?.[1]).toEqual({
      kind: "cancelled",
      quantity: 2,
    });
    const canceled = keysOf(orderChange({ OrderStatus: "Canceled", OrderItems: [item()] }));
    expect(canceled.map(([k]) => String(k).split("/").pop())).toEqual(["ordered", "cancelled"]);
    expect(canceled[1]![1]).toEqual({ kind: "cancelled_all" });
  });

  it("ignores orders fulfilled by Amazon, and reads back an order change naming no item", () => {
    expect(
      translate(
        orderChange({ OrderStatus: "Shipped", FulfillmentType: "AFN", OrderItems: [item()] }),
      ).meaning,
    ).toMatchObject({ kind: "ignored" });
    expect(translate(orderChange({ OrderStatus: "Unshipped" })).meaning).toEqual({
      kind: "order_reference",
      orderId: "111-0000000-0000001",
    });
  });

  it("refuses quantities and text PostgreSQL or the ledger cannot take", () => {
    expect(
      amazonInbound.check(
        "ORDER_CHANGE",
        orderChange({ OrderStatus: "Unshipped", OrderItems: [item({ Quantity: 3_000_000_000 })] }),
      ).ok,
    ).toBe(false);
    expect(
      amazonInbound.check(
        "ORDER_CHANGE",
        orderChange({ OrderStatus: "Unshipped", OrderItems: [item({ SellerSKU: "A\u0000B" })] }),
      ).ok,
    ).toBe(false);
  });
});

describe("polled orders and MFN quantities", () => {
  it("translates a polled order like its notification (Orders API flags are strings)", () => {
    const { meaning } = translate(
      {
        sellerId: "A1SELLER",
        order: {
          AmazonOrderId: "111-0000000-0000001",
          PurchaseDate: "2026-11-20T15:00:00Z",
          LastUpdateDate: "2026-11-20T15:10:00Z",
          OrderStatus: "Unshipped",
          FulfillmentChannel: "MFN",
          BuyerInfo: { BuyerEmail: "someone@example.com" },
        },
        items: [
          {
            OrderItemId: "50000000000001",
            SellerSKU: "MUG-BLUE",
            QuantityOrdered: 3,
            QuantityShipped: 0,
            BuyerRequestedCancel: { IsBuyerRequestedCancel: "true", BuyerCancelReason: "x" },
          },
        ],
      },
      "ORDER_POLLED",
    );
    expect(
      meaning.kind === "ledger" && meaning.operations.map((o) => o.type === "line" && o.command),
    ).toEqual([
      { kind: "placed", quantity: 3, version: "2026-11-20T15:00:00.000Z" },
      { kind: "cancelled", quantity: 3 },
    ]);
  });

  it("turns LISTINGS_ITEM_MFN_QUANTITY_CHANGE into a precise level observation of DEFAULT", () => {
    const payload = {
      NotificationVersion: "1.0",
      NotificationType: "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
      PayloadVersion: "1.0",
      EventTime: "2026-11-20T15:09:53.109Z",
      Payload: {
        SellerId: "A1SELLER",
        FulfillmentChannelCode: "DEFAULT",
        Sku: "MUG-BLUE",
        Quantity: 4,
      },
      NotificationMetadata: { NotificationId: "n-2" },
    };
    expect(translate(payload, "LISTINGS_ITEM_MFN_QUANTITY_CHANGE").meaning).toEqual({
      kind: "level",
      level: {
        remoteRef: "MUG-BLUE",
        remoteLocationRef: "DEFAULT",
        quantity: 4,
        at: new Date("2026-11-20T15:09:53.109Z"),
        precise: true,
      },
    });
    const fba = {
      ...payload,
      Payload: { ...payload.Payload, FulfillmentChannelCode: "AMAZON_NA" },
    };
    expect(translate(fba, "LISTINGS_ITEM_MFN_QUANTITY_CHANGE").meaning.kind).toBe("ignored");
  });
});

describe("SQS messages", () => {
  const access = { allowedSenders: ["AIDAAMAZON"], applicationId: APP };
  const message = (body: unknown, sender = "AIDAAMAZON") => ({
    MessageId: "m",
    ReceiptHandle: "h",
    Body: typeof body === "string" ? body : JSON.stringify(body),
    Attributes: { SenderId: sender },
  });
  const order = orderChange({ OrderStatus: "Unshipped", OrderItems: [item()] }, { id: "n-9" });

  it("reads an ORDER_CHANGE and an MFN change inside its EventBridge envelope", () => {
    expect(readMessage(access, message(order), "0|h")).toMatchObject({
      topic: "ORDER_CHANGE",
      eventId: "n-9",
      accountRef: "A1SELLER",
      ackToken: "0|h",
    });
    const envelope = {
      version: "0",
      id: "e",
      "detail-type": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
      source: `aws.partner/sellingpartnerapi.amazon.com/123456789012/${APP}`,
      account: "123456789012",
      time: "2026-11-20T15:09:53Z",
      region: "us-east-1",
      resources: [],
      detail: {
        NotificationType: "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        EventTime: "2026-11-20T15:09:53.109Z",
        Payload: { SellerId: "A1SELLER", FulfillmentChannelCode: "DEFAULT", Sku: "X", Quantity: 1 },
        NotificationMetadata: { ApplicationId: APP, NotificationId: "n-10" },
      },
    };
    expect(readMessage(access, message(envelope), "1|h")).toMatchObject({
      topic: "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
      eventId: "n-10",
      accountRef: "A1SELLER",
    });
    expect(
      readMessage(access, message({ ...envelope, source: "aws.partner/other/123/app" }), "h"),
    ).toMatch(/not SP-API/);
  });

  it("refuses another sender, another application, garbage and invalid payloads", () => {
    expect(readMessage(access, message(order, "AKIASOMEONE"), "h")).toMatch(/not by Amazon/);
    const other = {
      ...order,
      NotificationMetadata: { ...order.NotificationMetadata, ApplicationId: "amzn1.sp.solution.x" },
    };
    expect(readMessage(access, message(other), "h")).toMatch(/another SP-API application/);
    expect(readMessage(access, message("{nope"), "h")).toMatch(/not JSON/);
    expect(readMessage(access, message({ NotificationType: "ANY_OFFER_CHANGED" }), "h")).toMatch(
      /not handled/,
    );
    expect(readMessage(access, message({ ...order, EventTime: "yesterday" }), "h")).toMatch(
      /invalid ORDER_CHANGE/,
    );
  });
});
