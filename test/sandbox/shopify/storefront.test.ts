import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { SHOP, seedShop } from "./fixtures";
import { onHand } from "./model";
import { startLocalShopify } from "./server";

const local = await startLocalShopify();
afterAll(() => local.close());
const sb = local.sandbox;

beforeEach(() => {
  sb.reset();
  sb.createShop(
    seedShop({
      products: [
        ...(seedShop().products ?? []),
        {
          title: "Mug",
          variants: [
            { sku: "MUG", price: "8.50", inventoryPolicy: "CONTINUE", inventory: { WH: 1 } },
          ],
        },
        { title: "Gift card", variants: [{ sku: "GIFT", tracked: false }] },
      ],
    }),
  );
});

function checkout(body: unknown) {
  return fetch(`${local.url}/${SHOP}/storefront/checkout`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function levelBySku(sku: string, locationName: string) {
  const shop = sb.shop(SHOP);
  const variant = shop.variantBySku(sku);
  const location = shop.locationByName(locationName);
  if (!variant || !location) throw new Error("bad fixture");
  const level = shop.level(variant.inventoryItemId, location.id);
  return level ? { ...level.quantities, on_hand: onHand(level.quantities) } : null;
}

type OrderBody = {
  order: {
    id: number;
    name: string;
    line_items: { id: number; sku: string; quantity: number; fulfillable_quantity: number }[];
  };
};

describe("storefront checkout", () => {
  it("sells from the first location with enough stock, commits it and emits the order topics", async () => {
    const response = await checkout({
      lines: [{ sku: "SHIRT-S", quantity: 2 }],
      buyer: { email: "jane@example.com" },
    });
    expect(response.status).toBe(201);
    const { order } = (await response.json()) as OrderBody;
    expect(order.name).toBe("#1001");
    expect(order.line_items[0]).toMatchObject({
      sku: "SHIRT-S",
      quantity: 2,
      fulfillable_quantity: 2,
    });
    expect(levelBySku("SHIRT-S", "WH")).toMatchObject({ available: 8, committed: 2, on_hand: 10 });
    expect(sb.shop(SHOP).events.map((e) => e.topic)).toEqual([
      "orders/create",
      "inventory_levels/update",
      "orders/updated",
    ]);
    const second = (await (
      await checkout({ lines: [{ sku: "SHIRT-S", quantity: 8 }] })
    ).json()) as OrderBody;
    expect(second.order.name).toBe("#1002");
    expect(second.order.id).toBeGreaterThan(order.id);
  });

  it("falls through to the next location and refuses what no location can cover", async () => {
    await checkout({ lines: [{ sku: "SHIRT-S", quantity: 9 }] });
    // WH has 1 left, Store has 4: a line of 3 goes to Store.
    await checkout({ lines: [{ sku: "SHIRT-S", quantity: 3 }] });
    expect(levelBySku("SHIRT-S", "Store")).toMatchObject({ available: 1, committed: 3 });
    const before = sb.shop(SHOP).snapshot();
    const refused = await checkout({
      lines: [
        { sku: "SHIRT-M", quantity: 1 },
        { sku: "SHIRT-S", quantity: 2 },
      ],
    });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      error: "out_of_stock",
      lines: [{ index: 1, sku: "SHIRT-S", requested: 2, available: 1 }],
    });
    expect(sb.shop(SHOP).snapshot()).toEqual(before);
  });

  it("counts repeated lines of one variant together", async () => {
    const response = await checkout({
      lines: [
        { sku: "SHIRT-M", quantity: 2 },
        { sku: "SHIRT-M", quantity: 2 },
      ],
    });
    expect(response.status).toBe(409);
    expect(levelBySku("SHIRT-M", "WH")).toMatchObject({ available: 3, committed: 0 });
  });

  it("lets CONTINUE variants oversell and does not touch untracked items", async () => {
    const response = await checkout({
      lines: [
        { sku: "MUG", quantity: 3 },
        { sku: "GIFT", quantity: 5 },
      ],
    });
    expect(response.status).toBe(201);
    expect(levelBySku("MUG", "WH")).toMatchObject({ available: -2, committed: 3 });
    expect(levelBySku("GIFT", "WH")).toMatchObject({ available: 0, committed: 0 });
  });

  it("accepts variant GIDs and rejects unknown variants and bad quantities", async () => {
    const variant = sb.shop(SHOP).variantBySku("SHIRT-M");
    const ok = await checkout({
      lines: [{ variantId: `gid://shopify/ProductVariant/${variant?.id}`, quantity: 1 }],
    });
    expect(ok.status).toBe(201);
    const unknown = await checkout({ lines: [{ sku: "NOPE", quantity: 1 }] });
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toMatchObject({ error: "unknown_variant" });
    expect((await checkout({ lines: [{ sku: "SHIRT-M", quantity: 0 }] })).status).toBe(400);
    expect((await checkout({ lines: [] })).status).toBe(400);
  });

  it("never sells more than available under 200 concurrent checkouts", async () => {
    // SHIRT-S: 10 at WH + 4 at Store = 14 units; 200 buyers of 1 or 2 units race for them.
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        checkout({ lines: [{ sku: "SHIRT-S", quantity: 1 + (i % 2) }] }),
      ),
    );
    let sold = 0;
    for (const response of responses) {
      expect([201, 409]).toContain(response.status);
      if (response.status === 201) {
        const { order } = (await response.json()) as OrderBody;
        sold += order.line_items[0]?.quantity ?? 0;
      } else await response.arrayBuffer();
    }
    const wh = levelBySku("SHIRT-S", "WH");
    const store = levelBySku("SHIRT-S", "Store");
    expect(wh?.available).toBeGreaterThanOrEqual(0);
    expect(store?.available).toBeGreaterThanOrEqual(0);
    expect((wh?.committed ?? 0) + (store?.committed ?? 0)).toBe(sold);
    expect(sold).toBeGreaterThanOrEqual(13);
    expect(sold).toBeLessThanOrEqual(14);
    expect((wh?.available ?? 0) + (store?.available ?? 0)).toBe(14 - sold);
    expect(sb.shop(SHOP).orders.size).toBe(responses.filter((r) => r.status === 201).length);
  });

  it("lists products with sellable quantities", async () => {
    const response = await fetch(`${local.url}/${SHOP}/storefront/products`);
    const body = (await response.json()) as {
      products: { variants: { sku: string; available: number }[] }[];
    };
    expect(body.products[0]?.variants).toEqual([
      expect.objectContaining({ sku: "SHIRT-S", available: 14 }),
      expect.objectContaining({ sku: "SHIRT-M", available: 3 }),
    ]);
  });
});
