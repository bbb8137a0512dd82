/** The /_control API: the same functions as the in-process sandbox, over HTTP. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { PID, seedSeller, startReceiver } from "./fixtures";
import { startLocalWalmart } from "./server";

const local = await startLocalWalmart({
  rngSeed: 21,
  timeScale: 0.0001,
  seed: { sellers: [seedSeller()] },
});
afterAll(() => local.close());
const sb = local.sandbox;

beforeEach(() => sb.reset());

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${local.url}/_control${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("/_control", () => {
  it("seeds sellers, reads and writes items and inventory", async () => {
    expect((await control("GET", "/health")).body).toMatchObject({ ok: true, sellers: [PID] });
    const created = await control("POST", "/sellers", {
      partnerId: "20002000200",
      items: [{ sku: "X-1", quantity: 2 }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      partnerId: "20002000200",
      clientId: "sandbox-client-20002000200",
      clientSecret: "sandbox-secret-20002000200",
      shipNodes: [{ shipNode: "000200" }],
      items: 1,
    });
    expect((await control("POST", "/sellers", { partnerId: "20002000200" })).status).toBe(400);
    const set = await control("POST", `/sellers/${PID}/inventory`, {
      sku: "MUG-BLUE",
      quantity: 4,
    });
    expect(set.body).toMatchObject({
      write: { sku: "MUG-BLUE", inputQty: 4, source: "control" },
      item: { availToSellQty: 4 },
    });
    expect(
      (await control("POST", `/sellers/${PID}/inventory`, { sku: "MUG-BLUE", quantity: -1 }))
        .status,
    ).toBe(400);
    const item = await control("GET", `/sellers/${PID}/items/MUG-BLUE`);
    expect(item.body).toMatchObject({
      item: {
        sku: "MUG-BLUE",
        publishedStatus: "PUBLISHED",
        nodes: [{ inputQty: 4 }, { inputQty: 0 }],
      },
    });
    const writes = await control("GET", `/sellers/${PID}/inventory-writes`);
    expect((writes.body.writes as unknown[]).length).toBe(1);
    expect((await control("GET", "/sellers/nope/items")).status).toBe(404);
    expect((await control("GET", "/no-such-route")).status).toBe(404);
    expect((await control("POST", "/reset", { reseed: false })).body).toEqual({
      ok: true,
      sellers: [],
    });
    expect((await control("POST", "/seed", { sellers: [seedSeller()] })).status).toBe(201);
  });

  it("orders, cancellations, events, deliveries and idle over HTTP", async () => {
    const receiver = await startReceiver();
    try {
      const sub = await control("POST", `/sellers/${PID}/subscriptions`, {
        eventType: "PO_CREATED",
        eventVersion: "V1",
        resourceName: "ORDER",
        eventUrl: `${receiver.url}/po`,
        status: "ACTIVE",
      });
      expect(sub.status).toBe(201);
      const placed = await control("POST", `/sellers/${PID}/orders`, {
        lines: [{ sku: "MUG-BLUE", qty: 1 }],
      });
      const po = (placed.body.order as { purchaseOrderId: string }).purchaseOrderId;
      const cancelled = await control("POST", `/sellers/${PID}/orders/${po}/cancel`, {
        kind: "fraud",
      });
      expect(cancelled.status).toBe(200);
      expect((await control("POST", "/idle", { timeoutMs: 2000 })).body).toEqual({
        idle: true,
        pendingFeeds: 0,
        pending: 0,
        inFlight: 0,
      });
      expect(receiver.requests).toHaveLength(1);
      const events = await control("GET", `/events?partnerId=${PID}`);
      expect((events.body.events as { eventType: string }[]).map((e) => e.eventType)).toEqual([
        "PO_CREATED",
        "ORDER_UPDATES",
        "ORDER_UPDATES",
      ]);
      const deliveries = await control("GET", "/deliveries?eventType=PO_CREATED");
      expect(deliveries.body.deliveries).toEqual([
        expect.objectContaining({
          eventType: "PO_CREATED",
          state: "delivered",
          attempts: [expect.objectContaining({ status: 200 })],
        }),
      ]);
    } finally {
      await receiver.close();
    }
  });

  it("faults, throttle, tokens, clock and feeds over HTTP", async () => {
    const token = await local.token(PID);
    const fault = await control("POST", "/faults", {
      kind: "http503",
      operation: "orders.list",
      count: 1,
      retryAfterSeconds: 3,
    });
    expect(fault.status).toBe(201);
    const first = await local.call(PID, "GET", "/v3/orders", { token });
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("3");
    expect((await control("POST", "/faults", { kind: "http418", count: 1 })).status).toBe(400);
    const bucket = await control("POST", `/sellers/${PID}/throttle`, {
      operation: "orders.list",
      capacity: 1,
      windowMs: 60_000,
      tokens: 0,
    });
    expect(bucket.body).toMatchObject({ bucket: { capacity: 1, tokens: 0 } });
    expect((await local.call(PID, "GET", "/v3/orders", { token })).status).toBe(429);
    expect((await control("GET", "/stats")).body).toMatchObject({ throttled: 1 });
    expect((await control("POST", "/tokens/expire", { partnerId: PID })).body).toEqual({
      expired: 1,
    });
    expect((await local.call(PID, "GET", "/v3/items", { token })).status).toBe(401);
    const before = sb.now();
    const advanced = await control("POST", "/clock/advance", { ms: 60_000 });
    expect(Date.parse(advanced.body.now as string)).toBeGreaterThanOrEqual(before + 60_000);
    expect((await local.call(PID, "GET", "/v3/orders")).status).toBe(200); // the bucket refilled
    sb.submitFeed(PID, {
      feedType: "inventory",
      fileName: null,
      format: "json",
      specVersion: "1.4",
      items: [
        {
          index: 0,
          sku: "MUG-RED",
          shipNodes: [{ shipNode: "234567", amount: 9 }],
          status: "INPROGRESS",
          errors: [],
        },
      ],
      fileError: null,
      correlationId: null,
    });
    const completed = await control("POST", "/feeds/complete", {});
    expect((completed.body.feeds as { status: string }[]).map((f) => f.status)).toEqual([
      "PROCESSED",
    ]);
    expect(sb.item(PID, "MUG-RED").availToSellQty).toBe(9);
    const requests = await control("GET", `/requests?partnerId=${PID}`);
    // token, fault, throttled, (the 401 has no seller), token, orders
    expect(
      (requests.body.requests as { operation: string; outcome: string }[]).map(
        (r) => `${r.operation}:${r.outcome}`,
      ),
    ).toEqual([
      "token:ok",
      "orders.list:fault",
      "orders.list:throttled",
      "token:ok",
      "orders.list:ok",
    ]);
  });
});
