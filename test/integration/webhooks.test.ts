import { Queue } from "bullmq";
import { afterEach, describe, expect, it, vi } from "vitest";
import prisma from "../../app/db.server";
import { env } from "../../app/env.server";
import { sqlPool } from "../../app/lib/sql.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { seedShop } from "../factories/shop";
import { untilSomeoneWaitsForALock } from "../helpers/lock-waits";
import { shopifyWebhookRequest } from "../helpers/webhooks";

type Action = (args: {
  request: Request;
  params: Record<string, string>;
  context: object;
}) => Promise<Response>;

// Every Shopify webhook route the app serves, discovered from the file system (marketplace
// routes, `/webhooks/<kind>/<connection id>`, have their own tests).
const routeModules = import.meta.glob<{ action: Action }>("../../app/routes/webhooks.*.tsx");
const routes = Object.entries(routeModules)
  .filter(([file]) => !file.includes("$"))
  .map(([file, load]) => ({
    path: `/${file
      .replace(/^.*routes\//, "")
      .replace(/\.tsx$/, "")
      .replaceAll(".", "/")}`,
    load,
  }));

async function call(path: string, request: Request): Promise<Response> {
  const route = routes.find((r) => r.path === path);
  if (!route) throw new Error(`no route ${path}`);
  const { action } = await route.load();
  try {
    return await action({ request, params: {}, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

async function stored() {
  return {
    receipts: await prisma.receipt.count(),
    rejected: await prisma.rejectedDelivery.count(),
    compliance: await prisma.complianceRequest.count(),
    movements: await prisma.movement.count(),
  };
}

function order(id: number, overrides: Record<string, unknown> = {}) {
  return {
    id,
    name: `#${id}`,
    email: "buyer@example.com",
    customer: { id: 9, email: "buyer@example.com", first_name: "Ada" },
    created_at: "2026-11-26T10:00:00-05:00",
    updated_at: "2026-11-26T10:00:00-05:00",
    cancelled_at: null,
    line_items: [{ id: 11, variant_id: 1, sku: "A", quantity: 2, current_quantity: 2 }],
    refunds: [],
    fulfillments: [],
    ...overrides,
  };
}

describe("webhook routes", () => {
  it("finds every route declared in shopify.app.toml", async () => {
    const { readFileSync } = await import("node:fs");
    const toml = readFileSync("shopify.app.toml", "utf8");
    const uris = [...toml.matchAll(/uri = "([^"]+)"/g)].map((m) => m[1]);
    expect(uris.length).toBeGreaterThanOrEqual(8);
    for (const uri of uris) expect(routes.map((r) => r.path)).toContain(uri);
  });

  it("rejects unsigned and wrongly signed requests with 401 on every route, storing nothing", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "A", onHand: 5 }] });
    const before = await stored();
    for (const { path } of routes) {
      const unsigned = shopifyWebhookRequest({
        topic: "orders/create",
        shop: shop.domain,
        body: order(1),
        unsigned: true,
        url: `https://x${path}`,
      });
      expect((await call(path, unsigned)).status, `${path} unsigned`).toBe(401);
      const forged = shopifyWebhookRequest({
        topic: "orders/create",
        shop: shop.domain,
        body: order(1),
        signWith: "not-the-secret",
      });
      expect((await call(path, forged)).status, `${path} wrong signature`).toBe(401);
    }
    expect(await stored()).toEqual(before);
  });

  it("answers 400 to a signed request with malformed JSON", async () => {
    const shop = await seedShop(prisma);
    for (const { path } of routes) {
      const request = shopifyWebhookRequest({
        topic: "orders/create",
        shop: shop.domain,
        body: null,
        rawBody: "{not json",
      });
      expect((await call(path, request)).status, path).toBe(400);
    }
  });
});

describe("order webhooks", () => {
  it("store a receipt keyed by the event id, enqueue it once, and answer duplicates with 200", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "A", onHand: 5 }] });
    const body = order(1001);
    const first = await call(
      "/webhooks/orders",
      shopifyWebhookRequest({ topic: "orders/create", shop: shop.domain, body, eventId: "ev-1" }),
    );
    expect(first.status).toBe(200);
    const again = await call(
      "/webhooks/orders",
      shopifyWebhookRequest({ topic: "orders/create", shop: shop.domain, body, eventId: "ev-1" }),
    );
    expect(again.status).toBe(200);
    const receipts = await prisma.receipt.findMany({ where: { shopId: shop.shopId } });
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatchObject({
      topic: "orders/create",
      eventId: "ev-1",
      resourceId: "1001",
      status: "pending",
    });
    // No customer data is kept.
    expect(JSON.stringify(receipts[0]!.payload)).not.toContain("buyer@example.com");
    expect(JSON.stringify(receipts[0]!.payload)).not.toContain("Ada");
    const ingest = new Queue("ingest", {
      connection: { url: env().REDIS_URL },
      prefix: env().QUEUE_PREFIX,
    });
    expect(await ingest.getJob(`r-${receipts[0]!.id}`)).toBeTruthy();
    await ingest.close();
  });

  it("records a level change in the request, without a receipt, and schedules its read", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "LV", onHand: 5 }] });
    const listing = await prisma.listing.findFirstOrThrow({ where: { shopId: shop.shopId } });
    await prisma.listing.update({ where: { id: listing.id }, data: { remoteQuantity: 5 } });
    const level = (available: number) => ({
      inventory_item_id: 1,
      location_id: 1,
      available,
      updated_at: "2026-11-26T10:00:00-05:00",
    });
    const send = (available: number, eventId: string) =>
      call(
        "/webhooks/inventory_levels/update",
        shopifyWebhookRequest({
          topic: "inventory_levels/update",
          shop: shop.domain,
          body: level(available),
          eventId,
        }),
      );
    // What we already know (an echo): nothing changes.
    expect((await send(5, "lv-1")).status).toBe(200);
    expect(await prisma.listing.findUniqueOrThrow({ where: { id: listing.id } })).toMatchObject({
      remoteQuantity: 5,
      remoteSource: null,
    });
    // A real change at the source: observed now, flagged for a read, no receipt.
    expect((await send(3, "lv-2")).status).toBe(200);
    expect((await send(3, "lv-2")).status).toBe(200);
    expect(await prisma.listing.findUniqueOrThrow({ where: { id: listing.id } })).toMatchObject({
      remoteQuantity: 3,
      remoteSource: "webhook",
    });
    expect(await prisma.receipt.count({ where: { shopId: shop.shopId } })).toBe(0);
    const maintenance = new Queue("maintenance", {
      connection: { url: env().REDIS_URL },
      prefix: env().QUEUE_PREFIX,
    });
    const jobs = await maintenance.getJobs(["delayed", "waiting"]);
    await maintenance.close();
    expect(
      jobs.some(
        (j) =>
          j.data.task === "read_source_levels" && j.data.connectionId === shop.sourceConnectionId,
      ),
    ).toBe(true);
  });

  it("settles an orders/updated that changes nothing before storing it, and stores any other", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "A", onHand: 5 }] });
    const send = (topic: string, body: object, eventId: string) =>
      call("/webhooks/orders", shopifyWebhookRequest({ topic, shop: shop.domain, body, eventId }));
    const receipts = () => prisma.receipt.count({ where: { shopId: shop.shopId } });
    const line = () => prisma.orderLine.findFirstOrThrow({ where: { orderId: "2001" } });

    // Before the order's lines are known (its creation still on its way): stored.
    const early = order(2001, { updated_at: "2026-11-26T10:00:01-05:00" });
    expect((await send("orders/updated", early, "up-0")).status).toBe(200);
    expect(await receipts()).toBe(1);
    await prisma.receipt.deleteMany({ where: { shopId: shop.shopId } });

    expect((await send("orders/create", order(2001), "cr-1")).status).toBe(200);
    const created = await prisma.receipt.findFirstOrThrow({ where: { eventId: "cr-1" } });
    expect(await ingestReceipt(created.id)).toMatchObject({ status: "applied", applied: 1 });
    const movements = await prisma.movement.count({ where: { shopId: shop.shopId } });

    // The payment update that follows: same quantities, a newer version, nothing stored.
    const paid = order(2001, { updated_at: "2026-11-26T10:00:05-05:00" });
    expect((await send("orders/updated", paid, "up-1")).status).toBe(200);
    expect(await receipts()).toBe(1);
    expect(await prisma.movement.count({ where: { shopId: shop.shopId } })).toBe(movements);
    expect((await line()).orderedVersion).toBe(new Date("2026-11-26T15:00:05Z").toISOString());

    // An edit is stored (and applied by its ingest as usual).
    const edited = order(2001, {
      updated_at: "2026-11-26T10:00:09-05:00",
      line_items: [{ id: 11, variant_id: 1, sku: "A", quantity: 2, current_quantity: 1 }],
    });
    expect((await send("orders/updated", edited, "up-2")).status).toBe(200);
    expect(await receipts()).toBe(2);

    // While an apply is changing the order's lines, the settle waits for it and judges what it
    // committed: the lines now say 1 unit, so a snapshot of 2 units is stored, not settled.
    const applying = await sqlPool().connect();
    try {
      await applying.query("BEGIN");
      await applying.query(
        "UPDATE order_line SET ordered = 1 WHERE order_id = '2001' AND connection_id = $1",
        [shop.sourceConnectionId],
      );
      const stale = order(2001, { updated_at: "2026-11-26T10:00:07-05:00" });
      const answered = send("orders/updated", stale, "up-3");
      expect(await untilSomeoneWaitsForALock(prisma, "the settle")).toBe(true);
      await applying.query("COMMIT");
      expect((await answered).status).toBe(200);
    } finally {
      applying.release();
    }
    expect(await receipts()).toBe(3);
  });

  it("falls back to the webhook id when the event id header is missing", async () => {
    const shop = await seedShop(prisma);
    const request = shopifyWebhookRequest({
      topic: "orders/create",
      shop: shop.domain,
      body: order(5),
      webhookId: "wh-77",
    });
    request.headers.delete("x-shopify-event-id");
    expect((await call("/webhooks/orders", request)).status).toBe(200);
    expect(await prisma.receipt.findFirst({ where: { shopId: shop.shopId } })).toMatchObject({
      eventId: "wh-77",
      webhookId: "wh-77",
    });
  });

  it("rejects a schema-violating payload with 400 and records it for support", async () => {
    const shop = await seedShop(prisma);
    const response = await call(
      "/webhooks/orders",
      shopifyWebhookRequest({
        topic: "orders/create",
        shop: shop.domain,
        body: order(7, { line_items: [{ id: 1, quantity: -3 }] }),
      }),
    );
    expect(response.status).toBe(400);
    expect(await prisma.receipt.count({ where: { shopId: shop.shopId } })).toBe(0);
    const rejected = await prisma.rejectedDelivery.findFirstOrThrow({
      where: { shopId: shop.shopId },
    });
    expect(rejected).toMatchObject({ topic: "orders/create", shopDomain: shop.domain });
    expect(rejected.reason).toMatch(/line_items\.0\.quantity/);
  });

  it("answers 401 for a store it does not know, storing nothing", async () => {
    const response = await call(
      "/webhooks/orders",
      shopifyWebhookRequest({
        topic: "orders/create",
        shop: "stranger.myshopify.com",
        body: order(1),
      }),
    );
    expect(response.status).toBe(401);
    expect(await prisma.receipt.count({ where: { topic: "orders/create", resourceId: "1" } })).toBe(
      0,
    );
  });

  it("answers 503 when the receipt cannot be stored, so Shopify retries", async () => {
    const shop = await seedShop(prisma);
    const receipts = await import("../../app/repositories/receipts.server");
    const spy = vi
      .spyOn(receipts, "storeReceipt")
      .mockRejectedValueOnce(new Error("database down"));
    const response = await call(
      "/webhooks/orders",
      shopifyWebhookRequest({ topic: "orders/create", shop: shop.domain, body: order(2) }),
    );
    spy.mockRestore();
    expect(response.status).toBe(503);
  });
});

describe("webhook routes while the database is unreachable (decision 0023)", () => {
  // Each test starts with no outage remembered (a test's outage must not hold the next's).
  afterEach(async () => {
    const { databaseAnswered } = await import("../../app/services/inbound/outage.server");
    databaseAnswered();
  });
  const unreachable = () =>
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  const spoolQueue = () =>
    new Queue("spool", { connection: { url: env().REDIS_URL }, prefix: env().QUEUE_PREFIX });
  /** Runs a held job through the worker's own spool processor. */
  async function drain(jobId: string) {
    const queue = spoolQueue();
    const job = await queue.getJob(jobId);
    await queue.close();
    expect(job, `spool job ${jobId}`).toBeTruthy();
    const { processors } = await import("../../workers/processors");
    return processors().spool!.processor(job!, "test-token");
  }

  it("holds an order it cannot store in the spool, answers 200, and stores it as received once the database is back", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "A", onHand: 5 }] });
    const receipts = await import("../../app/repositories/receipts.server");
    const spy = vi.spyOn(receipts, "storeReceipt").mockRejectedValueOnce(unreachable());
    const response = await call(
      "/webhooks/orders",
      shopifyWebhookRequest({
        topic: "orders/create",
        shop: shop.domain,
        body: order(3001),
        eventId: "spool-1",
      }),
    );
    spy.mockRestore();
    expect(response.status).toBe(200);
    expect(await prisma.receipt.count({ where: { shopId: shop.shopId } })).toBe(0);

    const jobId = `s-${shop.sourceConnectionId}-spool-1`;
    const queue = spoolQueue();
    const held = await queue.getJob(jobId);
    await queue.close();
    expect(held?.data).toMatchObject({
      accountRef: shop.domain,
      connectionId: shop.sourceConnectionId,
      topic: "orders/create",
      eventId: "spool-1",
    });
    await new Promise((r) => setTimeout(r, 50)); // the receipt keeps the web's time, not the drain's
    expect(await drain(jobId)).toBe("stored");
    const receipt = await prisma.receipt.findFirstOrThrow({ where: { shopId: shop.shopId } });
    expect(receipt).toMatchObject({
      topic: "orders/create",
      eventId: "spool-1",
      resourceId: "3001",
    });
    expect(receipt.receivedAt.toISOString()).toBe(held!.data.receivedAt);
    await ingestReceipt(receipt.id);
    expect(await prisma.orderLine.count({ where: { orderId: "3001" } })).toBe(1);
    // Shopify's own duplicate of the event, held too: stored once.
    expect(await drain(jobId)).toBe("duplicate");
    expect(await prisma.receipt.count({ where: { shopId: shop.shopId } })).toBe(1);
  });

  it("holds a level it cannot record and records it with its received time when drained", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "LS", onHand: 5 }] });
    const listing = await prisma.listing.findFirstOrThrow({ where: { shopId: shop.shopId } });
    await prisma.listing.update({ where: { id: listing.id }, data: { remoteQuantity: 5 } });
    const listings = await import("../../app/repositories/listings.server");
    const spy = vi.spyOn(listings, "listingAtLevel").mockRejectedValueOnce(unreachable());
    const response = await call(
      "/webhooks/inventory_levels/update",
      shopifyWebhookRequest({
        topic: "inventory_levels/update",
        shop: shop.domain,
        body: {
          inventory_item_id: 1,
          location_id: 1,
          available: 2,
          updated_at: "2026-11-26T10:00:00-05:00",
        },
        eventId: "spool-level",
      }),
    );
    spy.mockRestore();
    expect(response.status).toBe(200);
    expect(await prisma.listing.findUniqueOrThrow({ where: { id: listing.id } })).toMatchObject({
      remoteQuantity: 5,
    });
    expect(await drain(`s-${shop.sourceConnectionId}-spool-level`)).toBe("observed");
    expect(await prisma.listing.findUniqueOrThrow({ where: { id: listing.id } })).toMatchObject({
      remoteQuantity: 2,
      remoteSource: "webhook",
    });
  });

  it("knows a store it saw recently while the database is unreachable, not one it never saw", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "B", onHand: 5 }] });
    const send = (eventId: string, domain = shop.domain) =>
      call(
        "/webhooks/orders",
        shopifyWebhookRequest({ topic: "orders/create", shop: domain, body: order(3002), eventId }),
      );
    expect((await send("seen-1")).status).toBe(200); // the store's targets are now cached
    const connections = await import("../../app/repositories/connections.server");
    const receipts = await import("../../app/repositories/receipts.server");
    const lookup = vi.spyOn(connections, "connectionsForAccount").mockRejectedValue(unreachable());
    const store = vi.spyOn(receipts, "storeReceipt").mockRejectedValue(unreachable());
    const later = Date.now() + 60_000; // past the cache's 2 s: the lookup fails, the entry stands
    const clock = vi.spyOn(Date, "now").mockReturnValue(later);
    try {
      expect((await send("seen-2")).status).toBe(200);
      expect((await send("never-1", "never-seen.myshopify.com")).status).toBe(503);
      // Any other failure of the lookup is not an outage: 503, as before (once no outage is
      // remembered: while one is, a store seen recently is not looked up at all).
      const { databaseAnswered } = await import("../../app/services/inbound/outage.server");
      databaseAnswered();
      lookup.mockRejectedValue(new Error("relation does not exist"));
      expect((await send("seen-3")).status).toBe(503);
    } finally {
      clock.mockRestore();
      lookup.mockRestore();
      store.mockRestore();
    }
    const queue = spoolQueue();
    expect(await queue.getJob(`s-${shop.sourceConnectionId}-seen-2`)).toBeTruthy();
    expect(await queue.getJob(`s-${shop.sourceConnectionId}-seen-3`)).toBeFalsy();
    await queue.close();
  });

  it("after one delivery finds the database unreachable, holds the next without trying it, then one tries again", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "C", onHand: 5 }] });
    const receipts = await import("../../app/repositories/receipts.server");
    const store = vi.spyOn(receipts, "storeReceipt").mockRejectedValue(unreachable());
    const send = (eventId: string) =>
      call(
        "/webhooks/orders",
        shopifyWebhookRequest({
          topic: "orders/create",
          shop: shop.domain,
          body: order(3100 + Number(eventId.slice(-1))),
          eventId,
        }),
      );
    const started = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(started);
    try {
      expect((await send("held-1")).status).toBe(200);
      // Held without trying; they must not extend the hold (or no delivery would try again).
      clock.mockReturnValue(started + 200);
      expect((await send("held-2")).status).toBe(200);
      expect((await send("held-3")).status).toBe(200);
      expect(store).toHaveBeenCalledTimes(1); // the 2nd and 3rd never tried
      clock.mockReturnValue(started + 400);
      store.mockRestore(); // the database is back
      expect((await send("held-4")).status).toBe(200); // the trial: stored
      expect((await send("held-5")).status).toBe(200); // and everyone after it
    } finally {
      clock.mockRestore();
      store.mockRestore();
    }
    const stored = await prisma.receipt.findMany({ where: { shopId: shop.shopId } });
    expect(stored.map((r) => r.eventId).sort()).toEqual(["held-4", "held-5"]);
    const queue = spoolQueue();
    for (const id of ["held-1", "held-2", "held-3"])
      expect(await queue.getJob(`s-${shop.sourceConnectionId}-${id}`), id).toBeTruthy();
    await queue.close();
  });

  it("answers 503 when Redis cannot hold the delivery either", async () => {
    const shop = await seedShop(prisma);
    const receipts = await import("../../app/repositories/receipts.server");
    const jobs = await import("../../app/queues/jobs.server");
    const store = vi.spyOn(receipts, "storeReceipt").mockRejectedValueOnce(unreachable());
    const spool = vi
      .spyOn(jobs, "spoolDelivery")
      .mockRejectedValueOnce(new Error("Stream isn't writeable"));
    const response = await call(
      "/webhooks/orders",
      shopifyWebhookRequest({ topic: "orders/create", shop: shop.domain, body: order(3003) }),
    );
    store.mockRestore();
    spool.mockRestore();
    expect(response.status).toBe(503);
  });

  it("puts a job back for a moment, without using an attempt, while the database is unreachable", async () => {
    const { processor } = await import("../../workers/job-runner");
    const { DelayedError } = await import("bullmq");
    const { z } = await import("zod");
    const run = processor(z.object({}), () => Promise.reject(unreachable()));
    const job = (timestamp: number) => ({
      id: "j1",
      data: {},
      queueName: "ingest",
      timestamp,
      attemptsStarted: 2,
      opts: {},
      moveToDelayed: vi.fn(async () => undefined),
    });
    const fresh = job(Date.now());
    const before = Date.now();
    await expect(run(fresh as never, "t")).rejects.toBeInstanceOf(DelayedError);
    const [until] = fresh.moveToDelayed.mock.calls[0] as unknown as [number];
    expect(until - before).toBeGreaterThanOrEqual(500);
    expect(until - before).toBeLessThanOrEqual(1_100);
    // The pause grows with the job's age (a long outage's jobs knock less often), capped.
    const { databaseWaitMs } = await import("../../workers/job-runner");
    expect([databaseWaitMs(0, 0), databaseWaitMs(0, 1)]).toEqual([500, 750]);
    expect(databaseWaitMs(20_000, 0)).toBe(2_000);
    expect([databaseWaitMs(600_000, 0), databaseWaitMs(600_000, 1)]).toEqual([5_000, 7_500]);
    // After an hour of outage its failures count again (attempts, then the failed set).
    const old = job(Date.now() - 2 * 3_600_000);
    await expect(run(old as never, "t")).rejects.toThrow("ECONNREFUSED");
    expect(old.moveToDelayed).not.toHaveBeenCalled();
  });
});

describe("app and compliance webhooks", () => {
  it("app/uninstalled removes sessions and disables sync, idempotently", async () => {
    const shop = await seedShop(prisma);
    await prisma.session.create({
      data: { id: `offline_${shop.domain}`, shop: shop.domain, state: "", accessToken: "t" },
    });
    for (let i = 0; i < 2; i++) {
      const response = await call(
        "/webhooks/app/uninstalled",
        shopifyWebhookRequest({ topic: "app/uninstalled", shop: shop.domain, body: { id: 1 } }),
      );
      expect(response.status).toBe(200);
    }
    expect(await prisma.session.count({ where: { shop: shop.domain } })).toBe(0);
    expect(await prisma.shop.findUniqueOrThrow({ where: { id: shop.shopId } })).toMatchObject({
      status: "uninstalled",
      syncEnabled: false,
    });
    const source = await prisma.connection.findUniqueOrThrow({
      where: { id: shop.sourceConnectionId },
    });
    expect(source).toMatchObject({ status: "paused", statusReason: "uninstalled" });
  });

  it("customers/data_request records what is held about the orders, without personal data", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "A", onHand: 5 }] });
    await prisma.receipt.create({
      data: {
        shopId: shop.shopId,
        connectionId: shop.sourceConnectionId,
        topic: "orders/create",
        eventId: "e1",
        resourceId: "555",
        payload: {},
      },
    });
    const body = {
      shop_domain: shop.domain,
      customer: { id: 42, email: "c@example.com", phone: "555" },
      orders_requested: [555],
      data_request: { id: 9 },
    };
    const request = () =>
      shopifyWebhookRequest({
        topic: "customers/data_request",
        shop: shop.domain,
        body,
        webhookId: "dr-1",
      });
    expect((await call("/webhooks/compliance", request())).status).toBe(200);
    expect((await call("/webhooks/compliance", request())).status).toBe(200);
    const records = await prisma.complianceRequest.findMany({ where: { shopDomain: shop.domain } });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      topic: "customers_data_request",
      subject: { customerId: "42", orderIds: ["555"], dataRequestId: "9" },
    });
    expect(records[0]!.outcome).toMatchObject({ personalDataHeld: false, receipts: 1 });
    expect(JSON.stringify(records[0])).not.toContain("c@example.com");
  });

  it("customers/redact deletes the stored receipts of those orders", async () => {
    const shop = await seedShop(prisma);
    for (const [eventId, resourceId] of [
      ["e1", "700"],
      ["e2", "700"],
      ["e3", "701"],
    ] as const) {
      await prisma.receipt.create({
        data: {
          shopId: shop.shopId,
          connectionId: shop.sourceConnectionId,
          topic: "orders/updated",
          eventId,
          resourceId,
          payload: {},
        },
      });
    }
    const body = { shop_domain: shop.domain, customer: { id: 42 }, orders_to_redact: [700] };
    expect(
      (
        await call(
          "/webhooks/compliance",
          shopifyWebhookRequest({ topic: "customers/redact", shop: shop.domain, body }),
        )
      ).status,
    ).toBe(200);
    expect(
      await prisma.receipt.findMany({
        where: { shopId: shop.shopId },
        select: { resourceId: true },
      }),
    ).toEqual([{ resourceId: "701" }]);
    expect(
      await prisma.complianceRequest.findFirst({ where: { shopDomain: shop.domain } }),
    ).toMatchObject({
      topic: "customers_redact",
      outcome: { receiptsDeleted: 2 },
    });
  });

  it("shop/redact erases every row of the shop, the append-only ledger included", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "A", onHand: 5 }] });
    const { applyLedgerEvent } = await import("../../app/services/ledger/apply-event.server");
    await applyLedgerEvent({
      shopId: shop.shopId,
      actor: "t",
      operations: [
        {
          type: "item",
          key: "k",
          sku: "A",
          command: { kind: "manual_adjustment", delta: 1, reason: "r" },
        },
      ],
    });
    await prisma.session.create({
      data: { id: `offline_${shop.domain}`, shop: shop.domain, state: "", accessToken: "t" },
    });
    const other = await seedShop(prisma, { items: [{ sku: "A", onHand: 5 }] });
    const response = await call(
      "/webhooks/compliance",
      shopifyWebhookRequest({
        topic: "shop/redact",
        shop: shop.domain,
        body: { shop_domain: shop.domain },
      }),
    );
    expect(response.status).toBe(200);
    expect(await prisma.shop.count({ where: { id: shop.shopId } })).toBe(0);
    for (const table of [
      "connection",
      "stock_item",
      "stock_level",
      "movement",
      "listing",
      "location",
    ] as const) {
      const rows = await prisma.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM ${table} WHERE shop_id = $1::uuid`,
        shop.shopId,
      );
      expect(Number(rows[0]!.n), table).toBe(0);
    }
    expect(await prisma.session.count({ where: { shop: shop.domain } })).toBe(0);
    expect(await prisma.stockItem.count({ where: { shopId: other.shopId } })).toBe(1);
    expect(
      await prisma.complianceRequest.findFirst({ where: { shopDomain: shop.domain } }),
    ).toMatchObject({
      topic: "shop_redact",
      outcome: { shopErased: true },
    });
  });
});
