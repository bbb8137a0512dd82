/** Items, single-item and per-node inventory, token-bucket headers, 429 + Retry-After, faults. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { NODE_A, NODE_B, PID, seedSeller } from "./fixtures";
import { startLocalWalmart } from "./server";

const local = await startLocalWalmart({ rngSeed: 11, seed: { sellers: [seedSeller()] } });
afterAll(() => local.close());
const sb = local.sandbox;
let token = "";

beforeEach(async () => {
  sb.reset();
  token = await local.token(PID);
});

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  local.call(PID, method, path, {
    token,
    ...(body === undefined ? {} : { body }),
    ...(headers ? { headers } : {}),
  });

const put = (sku: string, amount: unknown, unit = "EACH") =>
  call("PUT", `/v3/inventory?sku=${encodeURIComponent(sku)}`, { sku, quantity: { unit, amount } });

describe("items", () => {
  it("lists items with nextCursor paging and the real item fields", async () => {
    const first = await call("GET", "/v3/items?limit=3");
    expect(first.status).toBe(200);
    const page = first.body as {
      ItemResponse: Record<string, unknown>[];
      totalItems: number;
      nextCursor?: string;
    };
    expect(page.totalItems).toBe(4);
    expect(page.ItemResponse.map((i) => i.sku)).toEqual(["MUG-BLUE", "MUG-RED", "TEE-S"]);
    expect(page.ItemResponse[0]).toEqual({
      mart: "WALMART_US",
      sku: "MUG-BLUE",
      wpid: expect.stringMatching(/^0[0-9A-Z]{11}$/),
      upc: expect.stringMatching(/^\d{12}$/),
      gtin: expect.stringMatching(/^00\d{12}$/),
      productName: "Blue Mug",
      shelf: expect.any(String),
      productType: expect.any(String),
      price: { currency: "USD", amount: 12.5 },
      publishedStatus: "PUBLISHED",
      lifecycleStatus: "ACTIVE",
    });
    const second = await call(
      "GET",
      `/v3/items?limit=3&nextCursor=${encodeURIComponent(page.nextCursor ?? "")}`,
    );
    const rest = second.body as {
      ItemResponse: { sku: string; publishedStatus: string }[];
      nextCursor?: string;
    };
    expect(rest.ItemResponse.map((i) => [i.sku, i.publishedStatus])).toEqual([
      ["OLD-1", "UNPUBLISHED"],
    ]);
    expect(rest.nextCursor).toBeUndefined();
    const unpublished = await call("GET", "/v3/items?publishedStatus=UNPUBLISHED");
    expect((unpublished.body as { totalItems: number }).totalItems).toBe(1);
  });

  it("gets one item by SKU (or GTIN), 404 CONTENT_NOT_FOUND otherwise", async () => {
    const one = await call("GET", "/v3/items/MUG-RED");
    expect(one.status).toBe(200);
    const item = (one.body as { ItemResponse: { sku: string; gtin: string }[]; totalItems: number })
      .ItemResponse[0];
    expect(item?.sku).toBe("MUG-RED");
    const byGtin = await call("GET", `/v3/items/${item?.gtin}?productIdType=GTIN`);
    expect((byGtin.body as { ItemResponse: { sku: string }[] }).ItemResponse[0]?.sku).toBe(
      "MUG-RED",
    );
    const missing = await call("GET", "/v3/items/NOPE");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      error: [
        { code: "CONTENT_NOT_FOUND.GMP_ITEM_QUERY_API", severity: "INFO", category: "APPLICATION" },
      ],
    });
  });
});

describe("single-item inventory", () => {
  it("PUT sets the absolute quantity and GET reads it, with token-count headers", async () => {
    // 200 per hour instead of per minute, so no token comes back while the test runs.
    sb.configureThrottle(PID, "inventory.update", { windowMs: 3_600_000 });
    sb.configureThrottle(PID, "inventory.get", { windowMs: 3_600_000 });
    const written = await put("MUG-BLUE", 7);
    expect(written.status).toBe(200);
    expect(written.body).toEqual({ sku: "MUG-BLUE", quantity: { unit: "EACH", amount: 7 } });
    expect(written.headers.get("x-current-token-count")).toBe("199");
    expect(Number(written.headers.get("x-next-replenish-time"))).toBeGreaterThan(Date.now() - 1000);
    const again = await put("MUG-BLUE", 0);
    expect(again.headers.get("x-current-token-count")).toBe("198");
    const read = await call("GET", "/v3/inventory?sku=MUG-BLUE");
    expect(read.body).toEqual({ sku: "MUG-BLUE", quantity: { unit: "EACH", amount: 0 } });
    expect(read.headers.get("x-current-token-count")).toBe("199"); // GET has its own bucket
    expect(sb.item(PID, "MUG-BLUE").nodes[0]).toEqual({
      shipNode: NODE_A,
      inputQty: 0,
      reservedQty: 0,
      availToSellQty: 0,
    });
    const writes = sb.inventoryWriteLog(PID, "MUG-BLUE");
    expect(writes.map((w) => [w.previousInputQty, w.inputQty, w.source])).toEqual([
      [10, 7, "PUT /v3/inventory"],
      [7, 0, "PUT /v3/inventory"],
    ]);
    expect(Date.parse(writes[0]?.at ?? "")).not.toBeNaN();
    expect(writes[0]?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("validates the body: integer amount >= 0, unit EACH, matching sku, known SKU", async () => {
    for (const [amount, unit] of [
      [-1, "EACH"],
      [1.5, "EACH"],
      ["3", "EACH"],
      [3, "CASE"],
    ] as const) {
      const res = await put("MUG-BLUE", amount, unit);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: [{ code: "INVALID_REQUEST_CONTENT.GMP_INVENTORY_API" }],
      });
    }
    const mismatch = await call("PUT", "/v3/inventory?sku=MUG-RED", {
      sku: "MUG-BLUE",
      quantity: { unit: "EACH", amount: 1 },
    });
    expect(mismatch.status).toBe(400);
    const noSku = await call("PUT", "/v3/inventory", {
      sku: "MUG-BLUE",
      quantity: { unit: "EACH", amount: 1 },
    });
    expect(noSku.body).toMatchObject({
      error: [{ code: "MISSING_REQUEST_PARAM.GMP_INVENTORY_API", field: "sku" }],
    });
    const unknown = await put("NOPE", 1);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({
      error: [{ code: "CONTENT_NOT_FOUND.GMP_INVENTORY_API" }],
    });
    const malformed = await call("PUT", "/v3/inventory?sku=MUG-BLUE", "{nope");
    expect(malformed.status).toBe(400);
    expect(sb.inventoryWriteLog()).toHaveLength(0);
    expect(sb.item(PID, "MUG-BLUE").availToSellQty).toBe(10);
  });

  it("accepts the XML body and the shipNode parameter", async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><inventory xmlns="http://walmart.com/"><sku>TEE-S</sku><quantity><unit>EACH</unit><amount>9</amount></quantity></inventory>`;
    const res = await call("PUT", `/v3/inventory?sku=TEE-S&shipNode=${NODE_B}`, xml, {
      "Content-Type": "application/xml",
    });
    expect(res.status).toBe(200);
    expect((await call("GET", `/v3/inventory?sku=TEE-S&shipNode=${NODE_B}`)).body).toEqual({
      sku: "TEE-S",
      quantity: { unit: "EACH", amount: 9 },
    });
    expect((await call("GET", "/v3/inventory?sku=TEE-S")).body).toMatchObject({
      quantity: { amount: 1 },
    });
    expect((await call("GET", "/v3/inventory?sku=TEE-S&shipNode=000")).status).toBe(400);
  });

  it("GET reports availToSell: open orders reserve units (inputQty − reservedQty)", async () => {
    const order = sb.placeOrder(PID, { lines: [{ sku: "MUG-RED", qty: 2 }] });
    expect((await call("GET", "/v3/inventory?sku=MUG-RED")).body).toMatchObject({
      quantity: { amount: 1 },
    });
    const nodes = await call("GET", "/v3/inventories/MUG-RED");
    expect(nodes.body).toEqual({
      sku: "MUG-RED",
      nodes: [
        {
          shipNode: NODE_A,
          inputQty: { unit: "EACH", amount: 3 },
          availToSellQty: { unit: "EACH", amount: 1 },
          reservedQty: { unit: "EACH", amount: 2 },
        },
        {
          shipNode: NODE_B,
          inputQty: { unit: "EACH", amount: 0 },
          availToSellQty: { unit: "EACH", amount: 0 },
          reservedQty: { unit: "EACH", amount: 0 },
        },
      ],
    });
    // An absolute write sets inputQty; the reservation still holds back 2.
    await put("MUG-RED", 5);
    expect((await call("GET", "/v3/inventory?sku=MUG-RED")).body).toMatchObject({
      quantity: { amount: 3 },
    });
    sb.shipLine(PID, order.purchaseOrderId, "1");
    expect(sb.item(PID, "MUG-RED").nodes[0]).toMatchObject({
      inputQty: 3,
      reservedQty: 0,
      availToSellQty: 3,
    });
  });
});

describe("per-node inventory", () => {
  it("PUT /v3/inventories/{sku} sets each node, reporting Success or Failure per node", async () => {
    const res = await call("PUT", "/v3/inventories/TEE-S", {
      inventories: {
        nodes: [
          { shipNode: NODE_A, inputQty: { unit: "EACH", amount: 6 } },
          { shipNode: "404404", inputQty: { unit: "EACH", amount: 2 } },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sku: "TEE-S",
      nodes: [
        { shipNode: NODE_A, status: "Success" },
        {
          shipNode: "404404",
          status: "Failure",
          errors: [expect.objectContaining({ field: "shipNode" })],
        },
      ],
    });
    const one = await call("GET", `/v3/inventories/TEE-S?shipNode=${NODE_A}`);
    expect(one.body).toMatchObject({
      sku: "TEE-S",
      nodes: [{ shipNode: NODE_A, inputQty: { amount: 6 } }],
    });
    const list = await call("GET", "/v3/inventories?limit=2");
    const page = list.body as {
      meta: { totalCount: number; nextCursor?: string };
      elements: { inventories: unknown[] };
    };
    expect(page.meta.totalCount).toBe(4);
    expect(page.elements.inventories).toHaveLength(2);
    const next = await call("GET", `/v3/inventories?limit=2&nextCursor=${page.meta.nextCursor}`);
    expect((next.body as { meta: { nextCursor?: string } }).meta.nextCursor).toBeUndefined();
  });
});

describe("throttling", () => {
  it("answers 429 with Retry-After and Walmart's body once the bucket is empty", async () => {
    sb.configureThrottle(PID, "inventory.update", { capacity: 3, windowMs: 60_000 });
    const statuses: number[] = [];
    const counts: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await put("MUG-BLUE", i);
      statuses.push(res.status);
      counts.push(res.headers.get("x-current-token-count"));
      if (res.status === 429) {
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(19);
        expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(20);
        expect(res.body).toEqual({
          error: [
            expect.objectContaining({
              code: "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API",
              severity: "ERROR",
              category: "REQUEST",
            }),
          ],
        });
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(counts).toEqual(["2", "1", "0", "0", "0"]);
    expect(sb.throttledCount).toBe(2);
    expect(sb.inventoryWriteLog().map((w) => w.inputQty)).toEqual([0, 1, 2]);
    // Other operations have their own bucket.
    expect((await call("GET", "/v3/inventory?sku=MUG-BLUE")).status).toBe(200);
  });

  it("refills continuously: one token after windowMs / capacity", async () => {
    sb.configureThrottle(PID, "inventory.update", { capacity: 2, windowMs: 200, tokens: 0 });
    const empty = await put("MUG-BLUE", 1);
    expect(empty.status).toBe(429);
    expect(empty.headers.get("retry-after")).toBe("1");
    const replenish = Number(empty.headers.get("x-next-replenish-time"));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, replenish - Date.now()) + 5));
    expect((await put("MUG-BLUE", 1)).status).toBe(200);
  });

  it("injects 429 and 500 answers for one operation", async () => {
    sb.addFault({ kind: "http500", operation: "inventory.update", count: 1 });
    sb.addFault({ kind: "http429", operation: "inventory.update", count: 1, retryAfterSeconds: 7 });
    const first = await put("MUG-BLUE", 1);
    expect(first.status).toBe(500);
    expect(first.body).toMatchObject({
      error: [{ code: "SYSTEM_ERROR.GMP_GATEWAY_API", category: "SYSTEM" }],
    });
    const second = await put("MUG-BLUE", 1);
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("7");
    expect((await call("GET", "/v3/inventory?sku=MUG-BLUE")).status).toBe(200);
    expect((await put("MUG-BLUE", 1)).status).toBe(200);
    expect(
      sb.requestLog.filter((r) => r.operation === "inventory.update").map((r) => r.outcome),
    ).toEqual(["fault", "fault", "ok"]);
    expect(sb.throttledCount).toBe(1);
  });
});
