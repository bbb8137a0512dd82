import fc from "fast-check";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  adjustQuantitiesMutation,
  moveQuantitiesMutation,
  setQuantitiesMutation,
  type MutationPayload,
} from "../../../app/channels/shopify/operations";
import { SHOP, key, manyProducts, seedShop } from "./fixtures";
import { onHand, type StateName } from "./model";
import { startLocalShopify } from "./server";

const local = await startLocalShopify();
afterAll(() => local.close());

const sb = local.sandbox;
let items: string[] = [];
let wh = "";
let store = "";

beforeEach(() => {
  sb.reset();
  sb.timeScale = 1;
  sb.createShop(seedShop({ products: [...(seedShop().products ?? []), ...manyProducts(300, 5)] }));
  const shop = sb.shop(SHOP);
  items = [...shop.items.values()].map((i) => `gid://shopify/InventoryItem/${i.id}`);
  const [first, second] = shop.orderedLocations();
  wh = `gid://shopify/Location/${first?.id}`;
  store = `gid://shopify/Location/${second?.id}`;
});

function level(item: string, location: string) {
  const shop = sb.shop(SHOP);
  const l = shop.level(Number(item.split("/").pop()), Number(location.split("/").pop()));
  if (!l) throw new Error("no level");
  return { ...l.quantities, on_hand: onHand(l.quantities) };
}

type Result = Record<
  "inventorySetQuantities" | "inventoryAdjustQuantities" | "inventoryMoveQuantities",
  MutationPayload
>;

async function set(input: Record<string, unknown>, idempotencyKey = key()) {
  return local.graphql<Result>(SHOP, setQuantitiesMutation(idempotencyKey), { input });
}
async function adjust(input: Record<string, unknown>, idempotencyKey = key()) {
  return local.graphql<Result>(SHOP, adjustQuantitiesMutation(idempotencyKey), { input });
}
async function move(input: Record<string, unknown>, idempotencyKey = key()) {
  return local.graphql<Result>(SHOP, moveQuantitiesMutation(idempotencyKey), { input });
}

const base = { reason: "correction", referenceDocumentUri: "gid://stockguard/PushBatch/1" };

describe("inventorySetQuantities", () => {
  it("sets available with compare-and-set and reports available and on_hand changes", async () => {
    const { body } = await set({
      ...base,
      name: "available",
      quantities: [
        { inventoryItemId: items[0], locationId: wh, quantity: 7, changeFromQuantity: 10 },
      ],
    });
    const payload = body.data?.inventorySetQuantities;
    expect(payload?.userErrors).toEqual([]);
    expect(payload?.inventoryAdjustmentGroup?.changes).toEqual([
      {
        name: "available",
        delta: -3,
        quantityAfterChange: 7,
        item: { id: items[0] },
        location: { id: wh },
      },
      {
        name: "on_hand",
        delta: -3,
        quantityAfterChange: 7,
        item: { id: items[0] },
        location: { id: wh },
      },
    ]);
    expect(level(items[0] ?? "", wh)).toMatchObject({ available: 7, on_hand: 7 });
  });

  it("sets on_hand by moving available by the difference", async () => {
    const { body } = await set({
      ...base,
      name: "on_hand",
      quantities: [
        { inventoryItemId: items[0], locationId: store, quantity: 8, changeFromQuantity: 5 },
      ],
    });
    expect(body.data?.inventorySetQuantities.userErrors).toEqual([]);
    expect(level(items[0] ?? "", store)).toMatchObject({ available: 7, damaged: 1, on_hand: 8 });
  });

  it("applies nothing when one changeFromQuantity is stale", async () => {
    const before = sb.shop(SHOP).snapshot();
    const quantities = [0, 1, 2, 3].map((i) => ({
      inventoryItemId: items[i + 2],
      locationId: wh,
      quantity: 1,
      changeFromQuantity: i === 3 ? 4 : 5,
    }));
    const { body } = await set({ ...base, name: "available", quantities });
    const payload = body.data?.inventorySetQuantities;
    expect(payload?.inventoryAdjustmentGroup).toBeNull();
    expect(payload?.userErrors).toEqual([
      {
        code: "CHANGE_FROM_QUANTITY_STALE",
        field: ["input", "quantities", "3", "changeFromQuantity"],
        message: expect.any(String),
      },
    ]);
    expect(sb.shop(SHOP).snapshot()).toEqual(before);
    expect(sb.shop(SHOP).mutationLog).toHaveLength(0);
    expect(sb.shop(SHOP).events).toHaveLength(0);
  });

  it("distinguishes an omitted changeFromQuantity (error) from an explicit null (no check)", async () => {
    const omitted = await set({
      ...base,
      name: "available",
      quantities: [{ inventoryItemId: items[0], locationId: wh, quantity: 1 }],
    });
    expect(omitted.body.data).toBeUndefined();
    expect(omitted.body.errors).toEqual([
      {
        message: "InventoryQuantityInput must include the following argument: changeFromQuantity",
        path: ["inventorySetQuantities"],
        extensions: { code: "INVALID_FIELD_ARGUMENTS" },
      },
    ]);
    expect(level(items[0] ?? "", wh).available).toBe(10);

    const explicitNull = await set({
      ...base,
      name: "available",
      quantities: [
        { inventoryItemId: items[0], locationId: wh, quantity: 1, changeFromQuantity: null },
      ],
    });
    expect(explicitNull.body.data?.inventorySetQuantities.userErrors).toEqual([]);
    expect(level(items[0] ?? "", wh).available).toBe(1);
  });

  it("applies the same rule to literal arguments in the document", async () => {
    const doc = (extra: string) => `mutation {
      inventorySetQuantities(input: { name: "available", reason: "correction", quantities: [
        { inventoryItemId: "${items[0]}", locationId: "${wh}", quantity: 2${extra} }
      ] }) @idempotent(key: "${key()}") { userErrors { code } }
    }`;
    const omitted = await local.graphql(SHOP, doc(""));
    expect(omitted.body.errors?.[0]?.extensions?.code).toBe("INVALID_FIELD_ARGUMENTS");
    const nulled = await local.graphql(SHOP, doc(", changeFromQuantity: null"));
    expect(nulled.body.errors).toBeUndefined();
    expect(level(items[0] ?? "", wh).available).toBe(2);
  });

  it("requires @idempotent", async () => {
    const { body } = await local.graphql(
      SHOP,
      `mutation($input: InventorySetQuantitiesInput!) {
        inventorySetQuantities(input: $input) { userErrors { code } }
      }`,
      {
        input: {
          ...base,
          name: "available",
          quantities: [
            { inventoryItemId: items[0], locationId: wh, quantity: 1, changeFromQuantity: null },
          ],
        },
      },
    );
    expect(body.errors).toEqual([
      {
        message: "The @idempotent directive is required for this mutation.",
        path: ["inventorySetQuantities"],
        extensions: { code: "BAD_REQUEST" },
      },
    ]);
    expect(level(items[0] ?? "", wh).available).toBe(10);
  });

  it("accepts the idempotency key as a variable too", async () => {
    const { body } = await local.graphql<Result>(
      SHOP,
      `mutation($input: InventorySetQuantitiesInput!, $key: String!) {
        inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { code } }
      }`,
      {
        key: key(),
        input: {
          ...base,
          name: "available",
          quantities: [
            { inventoryItemId: items[0], locationId: wh, quantity: 4, changeFromQuantity: 10 },
          ],
        },
      },
    );
    expect(body.data?.inventorySetQuantities.userErrors).toEqual([]);
    expect(level(items[0] ?? "", wh).available).toBe(4);
  });

  it("replays a key with the stored payload and no second effect; reports a mismatch", async () => {
    const k = key();
    const input = {
      ...base,
      name: "available",
      quantities: [
        { inventoryItemId: items[0], locationId: wh, quantity: 6, changeFromQuantity: 10 },
      ],
    };
    const first = await set(input, k);
    // Someone else changes the level in between; the replay must not re-apply or go stale.
    sb.adjustInventory(SHOP, { inventoryItemId: items[0], locationId: wh, delta: 2 });
    const replay = await set(input, k);
    expect(replay.body.data).toEqual(first.body.data);
    expect(level(items[0] ?? "", wh).available).toBe(8);
    expect(sb.shop(SHOP).mutationLog).toHaveLength(1);

    const mismatch = await set({ ...input, reason: "other" }, k);
    expect(mismatch.body.data?.inventorySetQuantities).toEqual({
      inventoryAdjustmentGroup: null,
      userErrors: [
        { code: "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", field: null, message: expect.any(String) },
      ],
    });
    expect(sb.shop(SHOP).mutationLog).toHaveLength(1);
  });

  it("forgets keys after the (scaled) 24 h retention", async () => {
    const k = key();
    const input = {
      ...base,
      name: "available",
      quantities: [
        { inventoryItemId: items[0], locationId: wh, quantity: 6, changeFromQuantity: null },
      ],
    };
    sb.timeScale = 1e-6; // 24 h × 1e-6 = 86 ms
    await set(input, k);
    sb.adjustInventory(SHOP, { inventoryItemId: items[0], locationId: wh, delta: 2 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    await set(input, k);
    expect(level(items[0] ?? "", wh).available).toBe(6);
    expect(sb.shop(SHOP).mutationLog).toHaveLength(2);
  });

  it("accepts 250 quantities and rejects 251 as a top-level error", async () => {
    const entries = (n: number) =>
      items.slice(2, 2 + n).map((inventoryItemId) => ({
        inventoryItemId,
        locationId: wh,
        quantity: 3,
        changeFromQuantity: 5,
      }));
    const ok = await set({ ...base, name: "available", quantities: entries(250) });
    expect(ok.body.data?.inventorySetQuantities.userErrors).toEqual([]);
    expect(sb.shop(SHOP).mutationLog[0]?.changes).toHaveLength(500);
    const tooMany = await set({ ...base, name: "available", quantities: entries(251) });
    expect(tooMany.body.errors?.[0]).toMatchObject({
      message: "The input array size of 251 is greater than the maximum allowed of 250.",
      extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" },
    });
    expect(sb.shop(SHOP).mutationLog).toHaveLength(1);
  });

  it("rejects a repeated (item, location) pair", async () => {
    const entry = {
      inventoryItemId: items[0],
      locationId: wh,
      quantity: 3,
      changeFromQuantity: null,
    };
    const { body } = await set({ ...base, name: "available", quantities: [entry, entry] });
    expect(body.data?.inventorySetQuantities.userErrors).toEqual([
      {
        code: "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
        field: ["input", "quantities", "1"],
        message: expect.any(String),
      },
    ]);
    expect(level(items[0] ?? "", wh).available).toBe(10);
  });

  it("validates name, reason, ids, stocking and bounds", async () => {
    const q = (over: Record<string, unknown>) => ({
      inventoryItemId: items[1],
      locationId: wh,
      quantity: 1,
      changeFromQuantity: null,
      ...over,
    });
    const codes = async (input: Record<string, unknown>) =>
      (await set(input)).body.data?.inventorySetQuantities.userErrors.map((e) => e.code);
    expect(await codes({ ...base, name: "committed", quantities: [q({})] })).toEqual([
      "INVALID_NAME",
    ]);
    expect(
      await codes({ ...base, reason: "because", name: "available", quantities: [q({})] }),
    ).toEqual(["INVALID_REASON"]);
    expect(
      await codes({
        ...base,
        name: "available",
        quantities: [q({ inventoryItemId: "gid://shopify/InventoryItem/1" })],
      }),
    ).toEqual(["INVALID_INVENTORY_ITEM"]);
    expect(
      await codes({
        ...base,
        name: "available",
        quantities: [q({ locationId: "gid://shopify/Location/1" })],
      }),
    ).toEqual(["INVALID_LOCATION"]);
    expect(
      await codes({ ...base, name: "available", quantities: [q({ locationId: store })] }),
    ).toEqual(["ITEM_NOT_STOCKED_AT_LOCATION"]);
    expect(
      await codes({ ...base, name: "available", quantities: [q({ quantity: 1_000_000_001 })] }),
    ).toEqual(["INVALID_QUANTITY_TOO_HIGH"]);
    expect(
      await codes({ ...base, name: "available", quantities: [q({ quantity: -1_000_000_001 })] }),
    ).toEqual(["INVALID_QUANTITY_TOO_LOW"]);
    expect(sb.shop(SHOP).mutationLog).toHaveLength(0);
  });

  it("returns a null group when nothing changes, and logs the call", async () => {
    const { body } = await set({
      ...base,
      name: "available",
      quantities: [
        { inventoryItemId: items[0], locationId: wh, quantity: 10, changeFromQuantity: 10 },
      ],
    });
    expect(body.data?.inventorySetQuantities).toEqual({
      inventoryAdjustmentGroup: null,
      userErrors: [],
    });
    expect(sb.shop(SHOP).mutationLog[0]?.changes).toEqual([]);
    expect(sb.shop(SHOP).events).toHaveLength(0);
  });

  it("needs write_inventory", async () => {
    sb.reset();
    sb.createShop(seedShop({ accessScopes: ["read_inventory"] }));
    const { body } = await set({
      ...base,
      name: "available",
      quantities: [
        {
          inventoryItemId: "gid://shopify/InventoryItem/1",
          locationId: wh,
          quantity: 1,
          changeFromQuantity: null,
        },
      ],
    });
    expect(body.errors?.[0]?.extensions?.code).toBe("ACCESS_DENIED");
  });
});

describe("inventoryAdjustQuantities", () => {
  it("adjusts available (may go negative) and emits inventory_levels/update", async () => {
    const { body } = await adjust({
      ...base,
      name: "available",
      changes: [{ inventoryItemId: items[1], locationId: wh, delta: -5, changeFromQuantity: 3 }],
    });
    expect(body.data?.inventoryAdjustQuantities.userErrors).toEqual([]);
    expect(level(items[1] ?? "", wh)).toMatchObject({ available: -2, on_hand: -2 });
    const events = sb.shop(SHOP).events;
    expect(events.map((e) => e.topic)).toEqual(["inventory_levels/update"]);
    expect(events[0]?.payload).toMatchObject({ available: -2 });
  });

  it("requires changeFromQuantity on every change", async () => {
    const { body } = await adjust({
      ...base,
      name: "available",
      changes: [
        { inventoryItemId: items[0], locationId: wh, delta: 1, changeFromQuantity: null },
        { inventoryItemId: items[1], locationId: wh, delta: 1 },
      ],
    });
    expect(body.errors?.[0]).toMatchObject({
      message: "InventoryChangeInput must include the following argument: changeFromQuantity",
      extensions: { code: "INVALID_FIELD_ARGUMENTS" },
    });
    expect(level(items[0] ?? "", wh).available).toBe(10);
  });

  it("enforces quantity names and ledger documents", async () => {
    const change = (over: Record<string, unknown> = {}) => ({
      inventoryItemId: items[0],
      locationId: wh,
      delta: 1,
      changeFromQuantity: null,
      ...over,
    });
    const codes = async (name: string, over: Record<string, unknown> = {}) =>
      (
        await adjust({ ...base, name, changes: [change(over)] })
      ).body.data?.inventoryAdjustQuantities.userErrors.map((e) => e.code);
    expect(await codes("committed")).toEqual(["INVALID_QUANTITY_NAME"]);
    expect(await codes("on_hand")).toEqual(["INVALID_QUANTITY_NAME"]);
    expect(await codes("available", { ledgerDocumentUri: "app://x/1" })).toEqual([
      "INVALID_AVAILABLE_DOCUMENT",
    ]);
    expect(await codes("damaged")).toEqual(["INVALID_QUANTITY_DOCUMENT"]);
    expect(await codes("damaged", { ledgerDocumentUri: "gid://shopify/Order/1" })).toEqual([
      "INTERNAL_LEDGER_DOCUMENT",
    ]);
    expect(await codes("damaged", { delta: -1 })).toContain("INVALID_QUANTITY_NEGATIVE");
    expect(await codes("available", { changeFromQuantity: 9 })).toEqual([
      "CHANGE_FROM_QUANTITY_STALE",
    ]);
    expect(level(items[0] ?? "", wh)).toMatchObject({ available: 10, damaged: 0 });

    const ok = await adjust({
      ...base,
      name: "damaged",
      changes: [
        change({ delta: 2, ledgerDocumentUri: "gid://stockguard/Damage/1", changeFromQuantity: 0 }),
      ],
    });
    expect(
      ok.body.data?.inventoryAdjustQuantities.inventoryAdjustmentGroup?.changes.map((c) => [
        c.name,
        c.delta,
      ]),
    ).toEqual([
      ["damaged", 2],
      ["on_hand", 2],
    ]);
    expect(level(items[0] ?? "", wh)).toMatchObject({ available: 10, damaged: 2, on_hand: 12 });
  });

  it("rejects duplicate pairs", async () => {
    const change = {
      inventoryItemId: items[0],
      locationId: wh,
      delta: 1,
      changeFromQuantity: null,
    };
    const { body } = await adjust({ ...base, name: "available", changes: [change, change] });
    expect(body.data?.inventoryAdjustQuantities.userErrors[0]?.code).toBe(
      "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
    );
  });
});

describe("inventoryMoveQuantities", () => {
  const terminal = (name: string, changeFromQuantity: number | null, location = "") => ({
    locationId: location,
    name,
    changeFromQuantity,
    ...(name === "available" ? {} : { ledgerDocumentUri: "gid://stockguard/BufferRule/1" }),
  });

  it("moves between states at one location and keeps on_hand", async () => {
    const { body } = await move({
      reason: "safety_stock",
      referenceDocumentUri: "gid://stockguard/BufferRule/1",
      changes: [
        {
          inventoryItemId: items[0],
          quantity: 3,
          from: terminal("available", 10, wh),
          to: terminal("safety_stock", 0, wh),
        },
      ],
    });
    const payload = body.data?.inventoryMoveQuantities;
    expect(payload?.userErrors).toEqual([]);
    expect(
      payload?.inventoryAdjustmentGroup?.changes.map((c) => [
        c.name,
        c.delta,
        c.quantityAfterChange,
      ]),
    ).toEqual([
      ["available", -3, 7],
      ["safety_stock", 3, 3],
    ]);
    expect(level(items[0] ?? "", wh)).toMatchObject({ available: 7, safety_stock: 3, on_hand: 10 });
  });

  it("requires changeFromQuantity on both terminals and checks each", async () => {
    const omitted = await move({
      reason: "safety_stock",
      changes: [
        {
          inventoryItemId: items[0],
          quantity: 1,
          from: terminal("available", 10, wh),
          to: { locationId: wh, name: "reserved", ledgerDocumentUri: "app://r/1" },
        },
      ],
    });
    expect(omitted.body.errors?.[0]).toMatchObject({
      message:
        "InventoryMoveQuantityTerminalInput must include the following argument: changeFromQuantity",
      extensions: { code: "INVALID_FIELD_ARGUMENTS" },
    });
    const stale = await move({
      reason: "safety_stock",
      changes: [
        {
          inventoryItemId: items[0],
          quantity: 1,
          from: terminal("available", 10, wh),
          to: terminal("reserved", 2, wh),
        },
      ],
    });
    expect(stale.body.data?.inventoryMoveQuantities.userErrors).toEqual([
      {
        code: "CHANGE_FROM_QUANTITY_STALE",
        field: ["input", "changes", "0", "to", "changeFromQuantity"],
        message: expect.any(String),
      },
    ]);
    expect(level(items[0] ?? "", wh)).toMatchObject({ available: 10, reserved: 0 });
  });

  it("validates locations, names, quantity and ledger documents", async () => {
    const codes = async (change: Record<string, unknown>) =>
      (
        await move({
          reason: "safety_stock",
          changes: [{ inventoryItemId: items[0], quantity: 1, ...change }],
        })
      ).body.data?.inventoryMoveQuantities.userErrors.map((e) => e.code);
    const from = terminal("available", null, wh);
    expect(await codes({ from, to: terminal("reserved", null, store) })).toContain(
      "DIFFERENT_LOCATIONS",
    );
    expect(await codes({ from, to: terminal("committed", null, wh) })).toEqual([
      "INVALID_QUANTITY_NAME",
    ]);
    expect(await codes({ from, to: terminal("available", null, wh) })).toEqual([
      "SAME_QUANTITY_NAME",
    ]);
    expect(await codes({ quantity: 0, from, to: terminal("reserved", null, wh) })).toEqual([
      "INVALID_QUANTITY_NEGATIVE",
    ]);
    expect(
      await codes({ from, to: { locationId: wh, name: "reserved", changeFromQuantity: null } }),
    ).toEqual(["INVALID_QUANTITY_DOCUMENT"]);
    const dup = {
      inventoryItemId: items[0],
      quantity: 1,
      from,
      to: terminal("reserved", null, wh),
    };
    const duplicate = await move({ reason: "safety_stock", changes: [dup, dup] });
    expect(duplicate.body.data?.inventoryMoveQuantities.userErrors.map((e) => e.code)).toEqual([
      "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
    ]);
    expect(level(items[0] ?? "", wh)).toMatchObject({ available: 10, reserved: 0 });
  });

  it("never changes on_hand, whatever sequence of moves is applied", async () => {
    const states: StateName[] = [
      "available",
      "reserved",
      "safety_stock",
      "damaged",
      "quality_control",
    ];
    const item = items[0] ?? "";
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            from: fc.constantFrom(...states),
            to: fc.constantFrom(...states),
            quantity: fc.integer({ min: 1, max: 6 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        async (moves) => {
          const onHandBefore = level(item, wh).on_hand;
          for (const m of moves) {
            if (m.from === m.to) continue;
            const current = level(item, wh);
            await move({
              reason: "movement_created",
              changes: [
                {
                  inventoryItemId: item,
                  quantity: m.quantity,
                  from: terminal(m.from, current[m.from], wh),
                  to: terminal(m.to, current[m.to], wh),
                },
              ],
            });
            expect(level(item, wh).on_hand).toBe(onHandBefore);
          }
        },
      ),
      { numRuns: 25, seed: 42 },
    );
  });
});

describe("adjustment group fields", () => {
  it("exposes createdAt, reason, reference document and filtered changes", async () => {
    const { body } = await local.graphql<{
      inventorySetQuantities: {
        inventoryAdjustmentGroup: {
          createdAt: string;
          reason: string;
          referenceDocumentUri: string;
          changes: { name: string }[];
        };
      };
    }>(
      SHOP,
      `mutation($input: InventorySetQuantitiesInput!) {
        inventorySetQuantities(input: $input) @idempotent(key: "${key()}") {
          inventoryAdjustmentGroup {
            createdAt reason referenceDocumentUri
            changes(quantityNames: ["on_hand"]) { name }
          }
        }
      }`,
      {
        input: {
          ...base,
          name: "available",
          quantities: [
            { inventoryItemId: items[0], locationId: wh, quantity: 1, changeFromQuantity: null },
          ],
        },
      },
    );
    expect(body.data?.inventorySetQuantities.inventoryAdjustmentGroup).toEqual({
      createdAt: expect.stringMatching(/Z$/),
      reason: "correction",
      referenceDocumentUri: "gid://stockguard/PushBatch/1",
      changes: [{ name: "on_hand" }],
    });
  });
});
