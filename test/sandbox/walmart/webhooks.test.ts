/** Notifications API: subscriptions over HTTP, authenticated deliveries, retries, duplicates. */
import { createHmac, timingSafeEqual } from "node:crypto";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { PID, seedSeller, startReceiver, startTokenEndpoint, type Receiver } from "./fixtures";
import { startLocalWalmart } from "./server";

const TIME_SCALE = 0.0005; // retries after 30 ms and 150 ms
const local = await startLocalWalmart({
  rngSeed: 99,
  timeScale: TIME_SCALE,
  seed: { sellers: [seedSeller()] },
});
afterAll(() => local.close());
const sb = local.sandbox;
const HMAC_SECRET = "our-hmac-secret-for-walmart";
let token = "";
let receiver: Receiver;

beforeEach(async () => {
  sb.reset();
  sb.timeScale = TIME_SCALE;
  token = await local.token(PID);
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

const api = (method: string, path: string, body?: unknown) =>
  local.call(PID, method, path, { token, ...(body === undefined ? {} : { body }) });

async function subscribe(events: Record<string, unknown>[]) {
  const res = await api("POST", "/v3/webhooks/subscriptions", { events });
  expect(res.status).toBe(200);
  return (res.body as { events: { subscriptionId: string }[] }).events;
}

const hmacEvent = (eventType: string, resourceName = "ORDER", path = "/walmart") => ({
  eventType,
  eventVersion: "V1",
  resourceName,
  eventUrl: `${receiver.url}${path}`,
  status: "ACTIVE",
  authDetails: {
    authMethod: "HMAC",
    clientSecret: HMAC_SECRET,
    authHeaderName: "X-Walmart-Signature",
  },
  headers: { "content-type": "application/json", "x-tenant": "stockguard-test" },
});

function verifyHmac(body: string, header: string | string[] | undefined): boolean {
  const expected = createHmac("sha256", HMAC_SECRET).update(body, "utf8").digest();
  const given = Buffer.from(String(header ?? ""), "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

type Envelope = {
  source: { eventType: string; eventTime: string; eventId: string; eventFilters?: null };
  payload: Record<string, unknown>;
};
const parsed = (r: { body: string }) => JSON.parse(r.body) as Envelope;

describe("subscriptions API", () => {
  it("creates, lists, updates and deletes subscriptions; lists event types", async () => {
    const created = await api("POST", "/v3/webhooks/subscriptions", {
      events: [
        hmacEvent("PO_CREATED"),
        {
          eventType: "OFFER_UNPUBLISHED",
          eventVersion: "V1",
          resourceName: "ITEM",
          eventUrl: `${receiver.url}/items`,
          status: "ACTIVE",
          authDetails: {
            authMethod: "BASIC_AUTH",
            userName: "abc",
            password: "test",
            authHeaderName: "Authorization",
          },
        },
      ],
    });
    expect(created.headers.get("x-current-token-count")).toBe("999");
    const events = (created.body as { events: Record<string, string>[] }).events;
    expect(events).toEqual([
      {
        eventType: "PO_CREATED",
        subscriptionId: expect.stringMatching(
          /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        ),
        partnerId: PID,
        eventVersion: "V1",
        resourceName: "ORDER",
        status: "ACTIVE",
      },
      expect.objectContaining({ eventType: "OFFER_UNPUBLISHED", resourceName: "ITEM" }),
    ]);
    const [po, offer] = events;
    const list = await api("GET", "/v3/webhooks/subscriptions?resourceName=ITEM");
    expect(list.body).toEqual({
      events: [
        {
          eventType: "OFFER_UNPUBLISHED",
          subscriptionId: offer?.subscriptionId,
          partnerId: PID,
          eventVersion: "V1",
          resourceName: "ITEM",
          eventUrl: `${receiver.url}/items`,
          authDetails: {
            authMethod: "BASIC_AUTH",
            authHeaderName: "Authorization",
            userName: "abc",
            password: "test",
          },
          status: "ACTIVE",
        },
      ],
    });
    const patched = await api("PATCH", `/v3/webhooks/subscriptions/${po?.subscriptionId}`, {
      status: "INACTIVE",
    });
    expect(patched.body).toMatchObject({
      subscriptionId: po?.subscriptionId,
      status: "INACTIVE",
      eventType: "PO_CREATED",
    });
    sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] });
    expect(await sb.waitForIdle(2000)).toBe(true);
    expect(receiver.requests).toHaveLength(0); // INACTIVE: nothing delivered
    const deleted = await api("DELETE", `/v3/webhooks/subscriptions/${po?.subscriptionId}`);
    expect(deleted.body).toEqual({
      subscriptionId: po?.subscriptionId,
      message: "Successfully deleted subscription",
    });
    expect((await api("DELETE", `/v3/webhooks/subscriptions/${po?.subscriptionId}`)).status).toBe(
      404,
    );
    const types = await api("GET", "/v3/webhooks/eventTypes");
    expect(
      (types.body as { events: { eventType: string; resourceName: string }[] }).events,
    ).toEqual(
      expect.arrayContaining([
        {
          resourceName: "ORDER",
          eventType: "PO_CREATED",
          eventVersion: "V1",
          description: expect.any(String),
        },
        expect.objectContaining({ eventType: "ORDER_UPDATES", resourceName: "ORDER" }),
        expect.objectContaining({ eventType: "INVENTORY_OOS", resourceName: "INVENTORY" }),
        expect.objectContaining({ eventType: "OFFER_UNPUBLISHED", resourceName: "ITEM" }),
      ]),
    );
  });

  it("validates subscription records (400 with the field)", async () => {
    const wrongResource = await api("POST", "/v3/webhooks/subscriptions", {
      events: [hmacEvent("PO_CREATED", "ITEM")],
    });
    expect(wrongResource.status).toBe(400);
    expect(wrongResource.body).toMatchObject({
      error: [
        { code: "INVALID_REQUEST_CONTENT.GMP_NOTIFICATION_API", field: "events[0].resourceName" },
      ],
    });
    const noSecret = await api("POST", "/v3/webhooks/subscriptions", {
      events: [{ ...hmacEvent("PO_CREATED"), authDetails: { authMethod: "HMAC" } }],
    });
    expect(noSecret.status).toBe(400);
    const unknown = await api("POST", "/v3/webhooks/subscriptions", {
      events: [hmacEvent("NOT_AN_EVENT")],
    });
    expect(unknown.status).toBe(400);
    expect(sb.subscriptions(PID)).toEqual([]);
  });

  it("POST /v3/webhooks/test sends one authenticated sample and reports the outcome", async () => {
    const { eventType, eventVersion, resourceName, eventUrl, headers } = hmacEvent(
      "OFFER_UNPUBLISHED",
      "ITEM",
    );
    const body = {
      eventType,
      eventVersion,
      resourceName,
      eventUrl,
      headers,
      authDetails: {
        authMethod: "BASIC_AUTH",
        userName: "abc",
        password: "test",
        authHeaderName: "Authorization",
      },
    };
    const okRes = await api("POST", "/v3/webhooks/test", body);
    expect(okRes.status).toBe(200);
    expect(okRes.body).toEqual({ message: "Eventurl successfully validated" });
    expect(receiver.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("abc:test").toString("base64")}`,
    );
    expect(parsed(receiver.requests[0] as { body: string }).source.eventType).toBe(
      "OFFER_UNPUBLISHED",
    );
    receiver.respond = () => 500;
    const failed = await api("POST", "/v3/webhooks/test", body);
    expect(failed.status).toBe(400);
    expect(failed.body).toMatchObject({
      error: [{ field: "eventUrl", description: expect.stringMatching(/HTTP 500/) }],
    });
    expect(sb.deliveries().map((d) => [d.test, d.state])).toEqual([
      [true, "delivered"],
      [true, "failed"],
    ]);
  });
});

describe("delivery", () => {
  it("POSTs PO_CREATED with an HMAC-SHA256 (base64) of the raw body keyed with clientSecret", async () => {
    await subscribe([hmacEvent("PO_CREATED")]);
    const order = sb.placeOrder(PID, {
      lines: [
        { sku: "MUG-BLUE", qty: 2 },
        { sku: "TEE-S", qty: 1 },
      ],
    });
    expect(await sb.waitForIdle(2000)).toBe(true);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    if (!request) throw new Error("no request");
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/walmart");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["x-tenant"]).toBe("stockguard-test");
    expect(verifyHmac(request.body, request.headers["x-walmart-signature"])).toBe(true);
    expect(verifyHmac(`${request.body} `, request.headers["x-walmart-signature"])).toBe(false);
    const event = parsed(request);
    expect(event).toEqual({
      source: {
        eventType: "PO_CREATED",
        eventTime: expect.any(String),
        eventId: sb.events[0]?.eventId,
      },
      payload: {
        partnerId: PID,
        purchaseOrderId: order.purchaseOrderId,
        customerOrderId: order.customerOrderId,
        orderDate: new Date(order.orderDate).toISOString(),
        estimatedDeliveryDate: expect.any(String),
        estimatedShipDate: expect.any(String),
        orderLines: [
          {
            lineNumber: "1",
            sku: "MUG-BLUE",
            productName: "Blue Mug",
            quantity: { unitOfMeasure: "EACH", measurementValue: "2" },
            status: "CREATED",
            statusDate: expect.any(String),
            shippingMethod: "Value",
            shipNodeType: "SellerFulfilled",
          },
          expect.objectContaining({
            lineNumber: "2",
            sku: "TEE-S",
            quantity: { unitOfMeasure: "EACH", measurementValue: "1" },
          }),
        ],
      },
    });
    expect(sb.deliveries()).toEqual([
      expect.objectContaining({
        eventType: "PO_CREATED",
        state: "delivered",
        authMethod: "HMAC",
        duplicate: false,
      }),
    ]);
  });

  it("sends BASIC_AUTH as base64(userName:password) under authHeaderName", async () => {
    await subscribe([
      {
        eventType: "OFFER_UNPUBLISHED",
        eventVersion: "V1",
        resourceName: "ITEM",
        eventUrl: `${receiver.url}/items`,
        status: "ACTIVE",
        authDetails: {
          authMethod: "BASIC_AUTH",
          userName: "walmart",
          password: "s3cret",
          authHeaderName: "X-Auth",
        },
      },
    ]);
    sb.unpublishItem(PID, "MUG-RED", {
      reasons: { REASONABLE_PRICE_NOT_SATISFIED: "Price is too high" },
    });
    expect(await sb.waitForIdle(2000)).toBe(true);
    const [request] = receiver.requests;
    expect(request?.headers["x-auth"]).toBe(
      `Basic ${Buffer.from("walmart:s3cret").toString("base64")}`,
    );
    expect(parsed(request as { body: string }).payload).toEqual({
      partnerId: PID,
      sku: "MUG-RED",
      publishStatus: "UNPUBLISHED",
      lifecycleStatus: "ACTIVE",
      statusChangeReasons: { REASONABLE_PRICE_NOT_SATISFIED: "Price is too high" },
    });
    expect((await api("GET", "/v3/items/MUG-RED")).body).toMatchObject({
      ItemResponse: [
        { publishedStatus: "UNPUBLISHED", unpublishedReasons: { reason: ["Price is too high"] } },
      ],
    });
  });

  it("OAUTH: fetches a client-credentials token from authUrl once, then sends Bearer", async () => {
    const tokens = await startTokenEndpoint("wm-client", "wm-secret");
    try {
      await subscribe([
        {
          eventType: "INVENTORY_OOS",
          eventVersion: "V1",
          resourceName: "INVENTORY",
          eventUrl: `${receiver.url}/oos`,
          status: "ACTIVE",
          authDetails: {
            authMethod: "OAUTH",
            clientId: "wm-client",
            clientSecret: "wm-secret",
            authUrl: `${tokens.url}/oauth/token`,
            authHeaderName: "Authorization",
          },
        },
      ]);
      sb.setInventory(PID, { sku: "MUG-BLUE", quantity: 0 });
      sb.setInventory(PID, { sku: "MUG-RED", quantity: 0 });
      expect(await sb.waitForIdle(2000)).toBe(true);
      expect(tokens.requests).toHaveLength(1);
      const [tokenRequest] = tokens.requests;
      expect(tokenRequest?.path).toBe("/oauth/token");
      expect(tokenRequest?.body).toBe("grant_type=client_credentials");
      expect(tokenRequest?.headers["content-type"]).toBe(
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
      );
      expect(tokenRequest?.headers.accept).toBe("application/json; charset=UTF-8");
      expect(receiver.requests.map((r) => r.headers.authorization)).toEqual([
        "Bearer local-token-1",
        "Bearer local-token-1",
      ]);
      expect(receiver.requests.map((r) => (parsed(r).payload as { sku: string }).sku)).toEqual([
        "MUG-BLUE",
        "MUG-RED",
      ]);
      expect(sb.deliveries().map((d) => d.attempts[0]?.tokenFetch?.status ?? null)).toEqual([
        200,
        null,
      ]);
    } finally {
      await tokens.close();
    }
  });

  it("OAUTH: a failing token endpoint fails the attempt, and a 401 drops the cached token", async () => {
    const tokens = await startTokenEndpoint("wm-client", "right-secret");
    try {
      await subscribe([
        {
          eventType: "INVENTORY_OOS",
          eventVersion: "V1",
          resourceName: "INVENTORY",
          eventUrl: `${receiver.url}/oos`,
          status: "ACTIVE",
          authDetails: {
            authMethod: "OAUTH",
            clientId: "wm-client",
            clientSecret: "wrong",
            authUrl: tokens.url,
          },
        },
      ]);
      sb.setInventory(PID, { sku: "MUG-BLUE", quantity: 0 });
      expect(await sb.waitForIdle(2000)).toBe(true);
      expect(receiver.requests).toHaveLength(0);
      const [delivery] = sb.deliveries();
      expect(delivery?.state).toBe("failed");
      expect(delivery?.attempts.map((a) => [a.tokenFetch?.status, a.error])).toEqual([
        [401, "oauth token request failed: HTTP 401"],
        [401, "oauth token request failed: HTTP 401"],
        [401, "oauth token request failed: HTTP 401"],
      ]);
    } finally {
      await tokens.close();
    }
  });

  it("retries without a 2xx: three attempts in total, on the scaled schedule, same body", async () => {
    receiver.respond = (n) => (n < 2 ? 503 : 200);
    await subscribe([hmacEvent("PO_CREATED")]);
    sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] });
    expect(await sb.waitForIdle(3000)).toBe(true);
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - (receiver.requests[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(60_000 * TIME_SCALE - 2);
    expect(gaps[1]).toBeGreaterThanOrEqual(300_000 * TIME_SCALE - 2);
    expect(sb.deliveries()[0]?.attempts.map((a) => [a.status, a.ok])).toEqual([
      [503, false],
      [503, false],
      [200, true],
    ]);

    receiver.requests.length = 0;
    receiver.respond = () => 500;
    sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] });
    expect(await sb.waitForIdle(3000)).toBe(true);
    expect(receiver.requests).toHaveLength(3);
    expect(sb.deliveries()[1]).toMatchObject({ state: "failed", nextAttemptAt: null });
  });

  it("injected delivery faults fail attempts without reaching the endpoint", async () => {
    await subscribe([hmacEvent("PO_CREATED")]);
    sb.addDeliveryFault({ count: 2, eventType: "PO_CREATED" });
    sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] });
    expect(await sb.waitForIdle(3000)).toBe(true);
    expect(receiver.requests).toHaveLength(1);
    expect(sb.deliveries()[0]?.attempts.map((a) => [a.ok, a.error])).toEqual([
      [false, "injected delivery fault"],
      [false, "injected delivery fault"],
      [true, null],
    ]);
  });

  it("duplicates events when configured: same eventId, same body", async () => {
    sb.configureDelivery({ duplicateProbability: 1 });
    await subscribe([hmacEvent("PO_CREATED")]);
    sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] });
    expect(await sb.waitForIdle(2000)).toBe(true);
    expect(receiver.requests).toHaveLength(2);
    const [a, b] = receiver.requests.map(parsed);
    expect(a?.source.eventId).toBe(b?.source.eventId);
    expect(receiver.requests[0]?.body).toBe(receiver.requests[1]?.body);
    expect(sb.deliveries().map((d) => d.duplicate)).toEqual([false, true]);
  });

  it("delays and reorders deliveries when configured (seeded)", async () => {
    sb.configureDelivery({ delayMs: [0, 150], reorder: true });
    await subscribe([hmacEvent("PO_CREATED")]);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++)
      ids.push(sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] }).purchaseOrderId);
    expect(await sb.waitForIdle(3000)).toBe(true);
    const arrived = receiver.requests.map(
      (r) => (parsed(r).payload as { purchaseOrderId: string }).purchaseOrderId,
    );
    expect([...arrived].sort()).toEqual([...ids].sort());
    expect(arrived).not.toEqual(ids);

    receiver.requests.length = 0;
    sb.configureDelivery({ reorder: false, concurrency: 1 });
    const inOrder: string[] = [];
    for (let i = 0; i < 3; i++) {
      inOrder.push(sb.placeOrder(PID, { lines: [{ sku: "MUG-RED", qty: 1 }] }).purchaseOrderId);
    }
    expect(await sb.waitForIdle(3000)).toBe(true);
    // Still delayed, but first attempts leave in emission order.
    expect(
      receiver.requests.map(
        (r) => (parsed(r).payload as { purchaseOrderId: string }).purchaseOrderId,
      ),
    ).toEqual(inOrder);
  });
});

describe("order and inventory events", () => {
  it("ORDER_UPDATES carries subEventType PO_CREATED, PO_LINE_AUTOCANCELLED, INTENT_TO_CANCEL, FRAUD_CANCEL", async () => {
    sb.configureDelivery({ concurrency: 1 });
    await subscribe([
      hmacEvent("ORDER_UPDATES", "ORDER", "/updates"),
      hmacEvent("PO_LINE_AUTOCANCELLED", "ORDER", "/v1"),
    ]);
    const a = sb.placeOrder(PID, {
      lines: [
        { sku: "MUG-BLUE", qty: 2 },
        { sku: "MUG-RED", qty: 1 },
      ],
    });
    sb.cancelLine(PID, a.purchaseOrderId, "2", { kind: "auto" });
    sb.cancelLine(PID, a.purchaseOrderId, "1", { kind: "intent" });
    const b = sb.placeOrder(PID, { lines: [{ sku: "MUG-BLUE", qty: 1 }] });
    sb.cancelLines(PID, b.purchaseOrderId, { kind: "fraud" });
    expect(await sb.waitForIdle(2000)).toBe(true);
    const updates = receiver.requests.filter((r) => r.path === "/updates").map(parsed);
    expect(updates.map((e) => [e.source.eventType, e.payload.subEventType])).toEqual([
      ["ORDER_UPDATES", "PO_CREATED"],
      ["ORDER_UPDATES", "PO_LINE_AUTOCANCELLED"],
      ["ORDER_UPDATES", "INTENT_TO_CANCEL"],
      ["ORDER_UPDATES", "PO_CREATED"],
      ["ORDER_UPDATES", "FRAUD_CANCEL"],
    ]);
    expect(updates[0]?.source.eventFilters).toBeNull();
    expect(updates[1]?.payload).toMatchObject({
      meta: { subEventType: "PO_LINE_AUTOCANCELLED" },
      order: {
        purchaseOrderId: a.purchaseOrderId,
        orderLines: [
          {
            lineNumber: "2",
            sku: "MUG-RED",
            status: "CANCELLED",
            quantity: { unitOfMeasure: "EACH", measurementValue: "1" },
            cancellationReason: expect.any(String),
          },
        ],
      },
    });
    expect(updates[2]?.payload).toMatchObject({
      order: {
        orderLines: [
          {
            lineNumber: "1",
            status: "CREATED",
            cancellationReason: "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
          },
        ],
      },
    });
    expect(updates[4]?.payload).toMatchObject({
      order: { purchaseOrderId: b.purchaseOrderId, orderLines: [{ status: "CANCELLED" }] },
    });
    const v1 = receiver.requests.filter((r) => r.path === "/v1").map(parsed);
    expect(
      v1.map((e) => [e.source.eventType, (e.payload.orderLines as { sku: string }[])[0]?.sku]),
    ).toEqual([["PO_LINE_AUTOCANCELLED", "MUG-RED"]]);
    // cancellations are visible on the order and release the reservation
    const order = (await api("GET", `/v3/orders/${a.purchaseOrderId}`)).body as {
      order: {
        orderLines: {
          orderLine: {
            intentToCancel?: string;
            orderLineStatuses: { orderLineStatus: { status: string }[] };
          }[];
        };
      };
    };
    expect(
      order.order.orderLines.orderLine.map((l) => [
        l.orderLineStatuses.orderLineStatus[0]?.status,
        l.intentToCancel,
      ]),
    ).toEqual([
      ["Created", "Y"],
      ["Cancelled", undefined],
    ]);
    expect(sb.item(PID, "MUG-RED").availToSellQty).toBe(3);
  });

  it("delivers INVENTORY_OOS when an order takes the last unit", async () => {
    await subscribe([hmacEvent("INVENTORY_OOS", "INVENTORY", "/oos")]);
    sb.placeOrder(PID, { lines: [{ sku: "MUG-RED", qty: 3 }] });
    expect(await sb.waitForIdle(2000)).toBe(true);
    expect(receiver.requests).toHaveLength(1);
    const event = parsed(receiver.requests[0] as { body: string });
    expect(event.source.eventType).toBe("INVENTORY_OOS");
    expect(event.payload).toMatchObject({
      sku: "MUG-RED",
      shipNodes: [{ availToSellQty: 0 }, { availToSellQty: 0 }],
    });
    expect(
      verifyHmac(
        receiver.requests[0]?.body ?? "",
        receiver.requests[0]?.headers["x-walmart-signature"],
      ),
    ).toBe(true);
  });
});
