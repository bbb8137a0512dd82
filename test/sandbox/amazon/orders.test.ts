/**
 * Buyer and seller actions and the Orders API v0 over HTTP: purchases limited by the MFN
 * quantity, the order lifecycle, getOrders filters, the two-minute lag and NextToken paging.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ControlError } from "../shopify/errors";
import {
  MARKETPLACE,
  OTHER_SELLER,
  SELLER,
  seed,
  sellerToken,
  sp,
  OTHER_REFRESH_TOKEN,
} from "./fixtures";
import { startLocalAmazon } from "./server";

const local = await startLocalAmazon({ seed: seed(), timeScale: 0.001, rngSeed: 5 });
afterAll(() => local.close());
const sb = local.sandbox;

let token: string;
beforeEach(async () => {
  sb.reset();
  token = await sellerToken(local);
});

type Orders = {
  payload: {
    Orders: Record<string, unknown>[];
    NextToken?: string;
    CreatedBefore?: string;
    LastUpdatedBefore?: string;
  };
};
type Items = { payload: { AmazonOrderId: string; OrderItems: Record<string, unknown>[] } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const longAgo = new Date(Date.now() - 3600_000).toISOString();

describe("purchases", () => {
  it("sells only what the MFN quantity allows and reserves it at once", async () => {
    const refused = await fetch(`${local.url}/_control/sellers/${SELLER}/purchase`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        items: [
          { sku: "MUG-RED", quantity: 2 },
          { sku: "MUG-RED", quantity: 2 },
        ],
      }),
    });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      error: "out_of_stock",
      lines: [{ sku: "MUG-RED", requested: 4, available: 3 }],
    });
    expect(sb.listing(SELLER, "MUG-RED").mfnQuantity).toBe(3);
    expect(() => sb.purchase(SELLER, { sku: "TEE-FBA", quantity: 1 })).toThrow(ControlError);

    const order = sb.purchase(SELLER, { sku: "MUG-RED", quantity: 3 });
    expect(order.status).toBe("Pending");
    expect(sb.listing(SELLER, "MUG-RED").mfnQuantity).toBe(0);
    expect(() => sb.purchase(SELLER, { sku: "MUG-RED", quantity: 1 })).toThrow(/not enough/);
    // FBA stock sells through AFN orders and never touches the MFN quantity.
    const afn = sb.purchase(SELLER, { sku: "CAP-MIX", quantity: 2, channel: "AFN" });
    expect(afn.fulfillmentChannel).toBe("AFN");
    expect(sb.listing(SELLER, "CAP-MIX").available).toEqual({ DEFAULT: 5, AMAZON_NA: 5 });
  });
});

describe("order lifecycle through getOrder and getOrderItems", () => {
  it("Pending hides prices, Unshipped shows them, buyer cancel requests, seller cancel restocks", async () => {
    const { amazonOrderId: id } = sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 2 });
    expect(id).toMatch(/^\d{3}-\d{7}-\d{7}$/);

    const pending = await sp<{ payload: Record<string, unknown> }>(
      local,
      token,
      "GET",
      `/orders/v0/orders/${id}`,
    );
    expect(pending.status).toBe(200);
    expect(pending.headers.get("x-amzn-ratelimit-limit")).toBe("0.5");
    expect(pending.body.payload).toMatchObject({
      AmazonOrderId: id,
      OrderStatus: "Pending",
      FulfillmentChannel: "MFN",
      MarketplaceId: MARKETPLACE,
      NumberOfItemsShipped: 0,
      NumberOfItemsUnshipped: 0,
      OrderType: "StandardOrder",
    });
    expect(pending.body.payload.OrderTotal).toBeUndefined();
    expect(String(pending.body.payload.LastUpdateDate)).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    const pendingItems = await sp<Items>(local, token, "GET", `/orders/v0/orders/${id}/orderItems`);
    expect(pendingItems.body.payload.OrderItems[0]).toMatchObject({
      ASIN: "B0MUGBLUE01",
      SellerSKU: "MUG-BLUE",
      QuantityOrdered: 2,
      QuantityShipped: 0,
    });
    expect(pendingItems.body.payload.OrderItems[0]?.ItemPrice).toBeUndefined();

    sb.confirmOrder(id);
    const unshipped = await sp<{ payload: Record<string, unknown> }>(
      local,
      token,
      "GET",
      `/orders/v0/orders/${id}`,
    );
    expect(unshipped.body.payload).toMatchObject({
      OrderStatus: "Unshipped",
      NumberOfItemsUnshipped: 2,
      OrderTotal: { CurrencyCode: "USD", Amount: "39.98" },
    });

    sb.buyerCancel(id, { reason: "Found cheaper somewhere else." });
    const requested = await sp<Items>(local, token, "GET", `/orders/v0/orders/${id}/orderItems`);
    expect(requested.body.payload.OrderItems[0]).toMatchObject({
      ItemPrice: { CurrencyCode: "USD", Amount: "39.98" },
      BuyerRequestedCancel: {
        IsBuyerRequestedCancel: "true",
        BuyerCancelReason: "Found cheaper somewhere else.",
      },
    });
    expect(sb.order(id).status).toBe("Unshipped");
    expect(sb.listing(SELLER, "MUG-BLUE").mfnQuantity).toBe(8);

    sb.sellerCancel(id);
    const canceled = await sp<{ payload: Record<string, unknown> }>(
      local,
      token,
      "GET",
      `/orders/v0/orders/${id}`,
    );
    expect(canceled.body.payload).toMatchObject({
      OrderStatus: "Canceled",
      NumberOfItemsUnshipped: 0,
    });
    expect(sb.listing(SELLER, "MUG-BLUE").mfnQuantity).toBe(10);
    expect(() => sb.ship(id)).toThrow(/cannot be shipped/);
  });

  it("ships partially then fully, and confirms Pending orders after the scaled hold", async () => {
    sb.configure({ behaviour: { pendingOrderMs: 50_000 } }); // 50 ms at 0.001
    const order = sb.purchase(SELLER, {
      items: [
        { sku: "MUG-BLUE", quantity: 2 },
        { sku: "CAP-MIX", quantity: 1 },
      ],
    });
    await sleep(120);
    expect(sb.order(order.amazonOrderId).status).toBe("Unshipped");
    sb.ship(order.amazonOrderId, { items: [{ sku: "MUG-BLUE", quantity: 1 }] });
    expect(sb.order(order.amazonOrderId).status).toBe("PartiallyShipped");
    sb.ship(order.amazonOrderId);
    const shipped = await sp<Items>(
      local,
      token,
      "GET",
      `/orders/v0/orders/${order.amazonOrderId}/orderItems`,
    );
    expect(
      shipped.body.payload.OrderItems.map((i) => [
        i.SellerSKU,
        i.QuantityOrdered,
        i.QuantityShipped,
      ]),
    ).toEqual([
      ["MUG-BLUE", 2, 2],
      ["CAP-MIX", 1, 1],
    ]);
    expect(sb.order(order.amazonOrderId).status).toBe("Shipped");
  });

  it("answers 400 for a malformed id and 404 for an unknown or foreign order", async () => {
    expect((await sp(local, token, "GET", "/orders/v0/orders/TEST_CASE_400")).status).toBe(400);
    expect((await sp(local, token, "GET", "/orders/v0/orders/111-0000000-0000000")).status).toBe(
      404,
    );
    const foreign = sb.purchase(OTHER_SELLER, { sku: "OTHER-1", quantity: 1 });
    expect(
      (await sp(local, token, "GET", `/orders/v0/orders/${foreign.amazonOrderId}`)).status,
    ).toBe(404);
    const otherToken = await sellerToken(local, OTHER_REFRESH_TOKEN);
    expect(
      (await sp(local, otherToken, "GET", `/orders/v0/orders/${foreign.amazonOrderId}`)).status,
    ).toBe(200);
  });
});

describe("getOrders", () => {
  const ordersPath = (params: Record<string, string>) =>
    `/orders/v0/orders?${new URLSearchParams({ MarketplaceIds: MARKETPLACE, ...params }).toString()}`;

  it("hides orders younger than the (scaled) two-minute lag and refuses a too-recent CreatedBefore", async () => {
    sb.configure({ behaviour: { ordersApiLagMs: 120_000 } }); // 120 ms at 0.001
    sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 1 });
    const early = await sp<Orders>(local, token, "GET", ordersPath({ CreatedAfter: longAgo }));
    expect(early.status).toBe(200);
    expect(early.body.payload.Orders).toEqual([]);
    expect(early.body.payload.CreatedBefore).toMatch(/Z$/);
    await sleep(200);
    const later = await sp<Orders>(local, token, "GET", ordersPath({ CreatedAfter: longAgo }));
    expect(later.body.payload.Orders).toHaveLength(1);
    const future = await sp(
      local,
      token,
      "GET",
      ordersPath({ CreatedAfter: longAgo, CreatedBefore: new Date().toISOString() }),
    );
    expect(future.status).toBe(400);
    expect(future.body).toMatchObject({ errors: [{ code: "InvalidInput" }] });
  });

  it("pages with NextToken and filters by status and LastUpdatedAfter", async () => {
    sb.configure({ behaviour: { ordersApiLagMs: 0 } });
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 1 }).amazonOrderId);
    sb.confirmOrder(ids[0] ?? "");
    sb.ship(ids[0] ?? "");
    await sleep(5);
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const page = await sp<Orders>(
        local,
        token,
        "GET",
        ordersPath(next ? { NextToken: next } : { CreatedAfter: longAgo, MaxResultsPerPage: "2" }),
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.payload.Orders.map((o) => String(o.AmazonOrderId)));
      next = page.body.payload.NextToken;
      pages += 1;
    } while (next);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());

    const shipped = await sp<Orders>(
      local,
      token,
      "GET",
      ordersPath({ LastUpdatedAfter: longAgo, OrderStatuses: "Shipped,Canceled" }),
    );
    expect(shipped.body.payload.Orders.map((o) => o.AmazonOrderId)).toEqual([ids[0]]);
    expect(shipped.body.payload.LastUpdatedBefore).toBeDefined();

    expect((await sp(local, token, "GET", ordersPath({}))).status).toBe(400);
    expect(
      (
        await sp(
          local,
          token,
          "GET",
          ordersPath({ CreatedAfter: longAgo, LastUpdatedAfter: longAgo }),
        )
      ).status,
    ).toBe(400);
    expect(
      (await sp(local, token, "GET", `/orders/v0/orders?CreatedAfter=${longAgo}`)).status,
    ).toBe(400);
  });

  it("throttles getOrders after its burst of 20 (rate 0.0167/s)", async () => {
    const statuses = [];
    for (let i = 0; i < 21; i++) {
      statuses.push((await sp(local, token, "GET", ordersPath({ CreatedAfter: longAgo }))).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.at(-1)).toBe(429);
  });
});
