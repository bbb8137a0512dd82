import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { DomainError } from "../../app/domain/errors";
import { metrics } from "../../app/lib/metrics.server";
import { storeOfflineToken, offlineToken } from "../../app/repositories/sessions.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { MAX_REVIVALS, sweep } from "../../app/services/maintenance.server";
import { recordUninstall } from "../../app/services/shops.server";
import { seal } from "../../app/lib/credentials.server";
import { addSalesConnection, seedShop } from "../factories/shop";
import { shopifyWebhookRequest } from "../helpers/webhooks";

/**
 * Issue 9, "safe in the open": each test reproduces one finding of the review against the
 * webhook edge, the ingest path, the sweeper and the stored secrets, and fails without its fix.
 */
type Action = (args: {
  request: Request;
  params: Record<string, string>;
  context: object;
}) => Promise<Response>;

const routeModules = import.meta.glob<{ action: Action }>("../../app/routes/webhooks.*.tsx");

async function post(route: string, request: Request): Promise<Response> {
  const file = Object.keys(routeModules).find((f) => f.endsWith(`/webhooks.${route}.tsx`));
  if (!file) throw new Error(`no route ${route}`);
  const { action } = await routeModules[file]!();
  try {
    return await action({ request, params: {}, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

function order(id: number | string, lines: unknown[], overrides: Record<string, unknown> = {}) {
  return {
    id,
    created_at: "2026-11-26T10:00:00-05:00",
    updated_at: "2026-11-26T10:00:00-05:00",
    cancelled_at: null,
    line_items: lines,
    refunds: [],
    fulfillments: [],
    ...overrides,
  };
}

const line = (sku: string, quantity: number, id: number | string = 11) => ({
  id,
  variant_id: 1,
  sku,
  quantity,
  current_quantity: quantity,
});

async function counts(shopId?: string) {
  const where = shopId ? { shopId } : {};
  return {
    receipts: await prisma.receipt.count({ where }),
    rejected: await prisma.rejectedDelivery.count({ where }),
    movements: await prisma.movement.count({ where }),
  };
}

describe("exhaustion", () => {
  it("answers 413 to a declared body over the limit before reading it, on every webhook route", async () => {
    const shop = await seedShop(prisma);
    let pulled = 0;
    for (const route of Object.keys(routeModules)
      .filter((f) => !f.includes("$"))
      .map((f) => f.replace(/^.*webhooks\./, "").replace(/\.tsx$/, ""))) {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      });
      const request = new Request("https://stockguard.test/webhooks", {
        method: "POST",
        headers: {
          "content-length": String(100 * 1024 * 1024),
          "x-shopify-hmac-sha256": "c2lnbmF0dXJl",
          "x-shopify-topic": "orders/create",
          "x-shopify-shop-domain": shop.domain,
        },
        body,
        duplex: "half",
      } as RequestInit);
      const response = await post(route, request);
      expect(response.status, route).toBe(413);
    }
    // Nothing was read beyond what the stream buffers ahead of the first read.
    expect(pulled).toBeLessThanOrEqual(Object.keys(routeModules).length * 2);
    // The marketplace route too.
    const { handleMarketplaceDelivery } =
      await import("../../app/webhooks/marketplace-inbound.server");
    const big = new Request("https://stockguard.test/webhooks/walmart/x", {
      method: "POST",
      headers: { "content-length": String(100 * 1024 * 1024) },
      body: "{}",
    });
    expect(
      (await handleMarketplaceDelivery(big, { kind: "walmart", connectionId: "x" })).status,
    ).toBe(413);
  });

  it("stops reading a body without a length as soon as it passes the limit", async () => {
    const shop = await seedShop(prisma);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 256 * 1024;
        if (sent > 100 * 1024 * 1024) controller.close();
        else controller.enqueue(new Uint8Array(256 * 1024));
      },
    });
    const request = new Request("https://stockguard.test/webhooks/orders", {
      method: "POST",
      headers: {
        "x-shopify-hmac-sha256": "c2lnbmF0dXJl",
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": shop.domain,
      },
      body,
      duplex: "half",
    } as RequestInit);
    expect((await post("orders", request)).status).toBe(413);
    expect(sent).toBeLessThan(2 * 1024 * 1024);
  });

  it("labels metrics only with known topics, whatever unsigned headers say", async () => {
    const shop = await seedShop(prisma);
    for (let i = 0; i < 200; i++) {
      await post(
        "orders",
        shopifyWebhookRequest({
          topic: `random/${i}-${Math.random()}`,
          shop: shop.domain,
          body: {},
          unsigned: true,
        }),
      );
    }
    const ack = await metrics().webhookAckSeconds.get();
    const topics = new Set(ack.values.map((v) => v.labels.topic));
    expect([...topics].every((t) => t === "other" || /^[a-z_]+\/[a-z_]+$/.test(String(t)))).toBe(
      true,
    );
    expect(topics.size).toBeLessThan(15);
  });
});

describe("poison and retry-forever", () => {
  it("refuses a quantity beyond 32 bits at the edge with 400, recorded, never stored", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "P", onHand: 5 }] });
    await addSalesConnection(prisma, shop, { name: "poison" });
    const before = await counts(shop.shopId);
    const response = await post(
      "orders",
      shopifyWebhookRequest({
        topic: "orders/create",
        shop: shop.domain,
        body: order(500, [line("P", 3_000_000_000)]),
      }),
    );
    expect(response.status).toBe(400);
    const after = await counts(shop.shopId);
    expect(after.receipts).toBe(before.receipts);
    expect(after.rejected).toBe(before.rejected + 1);
  });

  it("refuses a SKU with NUL or a lone surrogate, and an unstorable Triggered-At, with 400 (not 503)", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "Q", onHand: 5 }] });
    for (const sku of ["A\u0000B", "bad\ud800"]) {
      const response = await post(
        "orders",
        shopifyWebhookRequest({
          topic: "orders/create",
          shop: shop.domain,
          body: order(501, [line(sku, 1)]),
        }),
      );
      expect(response.status, JSON.stringify(sku)).toBe(400);
    }
    const request = shopifyWebhookRequest({
      topic: "orders/create",
      shop: shop.domain,
      body: order(502, [line("Q", 1)]),
    });
    const headers = new Headers(request.headers);
    headers.set("x-shopify-triggered-at", "+275760-09-13T00:00:00.000Z");
    const late = new Request(request.url, {
      method: "POST",
      headers,
      body: await request.text(),
    });
    expect((await post("orders", late)).status).toBe(400);
    expect(await prisma.receipt.count({ where: { shopId: shop.shopId } })).toBe(0);
  });

  it("keeps ids above 2^53 exact (Shopify's own sample payloads use them)", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "BIG", onHand: 5 }] });
    const raw = `{"id": 820982911946154508, "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z", "cancelled_at": null, "line_items": [{"id": 866550311766439020, "variant_id": 808950810, "sku": "BIG", "quantity": 1}], "refunds": [], "fulfillments": []}`;
    const response = await post(
      "orders",
      shopifyWebhookRequest({
        topic: "orders/create",
        shop: shop.domain,
        body: null,
        rawBody: raw,
      }),
    );
    expect(response.status).toBe(200);
    const receipt = await prisma.receipt.findFirstOrThrow({ where: { shopId: shop.shopId } });
    expect(receipt.resourceId).toBe("820982911946154508");
    expect(JSON.stringify(receipt.payload)).toContain("866550311766439020");
    await ingestReceipt(receipt.id);
    const lineRow = await prisma.orderLine.findFirstOrThrow({ where: { shopId: shop.shopId } });
    expect(lineRow).toMatchObject({ orderId: "820982911946154508", lineId: "866550311766439020" });
  });

  it("fails a receipt the database cannot store for good (no retry), recorded with its reason", async () => {
    // A multipack of 5,000 units per sale: 1,000,000 sold is 5e9 units, past a 32-bit balance.
    const shop = await seedShop(prisma, { items: [{ sku: "UNIT", onHand: 5 }] });
    const sales = await addSalesConnection(prisma, shop, {
      name: "bulk",
      listings: [{ sku: "CRATE", components: [{ sku: "UNIT", quantity: 5_000 }] }],
    });
    const receipt = await prisma.receipt.create({
      data: {
        shopId: shop.shopId,
        connectionId: sales.connectionId,
        topic: "orders/create",
        eventId: "overflow-1",
        payload: JSON.parse(JSON.stringify(order(503, [line("CRATE", 1_000_000)]))) as object,
      },
    });
    await expect(ingestReceipt(receipt.id)).rejects.toBeInstanceOf(DomainError);
    expect(await prisma.receipt.findUniqueOrThrow({ where: { id: receipt.id } })).toMatchObject({
      status: "failed",
    });
    const rejected = await prisma.rejectedDelivery.findFirstOrThrow({
      where: { shopId: shop.shopId },
    });
    expect(rejected.reason).toMatch(/cannot be stored/);
  });

  it("gives up on a receipt revived too often, with an alert, and poison never hides fresh receipts", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "R", onHand: 5 }] });
    const old = new Date(Date.now() - 60_000);
    const poison = await prisma.receipt.create({
      data: {
        shopId: shop.shopId,
        connectionId: shop.sourceConnectionId,
        topic: "orders/create",
        eventId: "poison",
        payload: {},
        receivedAt: old,
        revivals: MAX_REVIVALS,
      },
    });
    // 1,200 receipts already revived often, and one fresh: the fresh one is revived first.
    await prisma.receipt.createMany({
      data: Array.from({ length: 1_200 }, (_, i) => ({
        shopId: shop.shopId,
        connectionId: shop.sourceConnectionId,
        topic: "orders/create",
        eventId: `stuck-${i}`,
        payload: {},
        receivedAt: old,
        revivals: 5,
      })),
    });
    const fresh = await prisma.receipt.create({
      data: {
        shopId: shop.shopId,
        connectionId: shop.sourceConnectionId,
        topic: "orders/create",
        eventId: "fresh",
        payload: {},
        receivedAt: new Date(Date.now() - 20_000),
      },
    });
    const result = await sweep();
    expect(result.abandoned).toBeGreaterThanOrEqual(1);
    expect(await prisma.receipt.findUniqueOrThrow({ where: { id: poison.id } })).toMatchObject({
      status: "failed",
    });
    expect(
      await prisma.syncFailure.count({
        where: { shopId: shop.shopId, kind: "receipt_abandoned" },
      }),
    ).toBe(1);
    expect((await prisma.receipt.findUniqueOrThrow({ where: { id: fresh.id } })).revivals).toBe(1);
    // Swept again and again, the poison is never revived (it is failed), and the alert is once.
    await sweep();
    expect(
      await prisma.syncFailure.count({
        where: { shopId: shop.shopId, kind: "receipt_abandoned" },
      }),
    ).toBe(1);
  });
});

describe("doors", () => {
  it("refuses a compliance or uninstall payload naming another shop than its header", async () => {
    const victim = await seedShop(prisma, { items: [{ sku: "V", onHand: 5 }] });
    const attacker = await seedShop(prisma);
    const redact = await post(
      "compliance",
      shopifyWebhookRequest({
        topic: "shop/redact",
        shop: victim.domain,
        body: { shop_id: 1, shop_domain: attacker.domain },
      }),
    );
    expect(redact.status).toBe(401);
    expect(await prisma.shop.count({ where: { id: victim.shopId } })).toBe(1);
    const uninstall = await post(
      "app.uninstalled",
      shopifyWebhookRequest({
        topic: "app/uninstalled",
        shop: victim.domain,
        body: { id: 1, domain: attacker.domain, myshopify_domain: attacker.domain },
      }),
    );
    expect(uninstall.status).toBe(401);
    expect((await prisma.shop.findUniqueOrThrow({ where: { id: victim.shopId } })).status).toBe(
      "active",
    );
  });

  it("refuses a signed delivery replayed with another shop's header", async () => {
    const a = await seedShop(prisma, { items: [{ sku: "S", onHand: 5 }] });
    const b = await seedShop(prisma, { items: [{ sku: "S", onHand: 5 }] });
    const body = order(600, [line("S", 1)]);
    const original = shopifyWebhookRequest({
      topic: "orders/create",
      shop: a.domain,
      body,
      webhookId: "wh-replay-1",
      eventId: "evt-replay-1",
    });
    const replayHeaders = new Headers(original.headers);
    replayHeaders.set("x-shopify-shop-domain", b.domain);
    const raw = await original.clone().text();
    expect((await post("orders", original)).status).toBe(200);
    const replay = new Request(original.url, {
      method: "POST",
      headers: replayHeaders,
      body: raw,
    });
    expect((await post("orders", replay)).status).toBe(401);
    expect(await prisma.receipt.count({ where: { shopId: b.shopId } })).toBe(0);
  });

  it("refreshes the catalog at most once per window for levels nobody tracks (replays cannot drive imports)", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "L", onHand: 5 }] });
    await addSalesConnection(prisma, shop, { name: "levels" });
    for (let i = 0; i < 20; i++) {
      const response = await post(
        "inventory_levels.update",
        shopifyWebhookRequest({
          topic: "inventory_levels/update",
          shop: "levels.myshopify.com",
          body: {
            inventory_item_id: 990_000 + i,
            location_id: 1,
            available: 3,
            updated_at: "2026-11-26T10:00:00Z",
          },
        }),
      );
      expect(response.status).toBe(200);
    }
    const { Queue } = await import("bullmq");
    const catalog = new Queue("catalog", {
      connection: { url: process.env.REDIS_URL! },
      prefix: process.env.QUEUE_PREFIX,
    });
    const jobs = await catalog.getJobs(["delayed", "waiting"]);
    await catalog.close();
    expect(jobs.filter((j) => j.name === "import_catalog")).toHaveLength(1);
  });

  it("keeps Admin API tokens sealed in the Session table", async () => {
    await storeOfflineToken({
      shop: "sealed.myshopify.com",
      accessToken: "shpat_very_secret_token",
      scopes: ["read_inventory"],
    });
    const row = await prisma.session.findUniqueOrThrow({
      where: { id: "offline_sealed.myshopify.com" },
    });
    expect(row.accessToken).not.toContain("shpat_very_secret_token");
    expect(row.accessToken.startsWith("v1.")).toBe(true);
    expect((await offlineToken("sealed.myshopify.com"))?.accessToken).toBe(
      "shpat_very_secret_token",
    );
  });

  it("deletes other channels' credentials when the app is uninstalled", async () => {
    const shop = await seedShop(prisma);
    const sales = await addSalesConnection(prisma, shop, { name: "token-store" });
    await prisma.connection.update({
      where: { id: sales.connectionId },
      data: { credentials: seal({ accessToken: "shpat_other_store" }) },
    });
    await recordUninstall(shop.domain);
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: sales.connectionId } });
    expect(row.credentials).toBeNull();
    expect(row.status).toBe("disconnected");
  });

  it("keeps the build toolchain out of production installs", () => {
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
    };
    const production = Object.entries(lock.packages)
      .filter(([name, meta]) => name.startsWith("node_modules/") && !meta.dev && !meta.devOptional)
      .map(([name]) => name.replace(/^.*node_modules\//, ""));
    expect(production).not.toContain("@remix-run/fs-routes");
    expect(production).not.toContain("@remix-run/dev");
    expect(production).not.toContain("tar");
  });
});
