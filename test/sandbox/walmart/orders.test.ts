/** Buyers, orders (list paging by lastModified, one order), cancellations, shipping, OOS. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ControlError } from "./errors";
import { Sandbox } from "./sandbox";
import { NODE_A, NODE_B, PID, seedSeller } from "./fixtures";
import { startLocalWalmart } from "./server";

const local = await startLocalWalmart({ rngSeed: 5, seed: { sellers: [seedSeller()] } });
afterAll(() => local.close());
const sb = local.sandbox;
let token = "";

beforeEach(async () => {
  sb.reset();
  token = await local.token(PID);
});

type OrderJson = {
  purchaseOrderId: string;
  customerOrderId: string;
  orderDate: number;
  orderLines: {
    orderLine: {
      lineNumber: string;
      item: { sku: string; productName: string };
      orderLineQuantity: { unitOfMeasurement: string; amount: string };
      orderLineStatuses: {
        orderLineStatus: {
          status: string;
          statusQuantity: { amount: string };
          cancellationReason?: string;
          trackingInfo?: unknown;
        }[];
      };
    }[];
  };
};
type OrderList = {
  list: {
    meta: { totalCount: number; limit: number; nextCursor: string | null };
    elements: { order: OrderJson[] };
  };
};

const get = async (path: string) => {
  const res = await local.call(PID, "GET", path, { token });
  return { status: res.status, body: res.body as OrderList };
};

const control = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${local.url}/_control${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const statuses = (order: OrderJson) =>
  order.orderLines.orderLine.map((l) =>
    l.orderLineStatuses.orderLineStatus
      .map((s) => `${s.status}:${s.statusQuantity.amount}`)
      .join(","),
  );

describe("buyers", () => {
  it("sells only what inventory allows, refusing the whole order otherwise", async () => {
    const refused = await control("POST", `/sellers/${PID}/orders`, {
      lines: [
        { sku: "MUG-RED", qty: 2 },
        { sku: "MUG-RED", qty: 2 },
      ],
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: "out_of_stock",
      message: expect.any(String),
      lines: [{ index: 1, sku: "MUG-RED", requested: 2, available: 1 }],
    });
    expect(() => sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 11 }] })).toThrow(
      ControlError,
    );
    expect(() => sb.placeOrder(PID, { lines: [{ sku: "OLD-1", qty: 1 }] })).toThrow(
      /not PUBLISHED/,
    );
    expect(sb.seller(PID).orders.size).toBe(0);
    expect(sb.events).toHaveLength(0);
    expect(sb.item(PID, "MUG-RED").availToSellQty).toBe(3);

    const placed = await control("POST", `/sellers/${PID}/orders`, {
      lines: [{ sku: "MUG-RED", qty: 3 }],
    });
    expect(placed.status).toBe(201);
    expect(sb.item(PID, "MUG-RED")).toMatchObject({ availToSellQty: 0 });
  });

  it("allocates each line to the first ship node that covers it", () => {
    const order = sb.placeOrder(PID, {
      lines: [
        { sku: "TEE-S", qty: 1 },
        { sku: "TEE-S", qty: 3 },
      ],
    });
    expect(sb.orderRec(PID, order.purchaseOrderId).lines.map((l) => l.shipNode)).toEqual([
      NODE_A,
      NODE_B,
    ]);
    expect(sb.item(PID, "TEE-S").nodes.map((n) => [n.reservedQty, n.availToSellQty])).toEqual([
      [1, 0],
      [3, 1],
    ]);
  });

  it("emits INVENTORY_OOS when a SKU's available quantity reaches zero", async () => {
    sb.placeOrder(PID, { lines: [{ sku: "MUG-RED", qty: 2 }] });
    expect(sb.eventLog({ eventType: "INVENTORY_OOS" })).toHaveLength(0);
    sb.placeOrder(PID, { lines: [{ sku: "MUG-RED", qty: 1 }] });
    const [oos] = sb.eventLog({ eventType: "INVENTORY_OOS" });
    expect(oos?.payload).toEqual({
      source: {
        eventType: "INVENTORY_OOS",
        eventTime: expect.any(String),
        eventId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-1/),
      },
      payload: {
        partnerId: PID,
        itemId: expect.stringMatching(/^\d{9}$/),
        sku: "MUG-RED",
        productName: "Red Mug",
        category: expect.any(String),
        shipNodes: [
          { availToSellQty: 0, shipNode: NODE_A, shipNodeName: `${NODE_A}@MUG-RED@ACTIVE` },
          { availToSellQty: 0, shipNode: NODE_B, shipNodeName: `${NODE_B}@MUG-RED@ACTIVE` },
        ],
      },
    });
    // A seller write to zero also counts; already at zero: no second event.
    const res = await local.call(PID, "PUT", "/v3/inventory?sku=MUG-BLUE", {
      token,
      body: { sku: "MUG-BLUE", quantity: { unit: "EACH", amount: 0 } },
    });
    expect(res.status).toBe(200);
    sb.setInventory(PID, { sku: "MUG-BLUE", quantity: 0 });
    expect(
      sb
        .eventLog({ eventType: "INVENTORY_OOS" })
        .map((e) => (e.payload as { payload: { sku: string } }).payload.sku),
    ).toEqual(["MUG-RED", "MUG-BLUE"]);
  });
});

describe("GET /v3/orders", () => {
  it("returns the list.meta / elements.order shape and one order by purchaseOrderId", async () => {
    const placed = sb.placeOrder(PID, {
      lines: [
        { sku: "MUG-BLUE", qty: 2 },
        { sku: "MUG-RED", qty: 1 },
      ],
    });
    const { status, body } = await get("/v3/orders");
    expect(status).toBe(200);
    expect(body.list.meta).toEqual({ totalCount: 1, limit: 100, nextCursor: null });
    const [order] = body.list.elements.order;
    expect(order).toMatchObject({
      purchaseOrderId: placed.purchaseOrderId,
      customerOrderId: expect.stringMatching(/^\d{13}$/),
      customerEmailId: expect.stringMatching(/@relay\.walmart\.com$/),
      orderDate: expect.any(Number),
      shippingInfo: {
        estimatedShipDate: expect.any(Number),
        methodCode: "Value",
        postalAddress: { country: "USA", addressType: "RESIDENTIAL" },
      },
      shipNode: { type: "SellerFulfilled" },
    });
    expect(order?.orderLines.orderLine[0]).toMatchObject({
      lineNumber: "1",
      item: { sku: "MUG-BLUE", productName: "Blue Mug" },
      charges: {
        charge: [
          {
            chargeType: "PRODUCT",
            chargeName: "ItemPrice",
            chargeAmount: { currency: "USD", amount: 25 },
          },
        ],
      },
      orderLineQuantity: { unitOfMeasurement: "EACH", amount: "2" },
      statusDate: expect.any(Number),
      orderLineStatuses: {
        orderLineStatus: [
          { status: "Created", statusQuantity: { unitOfMeasurement: "EACH", amount: "2" } },
        ],
      },
      fulfillment: { fulfillmentOption: "S2H", shipMethod: "VALUE" },
    });
    const one = await local.call(PID, "GET", `/v3/orders/${placed.purchaseOrderId}`, { token });
    expect(one.body).toEqual({ order });
    const missing = await local.call(PID, "GET", "/v3/orders/1234567890123", { token });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: [{ code: "CONTENT_NOT_FOUND.GMP_ORDER_API" }] });
  });

  it("pages by lastModified with nextCursor (appended to /v3/orders, or as nextCursor=)", async () => {
    const start = sb.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] }).purchaseOrderId);
      sb.advanceClock(1000);
    }
    const since = new Date(start).toISOString();
    const first = await get(`/v3/orders?lastModifiedStartDate=${since}&limit=2`);
    expect(first.body.list.meta).toMatchObject({ totalCount: 5, limit: 2 });
    const cursor = first.body.list.meta.nextCursor ?? "";
    expect(cursor).toMatch(
      /^\?limit=2&hasMoreElements=true&soIndex=5&poIndex=2&partnerId=10001234567&sellerId=\d+&lastModifiedStartDate=/,
    );
    const second = await get(`/v3/orders${cursor}`);
    const third = await get(
      `/v3/orders?nextCursor=${encodeURIComponent(second.body.list.meta.nextCursor ?? "")}`,
    );
    expect(third.body.list.meta.nextCursor).toBeNull();
    const seen = [first, second, third].flatMap((p) =>
      p.body.list.elements.order.map((o) => o.purchaseOrderId),
    );
    expect(seen).toEqual([...ids].reverse()); // newest orderDate first

    // A cancellation modifies the oldest order: only it is modified after `mark`.
    const mark = new Date(sb.now()).toISOString();
    sb.advanceClock(10);
    sb.cancelLine(PID, ids[0] as string, "1", { kind: "seller" });
    const changed = await get(`/v3/orders?lastModifiedStartDate=${mark}`);
    expect(changed.body.list.elements.order.map((o) => o.purchaseOrderId)).toEqual([ids[0]]);
    expect(
      changed.body.list.elements.order[0]?.orderLines.orderLine[0]?.orderLineStatuses
        .orderLineStatus,
    ).toEqual([
      {
        status: "Cancelled",
        cancellationReason: "SELLER_CANCEL_OUT_OF_STOCK",
        statusQuantity: { unitOfMeasurement: "EACH", amount: "1" },
      },
    ]);
    const cancelled = await get("/v3/orders?status=Cancelled");
    expect(cancelled.body.list.meta.totalCount).toBe(1);
  });

  it("filters by creation date (default: the last 7 days) and answers 400 for bad parameters", async () => {
    sb.placeOrder(PID, {
      lines: [{ sku: "MUG-BLUE", qty: 1 }],
      orderDate: sb.now() - 10 * 86_400_000,
    });
    sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] });
    expect((await get("/v3/orders")).body.list.meta.totalCount).toBe(1);
    const old = new Date(sb.now() - 11 * 86_400_000).toISOString().slice(0, 10);
    expect((await get(`/v3/orders?createdStartDate=${old}`)).body.list.meta.totalCount).toBe(2);
    expect((await get("/v3/orders?sku=MUG-RED")).body.list.meta.totalCount).toBe(0);
    expect((await get("/v3/orders?limit=201")).status).toBe(400);
    const badDate = await local.call(PID, "GET", "/v3/orders?lastModifiedStartDate=yesterday", {
      token,
    });
    expect(badDate.body).toMatchObject({
      error: [{ code: "INVALID_REQUEST_PARAM.GMP_ORDER_API", field: "lastModifiedStartDate" }],
    });
  });
});

describe("order lifecycle", () => {
  it("reflects acknowledgement, partial cancellation and shipping on the lines", async () => {
    const placed = sb.placeOrder(PID, {
      lines: [
        { sku: "MUG-BLUE", qty: 3 },
        { sku: "MUG-RED", qty: 1 },
      ],
    });
    const po = placed.purchaseOrderId;
    sb.acknowledgeOrder(PID, po);
    sb.cancelLine(PID, po, "1", { kind: "customer", quantity: 1 });
    await control("POST", `/sellers/${PID}/orders/${po}/lines/1/ship`, {
      quantity: 1,
      carrier: "UPS",
      trackingNumber: "1Z999",
    });
    const res = await local.call(PID, "GET", `/v3/orders/${po}`, { token });
    const order = (res.body as { order: OrderJson }).order;
    expect(statuses(order)).toEqual(["Acknowledged:1,Shipped:1,Cancelled:1", "Acknowledged:1"]);
    const shipped = order.orderLines.orderLine[0]?.orderLineStatuses.orderLineStatus[1];
    expect(shipped?.trackingInfo).toMatchObject({
      carrierName: { carrier: "UPS" },
      trackingNumber: "1Z999",
      methodCode: "Value",
    });
    // 10 on hand: 1 shipped (left the node), 1 released by the cancel, 1 still reserved.
    expect(sb.item(PID, "MUG-BLUE").nodes[0]).toMatchObject({
      inputQty: 9,
      reservedQty: 1,
      availToSellQty: 8,
    });
    expect(() => sb.cancelLine(PID, po, "1", { quantity: 2 })).toThrow(/1 open unit/);
    const intent = sb.cancelLine(PID, po, "2", { kind: "intent" });
    expect(intent.orderLines.orderLine[1]).toMatchObject({ intentToCancel: "Y" });
    expect(statuses(intent as unknown as OrderJson)[1]).toBe("Acknowledged:1");
  });

  it('inventoryModel "decrement": a sale lowers inputQty, a cancellation gives it back', () => {
    const other = new Sandbox({ inventoryModel: "decrement", seed: seedSeller() });
    try {
      const order = other.placeOrder(PID, { lines: [{ sku: "MUG-RED", qty: 2 }] });
      expect(other.item(PID, "MUG-RED").nodes[0]).toMatchObject({
        inputQty: 1,
        reservedQty: 2,
        availToSellQty: 1,
      });
      other.cancelLine(PID, order.purchaseOrderId, "1", { kind: "auto", quantity: 1 });
      expect(other.item(PID, "MUG-RED").nodes[0]).toMatchObject({
        inputQty: 2,
        reservedQty: 1,
        availToSellQty: 2,
      });
      other.shipLine(PID, order.purchaseOrderId, "1");
      expect(other.item(PID, "MUG-RED").nodes[0]).toMatchObject({
        inputQty: 2,
        reservedQty: 0,
        availToSellQty: 2,
      });
      expect(() => other.shipLine(PID, order.purchaseOrderId, "1")).toThrow(/no open units/);
    } finally {
      other.close();
    }
  });
});
