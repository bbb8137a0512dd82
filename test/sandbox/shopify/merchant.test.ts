import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { SHOP, seedShop } from "./fixtures";
import { onHand } from "./model";
import { startLocalShopify } from "./server";

const local = await startLocalShopify();
afterAll(() => local.close());
const sb = local.sandbox;

type Json = Record<string, unknown>;
type LineJson = {
  id: number;
  quantity: number;
  current_quantity: number;
  fulfillable_quantity: number;
  fulfillment_status: string | null;
  [key: string]: unknown;
};

beforeEach(() => {
  sb.reset();
  sb.createShop(seedShop());
});

function q(sku: string, location = "WH") {
  const shop = sb.shop(SHOP);
  const variant = shop.variantBySku(sku);
  const loc = shop.locationByName(location);
  const level = variant && loc ? shop.level(variant.inventoryItemId, loc.id) : undefined;
  if (!level) throw new Error(`no level ${sku}@${location}`);
  return { ...level.quantities, on_hand: onHand(level.quantities) };
}

function topicsSince(mark: number): string[] {
  return sb
    .shop(SHOP)
    .events.slice(mark)
    .map((e) => e.topic);
}

function lastPayload(topic: string): Json {
  const event = [...sb.shop(SHOP).events].reverse().find((e) => e.topic === topic);
  if (!event) throw new Error(`no ${topic} event`);
  return JSON.parse(event.body) as Json;
}

function order(lines: { sku: string; quantity: number }[]) {
  const payload = sb.checkout(SHOP, { lines, buyer: { email: "buyer@example.com" } });
  return { id: String(payload.id), lines: payload.line_items as LineJson[], payload };
}

function mark(): number {
  return sb.shop(SHOP).events.length;
}

describe("order payloads", () => {
  it("carry the REST order fields, fake PII and no line-item location", () => {
    const { payload } = order([{ sku: "SHIRT-S", quantity: 2 }]);
    const body = lastPayload("orders/create");
    expect(body).toEqual(JSON.parse(JSON.stringify(payload)));
    expect(body).toMatchObject({
      admin_graphql_api_id: `gid://shopify/Order/${body.id}`,
      name: "#1001",
      email: "buyer@example.com",
      cancelled_at: null,
      cancel_reason: null,
      financial_status: "paid",
      fulfillment_status: null,
      source_name: "web",
      test: false,
      currency: "USD",
      customer: {
        email: "buyer@example.com",
        first_name: expect.any(String),
        last_name: expect.any(String),
      },
      shipping_address: { address1: expect.any(String), phone: expect.any(String) },
      refunds: [],
      fulfillments: [],
    });
    expect(String(body.created_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-05:00$/);
    const line = (body.line_items as LineJson[])[0];
    expect(line).toMatchObject({
      admin_graphql_api_id: `gid://shopify/LineItem/${line?.id}`,
      sku: "SHIRT-S",
      title: "Shirt",
      name: "Shirt - S",
      quantity: 2,
      current_quantity: 2,
      fulfillable_quantity: 2,
      fulfillment_status: null,
      price: "20.00",
      requires_shipping: true,
      product_exists: true,
      variant_inventory_management: "shopify",
    });
    expect(line).not.toHaveProperty("location_id");
    expect(typeof line?.variant_id).toBe("number");
    expect(typeof line?.product_id).toBe("number");
  });
});

describe("updated_at", () => {
  it("changes on every order update, even within one second", () => {
    const { id, lines } = order([{ sku: "SHIRT-S", quantity: 3 }]);
    const stamps = [String(lastPayload("orders/updated").updated_at)];
    for (let i = 0; i < 3; i++) {
      sb.fulfillOrder(SHOP, id, { lines: [{ lineItemId: lines[0]?.id, quantity: 1 }] });
      stamps.push(String(lastPayload("orders/updated").updated_at));
    }
    expect(new Set(stamps).size).toBe(4);
    expect([...stamps].sort()).toEqual(stamps);
  });
});

describe("fulfilment", () => {
  it("fulfils everything at the assigned location: committed and on_hand drop", () => {
    const { id } = order([
      { sku: "SHIRT-S", quantity: 2 },
      { sku: "SHIRT-M", quantity: 1 },
    ]);
    const m = mark();
    sb.fulfillOrder(SHOP, id);
    expect(q("SHIRT-S")).toMatchObject({ available: 8, committed: 0, on_hand: 8 });
    expect(q("SHIRT-M")).toMatchObject({ available: 2, committed: 0, on_hand: 2 });
    expect(topicsSince(m)).toEqual([
      "fulfillments/create",
      "inventory_levels/update",
      "inventory_levels/update",
      "orders/fulfilled",
      "orders/updated",
    ]);
    const fulfillment = lastPayload("fulfillments/create");
    const wh = sb.shop(SHOP).locationByName("WH")?.id;
    expect(fulfillment).toMatchObject({
      order_id: Number(id),
      status: "success",
      location_id: wh,
      name: "#1001.1",
      created_at: expect.any(String),
    });
    expect((fulfillment.line_items as Json[]).map((l) => [l.sku, l.quantity])).toEqual([
      ["SHIRT-S", 2],
      ["SHIRT-M", 1],
    ]);
    const updated = lastPayload("orders/updated");
    expect(updated.fulfillment_status).toBe("fulfilled");
    expect((updated.line_items as LineJson[])[0]).toMatchObject({
      fulfillable_quantity: 0,
      fulfillment_status: "fulfilled",
    });
  });

  it("fulfils part of a line, one fulfillment per location", () => {
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 9 }] }); // WH: 1 left
    const { id, lines } = order([
      { sku: "SHIRT-S", quantity: 3 }, // → Store
      { sku: "SHIRT-M", quantity: 2 }, // → WH
    ]);
    const result = sb.fulfillOrder(SHOP, id, {
      lines: [
        { lineItemId: lines[0]?.id, quantity: 1 },
        { lineItemId: lines[1]?.id, quantity: 2 },
      ],
    });
    expect(result.fulfillments.map((f) => f.name)).toEqual(["#1002.1", "#1002.2"]);
    expect(q("SHIRT-S", "Store")).toMatchObject({ available: 1, committed: 2, on_hand: 4 });
    const updated = lastPayload("orders/updated");
    expect(updated.fulfillment_status).toBe("partial");
    expect((updated.line_items as LineJson[])[0]).toMatchObject({
      fulfillable_quantity: 2,
      fulfillment_status: "partial",
    });
    expect(() =>
      sb.fulfillOrder(SHOP, id, { lines: [{ lineItemId: lines[0]?.id, quantity: 5 }] }),
    ).toThrow(/unfulfilled/);
  });
});

describe("fulfillment cancellation", () => {
  it("puts the units back to committed and emits fulfillments/update", () => {
    const { id } = order([{ sku: "SHIRT-S", quantity: 2 }]);
    const { fulfillments } = sb.fulfillOrder(SHOP, id);
    expect(q("SHIRT-S")).toMatchObject({ available: 8, committed: 0, on_hand: 8 });
    const m = mark();
    sb.cancelFulfillment(SHOP, id, String(fulfillments[0]?.id));
    expect(q("SHIRT-S")).toMatchObject({ available: 8, committed: 2, on_hand: 10 });
    expect(topicsSince(m)).toEqual([
      "fulfillments/update",
      "inventory_levels/update",
      "orders/updated",
    ]);
    expect(lastPayload("fulfillments/update")).toMatchObject({
      status: "cancelled",
      name: "#1001.1",
    });
    expect((lastPayload("orders/updated").line_items as LineJson[])[0]).toMatchObject({
      fulfillable_quantity: 2,
      fulfillment_status: null,
    });
    expect(() => sb.cancelFulfillment(SHOP, id, "#1001.1")).toThrow(/already cancelled/);
  });
});

describe("cancel and refunds", () => {
  it("cancels with restock: unfulfilled units return to available", () => {
    const { id, lines } = order([{ sku: "SHIRT-S", quantity: 4 }]);
    sb.fulfillOrder(SHOP, id, { lines: [{ lineItemId: lines[0]?.id, quantity: 1 }] });
    const m = mark();
    sb.cancelOrder(SHOP, id, { reason: "customer" });
    expect(q("SHIRT-S")).toMatchObject({ available: 9, committed: 0, on_hand: 9 });
    expect(topicsSince(m)).toEqual([
      "orders/cancelled",
      "refunds/create",
      "inventory_levels/update",
      "orders/updated",
    ]);
    const cancelled = lastPayload("orders/cancelled");
    expect(cancelled).toMatchObject({
      cancel_reason: "customer",
      cancelled_at: expect.any(String),
    });
    expect((cancelled.line_items as LineJson[])[0]).toMatchObject({
      current_quantity: 1,
      fulfillable_quantity: 0,
    });
    const refund = lastPayload("refunds/create");
    expect(refund).toMatchObject({
      order_id: Number(id),
      restock: true,
      refund_line_items: [
        {
          line_item_id: lines[0]?.id,
          quantity: 3,
          restock_type: "cancel",
          location_id: sb.shop(SHOP).locationByName("WH")?.id,
          subtotal: 60,
          line_item: { id: lines[0]?.id },
        },
      ],
      transactions: [],
    });
    expect(() => sb.cancelOrder(SHOP, id)).toThrow(/cancelled/);
  });

  it("cancels without restock: committed units are released but gone", () => {
    const { id } = order([{ sku: "SHIRT-M", quantity: 2 }]);
    sb.cancelOrder(SHOP, id, { restock: false, reason: "fraud" });
    expect(q("SHIRT-M")).toMatchObject({ available: 1, committed: 0, on_hand: 1 });
    expect((lastPayload("refunds/create").refund_line_items as Json[])[0]?.restock_type).toBe(
      "no_restock",
    );
  });

  it("refunds with return, cancel and no_restock", () => {
    const { id, lines } = order([{ sku: "SHIRT-S", quantity: 6 }]);
    const line = lines[0]?.id;
    sb.fulfillOrder(SHOP, id, { lines: [{ lineItemId: line, quantity: 3 }] });
    expect(q("SHIRT-S")).toMatchObject({ available: 4, committed: 3, on_hand: 7 });

    const m = mark();
    sb.refundOrder(SHOP, id, {
      lines: [{ lineItemId: line, quantity: 1, restockType: "return", location: "Store" }],
    });
    expect(topicsSince(m)).toEqual(["refunds/create", "inventory_levels/update", "orders/updated"]);
    expect(q("SHIRT-S", "Store")).toMatchObject({ available: 5 });

    sb.refundOrder(SHOP, id, { lines: [{ lineItemId: line, quantity: 1, restockType: "cancel" }] });
    expect(q("SHIRT-S")).toMatchObject({ available: 5, committed: 2, on_hand: 7 });

    sb.refundOrder(SHOP, id, {
      lines: [{ lineItemId: line, quantity: 3, restockType: "no_restock" }],
    });
    // 2 unfulfilled units released and gone, then 1 fulfilled unit (no stock change).
    expect(q("SHIRT-S")).toMatchObject({ available: 5, committed: 0, on_hand: 5 });
    const updated = lastPayload("orders/updated");
    expect(updated.financial_status).toBe("partially_refunded");
    expect((updated.line_items as LineJson[])[0]).toMatchObject({
      quantity: 6,
      current_quantity: 1,
      fulfillable_quantity: 0,
    });
    expect(() =>
      sb.refundOrder(SHOP, id, {
        lines: [{ lineItemId: line, quantity: 2, restockType: "return" }],
      }),
    ).toThrow(/refundable/);
  });
});

describe("order edits", () => {
  it("adds and removes units, committing and releasing stock", () => {
    const { id, lines } = order([{ sku: "SHIRT-S", quantity: 2 }]);
    const m = mark();
    const result = sb.editOrder(SHOP, id, {
      changes: [{ lineItemId: lines[0]?.id, quantity: 1 }],
      additions: [{ sku: "SHIRT-M", quantity: 2 }],
    });
    expect(q("SHIRT-S")).toMatchObject({ available: 9, committed: 1 });
    expect(q("SHIRT-M")).toMatchObject({ available: 1, committed: 2 });
    expect(topicsSince(m)).toEqual([
      "orders/edited",
      "inventory_levels/update",
      "inventory_levels/update",
      "orders/updated",
    ]);
    const newLine = (result.order.line_items as LineJson[])[1];
    expect(lastPayload("orders/edited")).toEqual({
      order_edit: {
        id: expect.any(Number),
        app_id: null,
        created_at: expect.any(String),
        committed_at: expect.any(String),
        notify_customer: false,
        order_id: Number(id),
        staff_note: "",
        user_id: null,
        line_items: {
          additions: [{ id: newLine?.id, delta: 2 }],
          removals: [{ id: lines[0]?.id, delta: 1 }],
        },
        discounts: { additions: [], removals: [] },
        shipping_lines: { additions: [], removals: [] },
      },
    });
    sb.editOrder(SHOP, id, { changes: [{ lineItemId: lines[0]?.id, quantity: 3 }] });
    expect(q("SHIRT-S")).toMatchObject({ available: 7, committed: 3 });
    expect(() => sb.editOrder(SHOP, id, { additions: [{ sku: "SHIRT-M", quantity: 5 }] })).toThrow(
      /stock/,
    );
  });
});

describe("inventory and catalog actions", () => {
  it("adjusts and sets inventory as the admin does, with exact inventory_levels/update payloads", () => {
    const shop = sb.shop(SHOP);
    const variant = shop.variantBySku("SHIRT-S");
    const wh = shop.locationByName("WH");
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", location: "WH", delta: -4 });
    const payload = lastPayload("inventory_levels/update");
    expect(Object.keys(payload).sort()).toEqual(
      [
        "admin_graphql_api_id",
        "available",
        "inventory_item_id",
        "location_id",
        "updated_at",
      ].sort(),
    );
    expect(payload).toMatchObject({
      inventory_item_id: variant?.inventoryItemId,
      location_id: wh?.id,
      available: 6,
      admin_graphql_api_id: `gid://shopify/InventoryLevel/${wh?.id}?inventory_item_id=${variant?.inventoryItemId}`,
    });
    expect(String(payload.updated_at)).toMatch(/-05:00$/);
    sb.setInventory(SHOP, { sku: "SHIRT-S", location: "Store", name: "on_hand", quantity: 2 });
    expect(q("SHIRT-S", "Store")).toMatchObject({ available: 1, damaged: 1, on_hand: 2 });
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", location: "WH", name: "damaged", delta: 2 });
    expect(q("SHIRT-S")).toMatchObject({ available: 6, damaged: 2, on_hand: 8 });
    expect(() => sb.adjustInventory(SHOP, { sku: "SHIRT-M", location: "Store", delta: 1 })).toThrow(
      /not stocked/,
    );
    sb.activateInventory(SHOP, { sku: "SHIRT-M", location: "Store", quantities: 3 });
    expect(topicsSince(mark() - 1)).toEqual(["inventory_levels/connect"]);
    expect(q("SHIRT-M", "Store").available).toBe(3);
  });

  it("creates, updates and deletes products with their webhooks", () => {
    const m = mark();
    const product = sb.createProduct(SHOP, {
      title: "Cap",
      variants: [{ sku: "CAP-1", inventory: { WH: 5 } }, { sku: "CAP-2" }],
    });
    expect(topicsSince(m)).toEqual([
      "products/create",
      "inventory_items/create",
      "inventory_items/create",
    ]);
    const variants = product.variants as Json[];
    expect(variants[0]).toMatchObject({
      product_id: product.id,
      sku: "CAP-1",
      inventory_quantity: 5,
      inventory_management: "shopify",
      inventory_policy: "deny",
      inventory_item_id: expect.any(Number),
      updated_at: expect.any(String),
    });
    expect(lastPayload("inventory_items/create")).toMatchObject({
      sku: "CAP-2",
      tracked: true,
      admin_graphql_api_id: expect.stringMatching(/^gid:\/\/shopify\/InventoryItem\//),
    });

    const m2 = mark();
    sb.updateVariant(SHOP, String(variants[0]?.id), { sku: "CAP-ONE" });
    expect(topicsSince(m2)).toEqual(["products/update", "inventory_items/update"]);
    expect(lastPayload("inventory_items/update")).toMatchObject({
      id: variants[0]?.inventory_item_id,
      sku: "CAP-ONE",
    });
    const m3 = mark();
    sb.updateVariant(SHOP, "CAP-ONE", { price: "9.00" });
    expect(topicsSince(m3)).toEqual(["products/update"]);

    const m4 = mark();
    sb.deleteProduct(SHOP, String(product.id));
    expect(topicsSince(m4)).toEqual([
      "products/delete",
      "inventory_items/delete",
      "inventory_items/delete",
    ]);
    expect(lastPayload("products/delete")).toEqual({ id: product.id });
    expect(lastPayload("inventory_items/delete")).toEqual({ id: variants[1]?.inventory_item_id });
    expect(sb.shop(SHOP).variantBySku("CAP-ONE")).toBeUndefined();
  });

  it("creates and deactivates locations; checkout skips inactive ones", () => {
    const m = mark();
    const created = sb.createLocation(SHOP, { name: "Popup" });
    sb.activateInventory(SHOP, { sku: "SHIRT-M", locationId: String(created.id), quantities: 5 });
    sb.updateLocation(SHOP, String(created.id), { isActive: false });
    expect(topicsSince(m)).toEqual([
      "locations/create",
      "inventory_levels/connect",
      "locations/update",
      "locations/deactivate",
    ]);
    sb.updateLocation(SHOP, String(sb.shop(SHOP).locationByName("WH")?.id), { isActive: false });
    expect(() => sb.checkout(SHOP, { lines: [{ sku: "SHIRT-M", quantity: 1 }] })).toThrow(/stock/);
  });

  it("keeps order lines of deleted products (product_exists false)", () => {
    const { id } = order([{ sku: "SHIRT-M", quantity: 1 }]);
    const productId = sb.shop(SHOP).variantBySku("SHIRT-M")?.productId;
    sb.deleteProduct(SHOP, String(productId));
    const { order: payload } = sb.fulfillOrder(SHOP, id);
    expect((payload.line_items as Json[])[0]).toMatchObject({
      product_exists: false,
      sku: "SHIRT-M",
    });
  });
});

describe("control API over HTTP", () => {
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${local.url}/_control/${path}`, {
      method,
      headers: { "Content-Type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };

  it("runs the order lifecycle and dumps the state", async () => {
    const checkout = await fetch(`${local.url}/${SHOP}/storefront/checkout`, {
      method: "POST",
      body: JSON.stringify({ lines: [{ sku: "SHIRT-S", quantity: 2 }] }),
    });
    const { order: created } = (await checkout.json()) as {
      order: { id: number; line_items: LineJson[] };
    };
    const base = `shops/${SHOP}/orders/${encodeURIComponent("#1001")}`;
    expect(
      (
        await control("POST", `${base}/fulfill`, {
          lines: [{ lineItemId: created.line_items[0]?.id, quantity: 1 }],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await control("POST", `${base}/refund`, {
          lines: [{ lineItemId: created.line_items[0]?.id, quantity: 1, restockType: "return" }],
        })
      ).status,
    ).toBe(201);
    expect((await control("POST", `${base}/cancel`, {})).status).toBe(200);
    expect(
      (await control("POST", `shops/${SHOP}/inventory/adjust`, { sku: "SHIRT-M", delta: 1 }))
        .status,
    ).toBe(200);
    const state = await control("GET", `shops/${SHOP}/state`);
    const products = state.body.products as {
      variants: { sku: string; inventoryItem: { levels: Json[] } }[];
    }[];
    expect(products[0]?.variants[0]?.inventoryItem.levels[0]).toMatchObject({
      location: "WH",
      available: 10,
      committed: 0,
      on_hand: 10,
    });
    const orders = state.body.orders as Json[];
    expect(orders[0]).toMatchObject({ name: "#1001", cancelReason: "customer" });
    expect((orders[0]?.fulfillments as Json[]).length).toBe(1);
    expect((orders[0]?.refunds as Json[]).length).toBe(2);
    const events = await control("GET", `shops/${SHOP}/events?topic=refunds/create`);
    expect((events.body.events as Json[]).length).toBe(2);
  });

  it("creates shops, reports errors and resets", async () => {
    const created = await control("POST", "shops", {
      domain: "second.myshopify.com",
      accessToken: "t2",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      domain: "second.myshopify.com",
      graphqlUrl: `${local.url}/second.myshopify.com/admin/api/2026-10/graphql.json`,
    });
    expect((await control("POST", "shops", { domain: "second.myshopify.com" })).status).toBe(400);
    expect((await control("GET", "shops/nope.myshopify.com/state")).status).toBe(404);
    expect((await control("POST", `shops/${SHOP}/orders/999/fulfill`, {})).status).toBe(404);
    expect((await control("PUT", `shops/${SHOP}/state`)).status).toBe(405);
    const listed = await control("GET", "shops");
    expect((listed.body.shops as Json[]).map((s) => s.domain)).toEqual([
      SHOP,
      "second.myshopify.com",
    ]);
    await control("POST", "reset", {});
    expect((await control("GET", "shops")).body.shops).toEqual([]);
  });
});
