import { parse, getOperationAST } from "graphql";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  CATALOG,
  CATALOG_PAGE_SIZE,
  LEVELS_AT_LOCATION,
  LEVELS_BATCH_SIZE,
  LOCATIONS,
  SHOP_INFO,
  adjustQuantitiesMutation,
  moveQuantitiesMutation,
  setQuantitiesMutation,
} from "../../../app/channels/shopify/operations";
import { LeakyBucket, requestedCost } from "./cost";
import { SHOP, TOKEN, key, manyProducts, seedShop } from "./fixtures";
import { adminSchema } from "./schema";
import { startLocalShopify } from "./server";

const local = await startLocalShopify({ rngSeed: 7 });
afterAll(() => local.close());
const sb = local.sandbox;

beforeEach(() => {
  sb.reset();
  sb.createShop(seedShop({ products: [...(seedShop().products ?? []), ...manyProducts(30)] }));
});

function cost(query: string, variables: Record<string, unknown> = {}): number {
  const document = parse(query);
  const operation = getOperationAST(document);
  if (!operation) throw new Error("no operation");
  return requestedCost(adminSchema(), document, operation, variables);
}

/** The catalog shape with every level nested (what the adapter avoids): 35 points per variant. */
const NESTED_CATALOG = `query($first: Int!) {
  productVariants(first: $first) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku
      product { id title status }
      inventoryItem {
        id tracked
        inventoryLevels(first: 10) {
          nodes { location { id } quantities(names: ["available", "on_hand"]) { name quantity } }
        }
      }
    }
  }
}`;

describe("requested cost of the adapter's operations", () => {
  it("stays under 1000 at the declared page sizes", () => {
    const ids = Array.from(
      { length: LEVELS_BATCH_SIZE },
      (_, i) => `gid://shopify/InventoryItem/${i}`,
    );
    const costs = [
      cost(SHOP_INFO),
      cost(LOCATIONS, { first: 250 }),
      cost(CATALOG, { first: CATALOG_PAGE_SIZE }),
      cost(LEVELS_AT_LOCATION, { ids, locationId: "gid://shopify/Location/1" }),
      cost(setQuantitiesMutation(key())),
    ];
    for (const c of costs) expect(c).toBeLessThanOrEqual(1000);
  });

  it("matches the documented model", () => {
    expect(cost(SHOP_INFO)).toBe(3);
    expect(cost(LOCATIONS, { first: 250 })).toBe(252);
    expect(cost(CATALOG, { first: 250 })).toBe(752);
    expect(cost(NESTED_CATALOG, { first: 25 })).toBe(877);
    const ids = Array.from(
      { length: LEVELS_BATCH_SIZE },
      (_, i) => `gid://shopify/InventoryItem/${i}`,
    );
    expect(cost(LEVELS_AT_LOCATION, { ids, locationId: "gid://shopify/Location/1" })).toBe(750);
    const k = key();
    expect(cost(setQuantitiesMutation(k))).toBe(10);
    expect(cost(adjustQuantitiesMutation(k))).toBe(10);
    expect(cost(moveQuantitiesMutation(k))).toBe(10);
  });

  it("counts edges like nodes, and fragments on interfaces by their largest type", () => {
    expect(
      cost(
        `{ products(first: 10) { edges { cursor node { id title } } pageInfo { hasNextPage } } }`,
      ),
    ).toBe(12);
    expect(
      cost(`{ nodes(ids: ["a", "b"]) { id ... on InventoryItem { variant { product { id } } } } }`),
    ).toBe(6);
  });
});

describe("cost over HTTP", () => {
  it("reports requested and actual cost and refunds the difference", async () => {
    await local.graphql(SHOP, `{ shop { id } }`);
    sb.shop(SHOP).bucket.configure({ restoreRate: 0 });
    sb.shop(SHOP).bucket.force(2000);
    const { body } = await local.graphql(SHOP, NESTED_CATALOG, { first: 25 });
    // 25 variants returned; 23 stocked at WH only, SHIRT-S at two locations.
    const actual = 2 + 25 * 5 + 26 * 3;
    expect(body.extensions?.cost).toEqual({
      requestedQueryCost: 877,
      actualQueryCost: actual,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 2000 - actual, restoreRate: 0 },
    });
  });

  it("rejects a single query above 1000 points without charging it", async () => {
    const { status, body } = await local.graphql(SHOP, NESTED_CATALOG, { first: 30 });
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]).toMatchObject({
      message: "Query cost is 1052, which exceeds the single query max cost limit (1000).",
      extensions: { code: "MAX_COST_EXCEEDED" },
    });
    expect(body.extensions?.cost.requestedQueryCost).toBe(1052);
    expect(body.extensions?.cost.throttleStatus.currentlyAvailable).toBe(2000);
  });

  it("answers THROTTLED (HTTP 200) when the bucket cannot hold the requested cost", async () => {
    const bucket = sb.shop(SHOP).bucket;
    bucket.configure({ restoreRate: 0 });
    bucket.force(9);
    const { status, body } = await local.graphql(SHOP, `{ locations(first: 10) { nodes { id } } }`);
    expect(status).toBe(200);
    expect(body).toEqual({
      errors: [
        {
          message: "Throttled",
          extensions: {
            code: "THROTTLED",
            documentation: "https://shopify.dev/api/usage/rate-limits",
          },
        },
      ],
      extensions: {
        cost: {
          requestedQueryCost: 12,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 9, restoreRate: 0 },
        },
      },
    });
    const cheap = await local.graphql(SHOP, `{ shop { name } }`);
    expect(cheap.body.errors).toBeUndefined();
    expect(cheap.body.extensions?.cost.throttleStatus.currentlyAvailable).toBe(8);
  });

  it("refills over time at restoreRate", async () => {
    const bucket = sb.shop(SHOP).bucket;
    bucket.configure({ restoreRate: 200 });
    bucket.force(0);
    const throttled = await local.graphql(SHOP, `{ locations(first: 50) { nodes { id } } }`);
    expect(throttled.body.errors?.[0]?.extensions?.code).toBe("THROTTLED");
    await new Promise((resolve) => setTimeout(resolve, 300)); // 52 points at 200/s = 260 ms
    const after = await local.graphql(SHOP, `{ locations(first: 50) { nodes { id } } }`);
    expect(after.body.errors).toBeUndefined();
  });
});

describe("LeakyBucket", () => {
  it("drains, refills continuously and caps at the maximum", () => {
    const bucket = new LeakyBucket({ maximumAvailable: 2000, restoreRate: 100 }, 0);
    expect(bucket.tryTake(1500, 0)).toBe(true);
    expect(bucket.available(0)).toBe(500);
    expect(bucket.tryTake(600, 0)).toBe(false);
    expect(bucket.available(500)).toBe(550);
    expect(bucket.tryTake(550, 500)).toBe(true);
    bucket.refund(100, 500);
    expect(bucket.status(1500)).toEqual({
      maximumAvailable: 2000,
      currentlyAvailable: 200,
      restoreRate: 100,
    });
    expect(bucket.available(60_000)).toBe(2000);
  });
});

describe("fault injection", () => {
  const path = () => local.graphqlUrl(SHOP);
  const call = () =>
    fetch(path(), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": TOKEN },
      body: JSON.stringify({ query: "{ shop { name } }" }),
    });

  it("fails the next N requests with the chosen status", async () => {
    sb.shop(SHOP).faults.add({ kind: "http500", count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call()).status);
    expect(statuses).toEqual([500, 500, 200]);
    sb.shop(SHOP).faults.add({ kind: "http429", count: 1, retryAfterSeconds: 3 });
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    sb.shop(SHOP).faults.add({ kind: "http503", count: 1 });
    expect((await call()).status).toBe(503);
    sb.shop(SHOP).faults.add({ kind: "throttled", count: 1 });
    const throttled = await call();
    expect(throttled.status).toBe(200);
    const body = (await throttled.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe("THROTTLED");
    expect((await call()).status).toBe(200);
  });

  it("fails a fraction of requests, or all of them for a while", async () => {
    const faults = sb.shop(SHOP).faults;
    faults.add({ kind: "http503", probability: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await call()).status);
    const failed = statuses.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(35);
    faults.clear();
    faults.add({ kind: "http500", durationMs: 300 });
    expect((await call()).status).toBe(500);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await call()).status).toBe(200);
  });

  it("adds latency", async () => {
    sb.shop(SHOP).faults.setLatency(60, 60);
    const started = Date.now();
    await call();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it("is reachable through the control API", async () => {
    const control = (p: string, body: unknown) =>
      fetch(`${local.url}/_control/shops/${SHOP}/${p}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await control("faults", { kind: "http500", count: 1 })).status).toBe(201);
    expect((await call()).status).toBe(500);
    const throttle = await control("throttle", { currentlyAvailable: 0, restoreRate: 0 });
    expect(await throttle.json()).toEqual({
      maximumAvailable: 2000,
      currentlyAvailable: 0,
      restoreRate: 0,
    });
    const throttled = (await (await call()).json()) as {
      errors: { extensions: { code: string } }[];
    };
    expect(throttled.errors[0]?.extensions.code).toBe("THROTTLED");
    expect((await control("faults", { kind: "nope", count: 1 })).status).toBe(400);
  });
});
