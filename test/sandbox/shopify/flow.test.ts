/**
 * The local Shopify's `flowTriggerReceive`: a valid call is recorded once per call, an invalid
 * one (unknown handle, missing, extra or mistyped field, unknown product, oversized) records
 * nothing and answers userErrors naming the field.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { SHOP, seedShop } from "./fixtures";
import { receivedFlowTriggers, rejectedFlowTriggers } from "./flow";
import { startLocalShopify } from "./server";

const local = await startLocalShopify();
afterAll(() => local.close());

beforeEach(() => {
  local.sandbox.reset();
  local.sandbox.createShop(seedShop());
});

const FIRE = /* GraphQL */ `
  mutation Fire($handle: String!, $payload: JSON!) {
    flowTriggerReceive(handle: $handle, payload: $payload) {
      userErrors {
        field
        message
      }
    }
  }
`;

type FireData = { flowTriggerReceive: { userErrors: { field: string[]; message: string }[] } };

function productId(): number {
  return [...local.sandbox.shop(SHOP).products.keys()][0]!;
}

function driftPayload(overrides: Record<string, unknown> = {}) {
  return {
    product_id: productId(),
    "variant id": "gid://shopify/ProductVariant/1",
    sku: "SHIRT-S",
    channel: "Amazon",
    expected: 4,
    found: 7,
    cause: "changed_on_channel",
    ...overrides,
  };
}

async function fire(handle: string, payload: unknown) {
  const { status, body } = await local.graphql<FireData>(SHOP, FIRE, { handle, payload });
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return body.data!.flowTriggerReceive.userErrors;
}

describe("flowTriggerReceive", () => {
  it("records a payload that matches the extension's fields, once per call", async () => {
    expect(await fire("stock-drift-found", driftPayload())).toEqual([]);
    const received = receivedFlowTriggers(local.sandbox.shop(SHOP));
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ handle: "stock-drift-found", payload: driftPayload() });
    expect(await fire("stock-drift-found", driftPayload())).toEqual([]);
    expect(receivedFlowTriggers(local.sandbox.shop(SHOP))).toHaveLength(2);
  });

  it("refuses an unknown handle", async () => {
    const errors = await fire("no-such-trigger", driftPayload());
    expect(errors).toEqual([{ field: ["handle"], message: 'Invalid handle "no-such-trigger"' }]);
    expect(receivedFlowTriggers(local.sandbox.shop(SHOP))).toHaveLength(0);
  });

  it("names each missing, extra or mistyped field and records nothing", async () => {
    const { found: _found, ...missing } = driftPayload();
    expect((await fire("stock-drift-found", missing)).map((e) => e.field)).toEqual([
      ["payload", "found"],
    ]);
    expect(
      (await fire("stock-drift-found", driftPayload({ extra: 1 }))).map((e) => e.field),
    ).toEqual([["payload", "extra"]]);
    expect(
      (await fire("stock-drift-found", driftPayload({ expected: "4" }))).map((e) => e.message),
    ).toEqual(["expected must be a number"]);
    expect(
      (await fire("stock-drift-found", driftPayload({ product_id: 999999 }))).map((e) => e.message),
    ).toEqual(["product_id product 999999 does not exist"]);
    expect(
      (
        await fire("stock-drift-found", driftPayload({ product_id: `gid://shopify/Product/1` }))
      ).map((e) => e.field),
    ).toEqual([["payload", "product_id"]]);
    expect(receivedFlowTriggers(local.sandbox.shop(SHOP))).toHaveLength(0);
    expect(rejectedFlowTriggers(local.sandbox.shop(SHOP))).toHaveLength(5);
  });

  it("refuses a payload of 50,000 bytes or more", async () => {
    const errors = await fire("stock-drift-found", driftPayload({ cause: "x".repeat(50_000) }));
    expect(errors).toEqual([{ field: ["payload"], message: "Payload must be under 50000 bytes" }]);
  });
});
