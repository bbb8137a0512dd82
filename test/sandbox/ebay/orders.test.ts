/**
 * Buyers and orders: checkout against listing quantities, getOrder / getOrders shapes and filters,
 * cancellations through getOrders' cancelStatus and the Post-Order search, shipping.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ControlError } from "./errors";
import { OTHER_SELLER, SELLER, call, codeFlow, seed } from "./fixtures";
import { startLocalEbay } from "./server";

const local = await startLocalEbay({ seed: seed(), rngSeed: 31 });
afterAll(() => local.close());
const sb = local.sandbox;
const FUL = "/sell/fulfillment/v1";

let token = "";
beforeEach(async () => {
  sb.reset();
  token = (await codeFlow(local)).access_token;
});

type Order = {
  orderId: string;
  creationDate: string;
  lastModifiedDate: string;
  orderFulfillmentStatus: string;
  orderPaymentStatus: string;
  sellerId: string;
  cancelStatus: {
    cancelState: string;
    cancelledDate?: string;
    cancelRequests: Record<string, unknown>[];
  };
  lineItems: {
    lineItemId: string;
    legacyItemId: string;
    sku: string;
    quantity: number;
    lineItemFulfillmentStatus: string;
  }[];
};
type Orders = { total: number; limit: number; offset: number; next?: string; orders: Order[] };

const getOrders = (query = "") => call<Orders>(local.url, "GET", `${FUL}/order${query}`, { token });
const getOrder = (id: string) => call<Order>(local.url, "GET", `${FUL}/order/${id}`, { token });
const checkout = (lines: { sku: string; quantity: number }[], buyer?: string) =>
  sb.checkout(SELLER, { lines, ...(buyer ? { buyer } : {}) }).order as unknown as Order;
const filter = (value: string) => `?filter=${encodeURIComponent(value)}`;

describe("checkout", () => {
  it("sells what the listing quantity allows and decrements item, offer and listing", async () => {
    const answer = await call<{ order: Order; notificationIds: string[] }>(
      local.url,
      "POST",
      `/_control/sellers/${SELLER}/checkout`,
      {
        body: {
          lines: [
            { sku: "MUG-RED", quantity: 2 },
            { sku: "OLD-VASE", quantity: 1 },
          ],
          buyer: "happy_buyer",
        },
      },
    );
    expect(answer.status).toBe(201);
    const order = answer.body.order;
    expect(order.orderId).toMatch(/^\d{2}-\d{5}-\d{5}$/);
    expect(order.lineItems.map((l) => [l.sku, l.quantity])).toEqual([
      ["MUG-RED", 2],
      ["OLD-VASE", 1],
    ]);
    expect(sb.listing(SELLER, "MUG-RED")).toMatchObject({
      itemQuantity: 2,
      offerAvailableQuantity: 1,
      quantity: 1,
      soldQuantity: 2,
    });
    expect(sb.listing(SELLER, "OLD-VASE")).toMatchObject({ quantity: 4, soldQuantity: 1 });

    // MUG-RED shows 1 (min of item 2 and offer 1): a second unit is refused, nothing changes.
    const refused = await call<{ error: string; lines: unknown[] }>(
      local.url,
      "POST",
      `/_control/sellers/${SELLER}/checkout`,
      {
        body: {
          lines: [
            { sku: "MUG-BLUE", quantity: 1 },
            { sku: "MUG-RED", quantity: 2 },
          ],
        },
      },
    );
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      error: "insufficient_quantity",
      lines: [{ sku: "MUG-RED", requested: 2, available: 1 }],
    });
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(10);
    expect(() => sb.checkout(SELLER, { lines: [{ sku: "TEAPOT", quantity: 1 }] })).toThrow(
      ControlError,
    );

    const last = checkout([{ sku: "MUG-RED", quantity: 1 }]);
    expect(last.lineItems).toHaveLength(1);
    expect(sb.listing(SELLER, "MUG-RED").quantity).toBe(0);
    const offers = await call<{
      offers: { listing: { listingStatus: string; soldQuantity: number } }[];
    }>(local.url, "GET", "/sell/inventory/v1/offer?sku=MUG-RED", { token });
    expect(offers.body.offers[0]?.listing).toEqual(
      expect.objectContaining({ listingStatus: "OUT_OF_STOCK", soldQuantity: 3 }),
    );
  });
});

describe("getOrder / getOrders", () => {
  it("returns orders in the Fulfillment API shape", async () => {
    const created = checkout([{ sku: "MUG-BLUE", quantity: 3 }], "buyer_one");
    const answer = await getOrder(created.orderId);
    expect(answer.status).toBe(200);
    const listing = sb.listing(SELLER, "MUG-BLUE");
    expect(answer.body).toMatchObject({
      orderId: created.orderId,
      orderFulfillmentStatus: "NOT_STARTED",
      orderPaymentStatus: "PAID",
      sellerId: SELLER,
      buyer: { username: "buyer_one" },
      pricingSummary: { total: { value: "37.50", currency: "USD" } },
      cancelStatus: { cancelState: "NONE_REQUESTED", cancelRequests: [] },
      lineItems: [
        {
          legacyItemId: listing.listingId,
          sku: "MUG-BLUE",
          title: "Blue mug",
          quantity: 3,
          lineItemCost: { value: "37.50", currency: "USD" },
          soldFormat: "FIXED_PRICE",
          lineItemFulfillmentStatus: "NOT_STARTED",
          listingMarketplaceId: "EBAY_US",
        },
      ],
    });
    expect(answer.body.lineItems[0]?.lineItemId).toMatch(/^\d{14}$/);
    expect(Date.parse(answer.body.creationDate)).toBe(Date.parse(answer.body.lastModifiedDate));

    const missing = await getOrder("01-23456-78901");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ errors: [{ errorId: 32100, domain: "API_FULFILLMENT" }] });
    const other = await codeFlow(local, OTHER_SELLER);
    const foreign = await call(local.url, "GET", `${FUL}/order/${created.orderId}`, {
      token: other.access_token,
    });
    expect(foreign.status).toBe(404);
  });

  it("filters by lastmodifieddate, creationdate and orderfulfillmentstatus, and pages", async () => {
    const a = checkout([{ sku: "MUG-BLUE", quantity: 1 }]);
    sb.advanceClock({ ms: 60_000 });
    const b = checkout([{ sku: "MUG-BLUE", quantity: 1 }]);
    sb.advanceClock({ ms: 60_000 });
    const c = checkout([{ sku: "MUG-BLUE", quantity: 1 }]);
    sb.advanceClock({ ms: 60_000 });
    const since = sb.clock.iso();
    sb.advanceClock({ ms: 1_000 });
    sb.shipOrder(a.orderId);

    const all = await getOrders();
    expect(all.body.total).toBe(3);
    expect(all.body.orders.map((o) => o.orderId)).toEqual([c.orderId, b.orderId, a.orderId]);

    const modified = await getOrders(filter(`lastmodifieddate:[${since}..]`));
    expect(modified.body.orders.map((o) => o.orderId)).toEqual([a.orderId]);
    expect(modified.body.orders[0]).toMatchObject({
      orderFulfillmentStatus: "FULFILLED",
      lineItems: [{ lineItemFulfillmentStatus: "FULFILLED" }],
    });

    const created = await getOrders(filter(`creationdate:[${b.creationDate}..${c.creationDate}]`));
    expect(created.body.orders.map((o) => o.orderId).sort()).toEqual([b.orderId, c.orderId].sort());

    const open = await getOrders(filter("orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}"));
    expect(open.body.orders.map((o) => o.orderId).sort()).toEqual([b.orderId, c.orderId].sort());

    const page = await getOrders("?limit=2&offset=0");
    expect(page.body.orders).toHaveLength(2);
    expect(page.body.limit).toBe(2);
    const next = new URL(page.body.next ?? "");
    expect(next.searchParams.get("offset")).toBe("2");
    const page2 = await call<Orders>(local.url, "GET", `${next.pathname}${next.search}`, { token });
    expect(page2.body.orders.map((o) => o.orderId)).toEqual([a.orderId]);

    const byIds = await getOrders(`?orderIds=${a.orderId},${c.orderId}`);
    expect(byIds.body.orders.map((o) => o.orderId)).toEqual([a.orderId, c.orderId]);

    expect((await getOrders(filter("orderfulfillmentstatus:{FULFILLED}"))).status).toBe(400);
    expect((await getOrders(filter("lastmodifieddate:[yesterday..]"))).status).toBe(400);
    expect((await getOrders("?limit=201")).status).toBe(400);
  });
});

describe("cancellations", () => {
  type Search = {
    total: number;
    paginationOutput: { limit: number; offset: number; totalEntries: number; totalPages: number };
    cancellations: Record<string, unknown>[];
  };
  const search = (query = "", scheme = "IAF") =>
    call<Search>(local.url, "GET", `/post-order/v2/cancellation/search${query}`, { token, scheme });

  it("shows a seller cancellation in getOrders' cancelStatus and the Post-Order search, and restocks", async () => {
    const order = checkout([{ sku: "MUG-BLUE", quantity: 4 }], "buyer_x");
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(6);
    const before = sb.clock.iso();
    sb.advanceClock({ ms: 5_000 });
    const cancelled = await call<{ order: Order }>(
      local.url,
      "POST",
      `/_control/orders/${order.orderId}/cancel`,
      {
        body: { initiator: "SELLER", reason: "OUT_OF_STOCK_OR_CANNOT_FULFILL" },
      },
    );
    expect(cancelled.status).toBe(200);
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(10);
    expect(sb.notifications()).toHaveLength(0); // no cancellation topic

    const listed = await getOrders(filter(`lastmodifieddate:[${before}..]`));
    expect(listed.body.orders).toHaveLength(1);
    expect(listed.body.orders[0]).toMatchObject({
      orderId: order.orderId,
      orderPaymentStatus: "FULLY_REFUNDED",
      cancelStatus: { cancelState: "CANCELED", cancelRequests: [] },
    });
    expect(listed.body.orders[0]?.cancelStatus.cancelledDate).toBeDefined();
    const single = await getOrder(order.orderId);
    expect(single.body.cancelStatus.cancelRequests).toEqual([
      expect.objectContaining({
        cancelInitiator: "Seller",
        cancelReason: "OUT_OF_STOCK_OR_CANNOT_FULFILL",
        cancelRequestState: "COMPLETED",
      }),
    ]);

    const bearer = await search("", "Bearer");
    expect(bearer.status).toBe(401);
    const found = await search(
      `?creation_date_range_from=${before}&creation_date_range_to=${sb.clock.iso()}`,
    );
    expect(found.status).toBe(200);
    expect(found.body.total).toBe(1);
    expect(found.body.paginationOutput).toEqual({
      limit: 25,
      offset: 1,
      totalEntries: 1,
      totalPages: 1,
    });
    const listing = sb.listing(SELLER, "MUG-BLUE");
    expect(found.body.cancellations[0]).toMatchObject({
      legacyOrderId: order.orderId,
      requestorType: "SELLER",
      cancelState: "CLOSED",
      cancelStatus: "CANCEL_CLOSED_WITH_REFUND",
      sellerLoginName: SELLER,
      buyerLoginName: "buyer_x",
      marketplaceId: "EBAY_US",
      cancelRequestDate: { value: expect.any(String) },
      lineItems: [{ itemId: listing.listingId, cancelQuantity: 4, itemTitle: "Blue mug" }],
    });
    const earlier = await search(`?creation_date_range_to=${before}`);
    expect(earlier.body.total).toBe(0);
    expect((await search("?creation_date_range_from=nope")).status).toBe(400);
  });

  it("follows a buyer request through approval or rejection", async () => {
    const first = checkout([{ sku: "MUG-BLUE", quantity: 1 }]);
    const second = checkout([{ sku: "MUG-BLUE", quantity: 1 }]);
    sb.cancelOrder(first.orderId, { initiator: "BUYER" });
    sb.cancelOrder(second.orderId, { initiator: "BUYER", reason: "FOUND_CHEAPER_PRICE" });

    const pending = await getOrder(first.orderId);
    expect(pending.body.cancelStatus).toMatchObject({
      cancelState: "IN_PROGRESS",
      cancelRequests: [
        {
          cancelInitiator: "Buyer",
          cancelRequestState: "REQUESTED",
          cancelReason: "ORDER_MISTAKE",
        },
      ],
    });
    const open = await search();
    expect(
      open.body.cancellations.map((c) => [c.legacyOrderId, c.cancelState, c.cancelStatus]),
    ).toEqual([
      [second.orderId, "APPROVAL_PENDING", "CANCEL_REQUESTED"],
      [first.orderId, "APPROVAL_PENDING", "CANCEL_REQUESTED"],
    ]);
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(8);

    await call(local.url, "POST", `/_control/orders/${first.orderId}/cancel/approve`);
    await call(local.url, "POST", `/_control/orders/${second.orderId}/cancel/reject`);
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(9);
    expect((await getOrder(first.orderId)).body.cancelStatus.cancelState).toBe("CANCELED");
    const rejected = await getOrder(second.orderId);
    expect(rejected.body.cancelStatus).toMatchObject({
      cancelState: "NONE_REQUESTED",
      cancelRequests: [{ cancelRequestState: "REJECTED" }],
    });
    const closed = await search(`?legacy_order_id=${second.orderId}`);
    expect(closed.body.cancellations[0]).toMatchObject({
      cancelState: "CLOSED",
      cancelStatus: "CANCEL_REJECTED",
      cancelCloseReason: "SELLER_DECLINE",
      requestorType: "BUYER",
    });

    sb.shipOrder(second.orderId);
    expect(() => sb.cancelOrder(second.orderId)).toThrow(ControlError);
    expect(() => sb.shipOrder(first.orderId)).toThrow(ControlError);
  });
});
