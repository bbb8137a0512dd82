import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  setQuantitiesMutation,
  moveQuantitiesMutation,
} from "../../../app/channels/shopify/operations";
import { SHOP, key, seedShop } from "./fixtures";
import { startLocalShopify } from "./server";
import { LEVEL_HISTORY_LIMIT } from "./state";

const local = await startLocalShopify();
afterAll(() => local.close());
const sb = local.sandbox;

beforeEach(() => {
  sb.reset();
  sb.createShop(seedShop());
});

const ids = () => {
  const shop = sb.shop(SHOP);
  const [wh, store] = shop.orderedLocations();
  const item = shop.itemOfVariant(shop.variantBySku("SHIRT-S")!);
  return { shop, wh: wh!.id, store: store!.id, item: item.id };
};

describe("level history", () => {
  it("records every change of available with its time, cause, value and delta", () => {
    const { wh, item } = ids();
    const before = Date.now();
    const order = sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 2 }] }) as {
      id: number;
      created_at: string;
    };
    sb.fulfillOrder(SHOP, String(order.id)); // committed only: available unchanged
    const second = sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 3 }] }) as {
      id: number;
    };
    sb.cancelOrder(SHOP, String(second.id), { restock: true });
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: 5 });
    sb.setInventory(SHOP, { sku: "SHIRT-S", name: "available", quantity: 4 });
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", name: "damaged", delta: 1 }); // not available

    const history = sb.levelHistory(SHOP);
    expect(history.map((e) => [e.cause, e.available, e.delta])).toEqual([
      ["checkout", 8, -2],
      ["checkout", 5, -3],
      ["cancel", 8, 3],
      ["merchant_adjust", 13, 5],
      ["merchant_set", 4, -9],
    ]);
    for (const entry of history) {
      expect(entry).toMatchObject({ inventoryItemId: item, locationId: wh, sku: "SHIRT-S" });
      expect(entry.at).toBeGreaterThanOrEqual(before);
    }
    // The checkout's entry carries the order's own creation instant.
    const created = sb.shop(SHOP).orders.get(order.id)!.createdAt.getTime();
    expect(history[0]!.at).toBe(created);
    const times = history.map((e) => e.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("records app mutations (set, move) and leaves unchanged levels out", async () => {
    const { wh, store, item } = ids();
    const itemGid = `gid://shopify/InventoryItem/${item}`;
    const set = await local.graphql(SHOP, setQuantitiesMutation(key()), {
      input: {
        name: "available",
        reason: "correction",
        quantities: [
          {
            inventoryItemId: itemGid,
            locationId: `gid://shopify/Location/${wh}`,
            quantity: 7,
            changeFromQuantity: 10,
          },
          {
            inventoryItemId: itemGid,
            locationId: `gid://shopify/Location/${store}`,
            quantity: 4,
            changeFromQuantity: 4,
          },
        ],
      },
    });
    expect(set.status).toBe(200);
    const move = await local.graphql(SHOP, moveQuantitiesMutation(key()), {
      input: {
        reason: "reservation_created",
        referenceDocumentUri: "gid://stockguard/Order/1",
        changes: [
          {
            inventoryItemId: itemGid,
            quantity: 2,
            from: {
              locationId: `gid://shopify/Location/${wh}`,
              name: "available",
              changeFromQuantity: 7,
            },
            to: {
              locationId: `gid://shopify/Location/${wh}`,
              name: "reserved",
              changeFromQuantity: 0,
              ledgerDocumentUri: "stockguard://order/1",
            },
          },
        ],
      },
    });
    expect(move.body.errors).toBeUndefined();
    expect(sb.levelHistory(SHOP).map((e) => [e.cause, e.locationId, e.available, e.delta])).toEqual(
      [
        ["api", wh, 7, -3],
        ["api", wh, 5, -2],
      ],
    );
  });

  it("filters by time and SKU, and serves the history over the control API", async () => {
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-M", quantity: 1 }] });
    await new Promise((r) => setTimeout(r, 5));
    const since = Date.now();
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-M", quantity: 1 }] });
    expect(sb.levelHistory(SHOP, { since }).map((e) => e.sku)).toEqual(["SHIRT-S", "SHIRT-M"]);
    expect(sb.levelHistory(SHOP, { sku: "SHIRT-M" }).map((e) => e.available)).toEqual([2, 1]);
    const response = await fetch(
      `${local.url}/_control/shops/${SHOP}/levels/history?since=${since}&sku=SHIRT-M`,
    );
    const body = (await response.json()) as { history: { available: number; cause: string }[] };
    expect(body.history.map((e) => [e.cause, e.available])).toEqual([["checkout", 1]]);
    const bad = await fetch(`${local.url}/_control/shops/${SHOP}/levels/history?since=soon`);
    expect(bad.status).toBe(400);
  });

  it("records stocking at a new location and is emptied by reset", () => {
    const shop = sb.shop(SHOP);
    const location = sb.createLocation(SHOP, { name: "Pop-up" }) as { id: string };
    sb.activateInventory(SHOP, { sku: "SHIRT-M", location: "Pop-up", quantities: 6 });
    expect(sb.levelHistory(SHOP).map((e) => [e.cause, e.available, e.sku])).toEqual([
      ["activate", 6, "SHIRT-M"],
    ]);
    expect(location).toBeDefined();
    expect(shop.levelHistoryDropped).toBe(0);
    sb.reset();
    sb.createShop(seedShop());
    expect(sb.levelHistory(SHOP)).toEqual([]);
  });

  it("stays cheap at bench rates and bounded", () => {
    const shop = sb.shop(SHOP);
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: 1 });
    // 20,000 merchant actions (each also emits a webhook event) well within a second or two.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(shop.levelHistory).toHaveLength(20_000);
    expect(LEVEL_HISTORY_LIMIT).toBeGreaterThanOrEqual(100_000);

    // Past the limit the oldest tenth goes, counted; the newest entries stay.
    shop.levelHistoryLimit = 100;
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: 1 });
    expect(shop.levelHistory.length).toBeLessThanOrEqual(100);
    expect(shop.levelHistoryDropped).toBe(20_001 - shop.levelHistory.length);
    expect(shop.levelHistory.at(-1)!.available).toBe(10 + 20_001);
  });
});
