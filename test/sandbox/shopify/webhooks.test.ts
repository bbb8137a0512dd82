import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { SECRET, SHOP, seedShop, startReceiver, waitFor, type Receiver } from "./fixtures";
import { startLocalShopify } from "./server";
import { subscriptionsFromToml, webhooksApiVersion } from "./toml";
import { RETRY_INTERVALS_SECONDS } from "./webhooks";

const TIME_SCALE = 0.0002; // 4 h of retries → ~2.9 s
const local = await startLocalShopify({ timeScale: TIME_SCALE, rngSeed: 1234 });
afterAll(() => local.close());
const sb = local.sandbox;

let receiver: Receiver;

beforeEach(async () => {
  sb.reset();
  sb.timeScale = TIME_SCALE;
  sb.createShop(seedShop());
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

function subscribe(topics: string[], path = "/webhooks") {
  sb.setShopSubscriptions(SHOP, {
    secret: SECRET,
    subscriptions: [{ topics, address: `${receiver.url}${path}` }],
  });
}

function verify(body: string, header: string | undefined): boolean {
  const expected = createHmac("sha256", SECRET).update(body, "utf8").digest();
  const given = Buffer.from(header ?? "", "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe("delivery", () => {
  it("POSTs the raw JSON body with a verifiable HMAC and every Shopify header", async () => {
    subscribe(["orders/create", "inventory_levels/update"]);
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.headers["x-shopify-topic"])).toEqual([
      "orders/create",
      "inventory_levels/update",
    ]);
    const events = sb.shop(SHOP).events;
    for (const request of receiver.requests) {
      const h = request.headers;
      expect(request.path).toBe("/webhooks");
      expect(h["content-type"]).toBe("application/json");
      expect(verify(request.body, h["x-shopify-hmac-sha256"] as string)).toBe(true);
      expect(verify(`${request.body} `, h["x-shopify-hmac-sha256"] as string)).toBe(false);
      expect(h["x-shopify-shop-domain"]).toBe(SHOP);
      expect(h["x-shopify-api-version"]).toBe("2026-10");
      expect(h["x-shopify-webhook-id"]).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(h["x-shopify-event-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(h["x-shopify-triggered-at"] as string)).not.toBeNaN();
      const event = events.find((e) => e.eventId === h["x-shopify-event-id"]);
      expect(event?.topic).toBe(h["x-shopify-topic"]);
      expect(request.body).toBe(event?.body);
      expect(h["x-shopify-triggered-at"]).toBe(event?.triggeredAt.toISOString());
    }
    const deliveries = sb.deliveries(SHOP);
    expect(deliveries.map((d) => [d.topic, d.state, d.attempts.length])).toEqual([
      ["orders/create", "delivered", 1],
      ["inventory_levels/update", "delivered", 1],
    ]);
  });

  it("reuses its connection, and resends once on a fresh one when the app closed it under the attempt", async () => {
    // An app that answers a connection's first request and drops any later one unanswered: the
    // race of a kept-alive connection closed by the app just as it is reused.
    const seen: { reused: boolean; answered: boolean }[] = [];
    const server = http.createServer((req, res) => {
      const served = (req.socket as { served?: number }).served ?? 0;
      (req.socket as { served?: number }).served = served + 1;
      req.resume();
      req.on("end", () => {
        seen.push({ reused: served > 0, answered: served === 0 });
        if (served > 0) req.socket.destroy();
        else res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      sb.setShopSubscriptions(SHOP, {
        secret: SECRET,
        subscriptions: [
          {
            topics: ["inventory_levels/update"],
            address: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
          },
        ],
      });
      sb.configureDelivery({ keepAlive: true }, SHOP);
      sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
      expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
      sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
      expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
      // The second went out on the first's connection, was dropped there, and was sent again on
      // a new one within the same attempt: no failed attempt, no retry an hour later.
      expect(seen).toEqual([
        { reused: false, answered: true },
        { reused: true, answered: false },
        { reused: false, answered: true },
      ]);
      expect(sb.deliveries(SHOP).map((d) => [d.state, d.attempts.length])).toEqual([
        ["delivered", 1],
        ["delivered", 1],
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("retries failures on the (scaled) schedule with the original payload", async () => {
    receiver.respond = (n) => (n < 3 ? 500 : 200);
    subscribe(["inventory_levels/update"]);
    sb.timeScale = 0.002; // retries after 112, 226, 452 ms
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    sb.adjustInventory(SHOP, { sku: "SHIRT-M", delta: 0 }); // no change: no event
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests).toHaveLength(4);
    const [first] = receiver.requests;
    for (const request of receiver.requests) {
      expect(request.body).toBe(first?.body);
      expect(request.headers["x-shopify-webhook-id"]).toBe(first?.headers["x-shopify-webhook-id"]);
      expect(request.headers["x-shopify-event-id"]).toBe(first?.headers["x-shopify-event-id"]);
    }
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - (receiver.requests[i]?.at ?? 0));
    gaps.forEach((gap, i) => {
      const expected = (RETRY_INTERVALS_SECONDS[i] ?? 0) * 1000 * 0.002;
      expect(gap).toBeGreaterThanOrEqual(expected - 2);
      expect(gap).toBeLessThan(expected + 100);
    });
    const [delivery] = sb.deliveries(SHOP);
    expect(delivery?.state).toBe("delivered");
    expect(delivery?.attempts.map((a) => [a.status, a.ok])).toEqual([
      [500, false],
      [500, false],
      [500, false],
      [200, true],
    ]);
  });

  it("gives up after 8 retries; 3xx, timeouts and refused connections all count as failures", async () => {
    receiver.respond = () => 302;
    subscribe(["inventory_levels/update"]);
    sb.timeScale = 0.00005; // 4 h → 0.7 s
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    expect(await sb.waitForWebhooksIdle(8_000)).toBe(true);
    sb.timeScale = TIME_SCALE;
    expect(receiver.requests).toHaveLength(9);
    expect(sb.deliveries(SHOP)[0]?.state).toBe("failed");

    receiver.respond = (n) => (n === 9 ? "hang" : 200);
    sb.configureDelivery({ timeoutMs: 100 }, SHOP);
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    const timedOut = sb.deliveries(SHOP)[1];
    expect(timedOut?.attempts[0]).toMatchObject({
      ok: false,
      status: null,
      error: expect.stringMatching(/timeout/),
    });
    expect(timedOut?.state).toBe("delivered");

    await receiver.close();
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    await waitFor(
      () => (sb.deliveries(SHOP)[2]?.attempts.length ?? 0) >= 2,
      5_000,
      "two refused attempts",
    );
    expect(sb.deliveries(SHOP)[2]?.attempts[0]).toMatchObject({ ok: false, error: "ECONNREFUSED" });
  });

  it("sends duplicates with the same event id and a different webhook id", async () => {
    sb.configureDelivery({ duplicateProbability: 1 }, SHOP);
    subscribe(["orders/create"]);
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests).toHaveLength(2);
    const [a, b] = receiver.requests;
    expect(a?.headers["x-shopify-event-id"]).toBe(b?.headers["x-shopify-event-id"]);
    expect(a?.headers["x-shopify-webhook-id"]).not.toBe(b?.headers["x-shopify-webhook-id"]);
    expect(a?.body).toBe(b?.body);
    expect(sb.deliveries(SHOP).map((d) => d.duplicate)).toEqual([false, true]);
  });

  it("drops first attempts when asked: nothing reaches the app until the retry", async () => {
    subscribe(["inventory_levels/update"]);
    sb.configureDelivery({ dropFirstProbability: 1, dropRetryMs: [150, 200] }, SHOP);
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    await new Promise((r) => setTimeout(r, 60));
    expect(receiver.requests).toHaveLength(0);
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests).toHaveLength(1);
    const [delivery] = sb.deliveries(SHOP);
    expect(delivery?.state).toBe("delivered");
    const [dropped, retry] = delivery!.attempts;
    expect(dropped).toMatchObject({ attempt: 1, ok: false, status: null, dropped: true });
    expect(retry).toMatchObject({ attempt: 2, ok: true, status: 200 });
    const gap = Date.parse(retry!.startedAt) - Date.parse(dropped!.finishedAt);
    expect(gap).toBeGreaterThanOrEqual(140);
    expect(receiver.requests[0]!.at - Date.parse(dropped!.finishedAt)).toBeGreaterThanOrEqual(140);

    // Only first attempts are dropped; a probability of 0 (the default) drops none.
    receiver.requests.length = 0;
    sb.configureDelivery({ dropFirstProbability: 0 }, SHOP);
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(sb.deliveries(SHOP)[1]?.attempts.map((a) => a.ok)).toEqual([true]);
    expect(() => sb.configureDelivery({ dropFirstProbability: 2 })).toThrow(/within/);
    expect(() => sb.configureDelivery({ dropRetryMs: [5, 1] })).toThrow(/min <= max/);
  });

  it("keeps emission order by default and may reorder when asked", async () => {
    subscribe(["inventory_levels/update"]);
    sb.configureDelivery({ delayMs: [0, 30], concurrency: 1 }, SHOP);
    for (let i = 0; i < 15; i++) sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    const available = (r: { body: string }) =>
      (JSON.parse(r.body) as { available: number }).available;
    const inOrder = receiver.requests.map(available);
    expect(inOrder).toEqual(Array.from({ length: 15 }, (_, i) => 9 - i));

    receiver.requests.length = 0;
    sb.configureDelivery({ reorder: true, delayMs: [0, 60], concurrency: 10 }, SHOP);
    for (let i = 0; i < 15; i++) sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    const arrived = receiver.requests.map(available);
    expect([...arrived].sort((x, y) => y - x)).toEqual(
      Array.from({ length: 15 }, (_, i) => -6 - i),
    );
    expect(arrived).not.toEqual([...arrived].sort((x, y) => y - x));
  });

  it("pauses and resumes delivery; idle waits for everything", async () => {
    subscribe(["inventory_levels/update"]);
    sb.configureDelivery({ paused: true });
    sb.adjustInventory(SHOP, { sku: "SHIRT-S", delta: -1 });
    expect(await sb.waitForWebhooksIdle(100)).toBe(false);
    expect(receiver.requests).toHaveLength(0);
    const idle = await fetch(`${local.url}/_control/webhooks/idle`, {
      method: "POST",
      body: JSON.stringify({ timeoutMs: 50 }),
    });
    expect(idle.status).toBe(504);
    expect(await idle.json()).toEqual({ idle: false, pending: 1, inFlight: 0 });
    await fetch(`${local.url}/_control/webhooks/resume`, { method: "POST", body: "{}" });
    const done = await fetch(`${local.url}/_control/webhooks/idle`, { method: "POST", body: "{}" });
    expect(await done.json()).toEqual({ idle: true, pending: 0, inFlight: 0 });
    expect(receiver.requests).toHaveLength(1);
  });

  it("only delivers subscribed topics, once per subscription, with include_fields", async () => {
    sb.setShopSubscriptions(SHOP, {
      secret: SECRET,
      subscriptions: [
        { topics: ["orders/create", "orders/updated"], address: `${receiver.url}/orders` },
        {
          topics: ["inventory_levels/update"],
          address: `${receiver.url}/levels`,
          includeFields: ["inventory_item_id", "available"],
        },
      ],
    });
    sb.setAppSubscriptions({
      secret: SECRET,
      subscriptions: [{ topics: ["orders/create"], address: `${receiver.url}/app` }],
    });
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(
      receiver.requests.map((r) => `${r.path} ${r.headers["x-shopify-topic"]}`).sort(),
    ).toEqual([
      "/app orders/create",
      "/levels inventory_levels/update",
      "/orders orders/create",
      "/orders orders/updated",
    ]);
    const levels = receiver.requests.find((r) => r.path === "/levels");
    expect(Object.keys(JSON.parse(levels?.body ?? "{}") as object).sort()).toEqual([
      "available",
      "inventory_item_id",
    ]);
    expect(verify(levels?.body ?? "", levels?.headers["x-shopify-hmac-sha256"] as string)).toBe(
      true,
    );
  });

  it("records deliveries for the control API", async () => {
    subscribe(["orders/create"]);
    const response = await fetch(`${local.url}/_control/shops/${SHOP}/subscriptions`, {
      method: "POST",
      body: JSON.stringify({
        secret: SECRET,
        subscriptions: [{ topics: ["orders/create"], address: `${receiver.url}/x` }],
      }),
    });
    expect(response.status).toBe(200);
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    await sb.waitForWebhooksIdle(5_000);
    const { deliveries } = (await (
      await fetch(`${local.url}/_control/shops/${SHOP}/deliveries`)
    ).json()) as {
      deliveries: {
        topic: string;
        eventId: string;
        webhookId: string;
        address: string;
        attempts: { status: number; startedAt: string }[];
      }[];
    };
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      topic: "orders/create",
      address: `${receiver.url}/x`,
      attempts: [{ status: 200, startedAt: expect.any(String) }],
    });
  });
});

describe("subscriptionsFromToml", () => {
  it("reads the app's shopify.app.toml, ignoring compliance topics", () => {
    const toml = readFileSync(new URL("../../../shopify.app.toml", import.meta.url), "utf8");
    const subs = subscriptionsFromToml(toml, "http://127.0.0.1:3000");
    expect(subs.length).toBeGreaterThan(0);
    for (const sub of subs) {
      expect(sub.address.startsWith("http://127.0.0.1:3000/webhooks/")).toBe(true);
      expect(sub.topics).not.toContain("customers/redact");
    }
    expect(webhooksApiVersion(toml)).toBe("2026-10");
  });

  it("handles multi-line arrays, comments, absolute uris and include_fields", () => {
    const toml = `
[webhooks]
api_version = "2026-10"

  [[webhooks.subscriptions]]
  topics = [
    "orders/create", # new orders
    "orders/updated",
  ]
  uri = "/webhooks/orders" # handled by the orders route

  [[webhooks.subscriptions]]
  topics = ["inventory_levels/update"]
  uri = "https://example.com/levels"
  include_fields = ["inventory_item_id", "available"]

  [[webhooks.subscriptions]]
  compliance_topics = ["customers/data_request", "customers/redact", "shop/redact"]
  uri = "/webhooks/compliance"

[pos]
embedded = false
`;
    expect(subscriptionsFromToml(toml, "http://localhost:3000/")).toEqual([
      {
        topics: ["orders/create", "orders/updated"],
        address: "http://localhost:3000/webhooks/orders",
      },
      {
        topics: ["inventory_levels/update"],
        address: "https://example.com/levels",
        includeFields: ["inventory_item_id", "available"],
      },
    ]);
  });

  it("subscribes from TOML through the control API", async () => {
    const toml = `[[webhooks.subscriptions]]\ntopics = ["orders/create"]\nuri = "/hooks/orders"\n`;
    const response = await fetch(`${local.url}/_control/subscriptions`, {
      method: "POST",
      body: JSON.stringify({ secret: SECRET, toml, baseUrl: receiver.url }),
    });
    expect(await response.json()).toEqual({
      subscriptions: [
        {
          id: expect.any(String),
          topics: ["orders/create"],
          address: `${receiver.url}/hooks/orders`,
        },
      ],
    });
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual(["/hooks/orders"]);
  });
});
