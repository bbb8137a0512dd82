import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext, QuantityWrite } from "../../app/channels/channel-adapter";
import { ChannelAuthError, ChannelReadsThrottledError } from "../../app/channels/errors";
import { adapterFor } from "../../app/channels/registry.server";
import { WalmartAdapter } from "../../app/channels/walmart/adapter.server";
import { WalmartClient } from "../../app/channels/walmart/client.server";
import { WALMART_LOCATION } from "../../app/channels/walmart/translate";
import prisma from "../../app/db.server";
import { env } from "../../app/env.server";
import { sharedRedis } from "../../app/lib/locks.server";
import { connectWithKeys } from "../../app/services/connect-marketplace.server";
import { markNeedsRead } from "../../app/repositories/listings.server";
import { pushConnection } from "../../app/services/push/push-connection.server";
import { KEYS, PARTNER, startWalmartFixture, type WalmartFixture } from "./walmart-setup";

/**
 * The Walmart adapter against the local Walmart Marketplace: connecting with the seller's keys
 * (subscriptions with an HMAC secret of our own), what a write sets given Walmart's reservations,
 * each write classification (applied, no-op, stale, rejected, throttled), reads per SKU and in
 * bulk, the shared token buckets, and access tokens (cached, refreshed, revoked).
 */
const BULK = Array.from({ length: 30 }, (_, i) => `BULK-${String(i).padStart(2, "0")}`);
let fx: WalmartFixture;
let conn: ConnectionContext;

const shows = (sku: string) => fx.walmart.sandbox.item(PARTNER, sku).availToSellQty;
const node = (sku: string) => fx.walmart.sandbox.item(PARTNER, sku).nodes[0]!;
const writes = () => fx.walmart.sandbox.inventoryWriteLog(PARTNER).length;
const calls = (operation: string) =>
  fx.walmart.sandbox.requestLog.filter((r) => r.operation === operation).length;

/** Empties StockGuard's side of the seller's buckets (Redis). */
async function resetBuckets() {
  const redis = sharedRedis();
  const keys = await redis.keys(`${env().QUEUE_PREFIX}:rate:walmart:*`);
  if (keys.length > 0) await redis.del(...keys);
}

/** Walmart's `operation` bucket holds `tokens` calls (refilled hourly); ours starts empty. */
async function limitCalls(operation: string, tokens: number) {
  fx.walmart.sandbox.configureThrottle(PARTNER, operation, {
    capacity: tokens,
    windowMs: 3_600_000,
    tokens,
  });
  await resetBuckets();
}

/** Walmart's usual budget for `operation` again: 200 calls a minute. */
async function restoreCalls(operation: string) {
  fx.walmart.sandbox.configureThrottle(PARTNER, operation, {
    capacity: 200,
    windowMs: 60_000,
    tokens: 200,
  });
  await resetBuckets();
}

async function listingOf(sku: string) {
  return prisma.listing.findFirstOrThrow({ where: { connectionId: conn.id, sku } });
}

async function write(adapter: WalmartAdapter, sku: string, quantity: number) {
  const l = await listingOf(sku);
  const w: QuantityWrite = {
    listingId: l.id,
    remoteRef: l.remoteRef,
    remoteLocationRef: l.remoteLocationRef,
    sku: l.sku,
    quantity,
    expected: null,
  };
  return (await adapter.writeQuantities(conn, [w]))[0]!;
}

beforeAll(async () => {
  fx = await startWalmartFixture({
    domain: "wm-adapter.myshopify.com",
    source: Object.fromEntries(["A", "B", "C", ...BULK].map((sku) => [sku, 10])),
    walmartItems: [
      { sku: "A", productName: "Mug A", quantity: 0 },
      { sku: "B", productName: "Mug B", quantity: 0 },
      { sku: "C", productName: "Mug C", quantity: 0 },
      { sku: "WM-ONLY", productName: "Walmart only", quantity: 4 },
      ...BULK.map((sku) => ({ sku, quantity: 0 })),
    ],
  });
  conn = await fx.connect();
}, 120_000);

afterAll(async () => fx?.close());

describe("connecting with the seller's keys", () => {
  it("stores the keys sealed, subscribes with an HMAC secret of its own and matches by SKU", async () => {
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row).toMatchObject({ kind: "walmart", accountRef: KEYS.clientId, status: "active" });
    expect(row.credentials).not.toContain(KEYS.clientSecret);
    const subs = fx.walmart.sandbox.subscriptions(PARTNER);
    expect(subs.map((s) => s.eventType).sort()).toEqual([
      "INVENTORY_OOS",
      "OFFER_UNPUBLISHED",
      "ORDER_UPDATES",
    ]);
    for (const s of subs) {
      expect(s.eventUrl).toBe(`${fx.inboundUrl}/webhooks/walmart/${conn.id}`);
      expect(s.status).toBe("ACTIVE");
      expect(s.authDetails).toMatchObject({
        authMethod: "HMAC",
        authHeaderName: "WM_SG.SIGNATURE",
      });
      expect(s.authDetails?.clientSecret?.length).toBeGreaterThanOrEqual(32);
      expect(s.authDetails?.clientSecret).not.toBe(KEYS.clientSecret);
    }
    expect(await prisma.listing.count({ where: { connectionId: conn.id } })).toBe(33);
    const issues = await prisma.catalogIssue.findMany({ where: { connectionId: conn.id } });
    expect(issues.map((i) => [i.kind, i.sku])).toEqual([["unmatched_sku", "WM-ONLY"]]);
    // Once subscribed, asking again creates nothing.
    const again = await adapterFor("walmart").ensureSubscriptions!(conn, {
      callbackUrl: `${fx.inboundUrl}/webhooks/walmart/${conn.id}`,
    });
    expect(again).toEqual({
      present: ["ORDER_UPDATES", "INVENTORY_OOS", "OFFER_UNPUBLISHED"],
      created: [],
      removed: [],
    });
  });

  it("refuses keys Walmart refuses and stores nothing", async () => {
    const before = await prisma.connection.count();
    await expect(
      connectWithKeys({
        shopDomain: fx.domain,
        kind: "walmart",
        keys: { clientId: KEYS.clientId, clientSecret: "wrong" },
        apiBaseUrl: fx.walmart.url,
      }),
    ).rejects.toBeInstanceOf(ChannelAuthError);
    expect(await prisma.connection.count()).toBe(before);
  });

  it("a reconnection replaces the webhook secret in place", async () => {
    const secretBefore = fx.walmart.sandbox.subscriptions(PARTNER)[0]!.authDetails?.clientSecret;
    const again = await fx.connect();
    expect(again.id).toBe(conn.id);
    const subs = fx.walmart.sandbox.subscriptions(PARTNER);
    expect(subs).toHaveLength(3);
    expect(new Set(subs.map((s) => s.authDetails?.clientSecret)).size).toBe(1);
    expect(subs[0]!.authDetails?.clientSecret).not.toBe(secretBefore);
  });
});

describe("quantities", () => {
  it("the first push makes Walmart offer the published quantity", async () => {
    await pushConnection(conn.id);
    for (const sku of ["A", "B", "C", ...BULK])
      expect({ sku, shows: shows(sku) }).toEqual({ sku, shows: 10 });
    const a = await listingOf("A");
    expect(a).toMatchObject({ publishedQuantity: 10, pushedQuantity: 10, remoteQuantity: 10 });
  });

  it("counts Walmart's reservations: its own sale needs no write back, a lower number does", async () => {
    const adapter = adapterFor("walmart") as WalmartAdapter;
    fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "A", qty: 2 }] });
    expect(node("A")).toMatchObject({ inputQty: 10, reservedQty: 2, availToSellQty: 8 });
    const before = writes();
    // The ledger learns of the order: published 8. Walmart already shows 8: nothing is sent.
    expect(await write(adapter, "A", 8)).toMatchObject({ state: "applied", quantity: 8 });
    expect(writes()).toBe(before);
    // A sale elsewhere: published 5 → input 5 + 2 reserved, buyers see 5.
    expect(await write(adapter, "A", 5)).toMatchObject({ state: "applied", quantity: 5 });
    expect(node("A")).toMatchObject({ inputQty: 7, reservedQty: 2, availToSellQty: 5 });
    expect(writes()).toBe(before + 1);
  });

  it("writes again when Walmart releases units between its read and its write", async () => {
    const po = fx.walmart.sandbox.placeOrder(PARTNER, { lines: [{ sku: "B", qty: 3 }] });
    let shipped = false;
    const racing = new WalmartAdapter({
      client: new WalmartClient({
        fetch: async (input, init) => {
          if (init?.method === "PUT" && !shipped) {
            shipped = true;
            fx.walmart.sandbox.shipLine(PARTNER, po.purchaseOrderId, "1");
          }
          return fetch(input, init);
        },
      }),
    });
    const puts = writes();
    // Published 4 (10 − the 3 reserved − 3 sold elsewhere): input 4 + 3 is computed, but the
    // shipment takes the reservation away first, so Walmart would show 7. The read-back sees it
    // and the write is computed again: input 4.
    expect(await write(racing, "B", 4)).toMatchObject({ state: "applied", quantity: 4 });
    expect(node("B")).toMatchObject({ inputQty: 4, reservedQty: 0, availToSellQty: 4 });
    expect(writes()).toBe(puts + 2);
  });

  it("reads per SKU and in bulk agree, with Walmart's states", async () => {
    const adapter = new WalmartAdapter();
    const refs = (await prisma.listing.findMany({ where: { connectionId: conn.id } })).map((l) => ({
      remoteRef: l.remoteRef,
      remoteLocationRef: l.remoteLocationRef,
    }));
    const bulkCalls = calls("inventories.list");
    const all = await adapter.readQuantities(conn, refs);
    expect(calls("inventories.list") - bulkCalls).toBe(1); // 33 SKUs, 50 per page
    const one = await adapter.readQuantities(conn, [
      { remoteRef: "A", remoteLocationRef: WALMART_LOCATION },
    ]);
    const a = all.find((r) => r.remoteRef === "A")!;
    expect(one[0]).toMatchObject({
      quantity: 5,
      states: { inputQty: 7, reservedQty: 2, availToSell: 5 },
    });
    expect(a.quantity).toBe(5);
    expect(a.states).toEqual(one[0]!.states);
    const missing = await adapter.readQuantities(conn, [
      { remoteRef: "NOPE", remoteLocationRef: WALMART_LOCATION },
    ]);
    expect(missing[0]!.quantity).toBeNull();
  });

  it("an unpublished offer shows 0: buyers cannot buy it", async () => {
    fx.walmart.sandbox.unpublishItem(PARTNER, "C");
    const adapter = new WalmartAdapter();
    const [c] = await adapter.readQuantities(conn, [
      { remoteRef: "C", remoteLocationRef: WALMART_LOCATION },
    ]);
    expect(c).toMatchObject({ quantity: 0, states: { unpublished: 1, availToSell: 10 } });
    expect(await write(adapter, "C", 9)).toMatchObject({ state: "applied", quantity: 0 });
    expect(node("C").inputQty).toBe(9); // written anyway: right as soon as it is published again
    fx.walmart.sandbox.publishItem(PARTNER, "C");
  });

  it("rejects what Walmart does not sell and retries what it could not answer", async () => {
    const adapter = new WalmartAdapter();
    const [unknown] = await adapter.writeQuantities(conn, [
      {
        listingId: "00000000-0000-0000-0000-000000000001",
        remoteRef: "NOPE",
        remoteLocationRef: WALMART_LOCATION,
        quantity: 1,
        expected: null,
      },
    ]);
    expect(unknown).toMatchObject({
      state: "rejected",
      retryable: false,
      code: "CONTENT_NOT_FOUND",
    });
    fx.walmart.sandbox.addFault({
      kind: "http500",
      operation: "inventories.get",
      partnerId: PARTNER,
      count: 1,
    });
    expect(await write(adapter, "BULK-00", 3)).toMatchObject({
      state: "rejected",
      retryable: true,
    });
    expect(shows("BULK-00")).toBe(10);
  });
});

describe("Walmart's token buckets", () => {
  it("a 429 blocks the operation for every worker until Retry-After", async () => {
    const first = new WalmartAdapter();
    const second = new WalmartAdapter();
    fx.walmart.sandbox.configureThrottle(PARTNER, "inventory.update", {
      capacity: 5,
      windowMs: 60_000,
      tokens: 0,
    });
    const before = calls("inventory.update");
    const throttled = await write(first, "BULK-01", 2);
    expect(throttled).toMatchObject({ state: "throttled" });
    expect(throttled.state === "throttled" && throttled.retryAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(calls("inventory.update")).toBe(before + 1);
    expect(fx.walmart.sandbox.throttledCount).toBeGreaterThan(0);
    // Another process (adapter) does not even ask: the shared bucket is blocked.
    expect(await write(second, "BULK-02", 2)).toMatchObject({ state: "throttled" });
    expect(calls("inventory.update")).toBe(before + 1);
    expect(shows("BULK-01")).toBe(10);
  });

  it("x-current-token-count 0 stops the next call before Walmart refuses it", async () => {
    fx.walmart.sandbox.configureThrottle(PARTNER, "inventory.update", {
      capacity: 60,
      windowMs: 60_000,
      tokens: 1,
    });
    await resetBuckets();
    const adapter = new WalmartAdapter();
    expect(await write(adapter, "BULK-03", 2)).toMatchObject({ state: "applied", quantity: 2 });
    const before = calls("inventory.update");
    expect(await write(adapter, "BULK-04", 2)).toMatchObject({ state: "throttled" });
    expect(calls("inventory.update")).toBe(before); // not sent: Walmart said 0 tokens left
    fx.walmart.sandbox.configureThrottle(PARTNER, "inventory.update", {
      capacity: 200,
      windowMs: 60_000,
      tokens: 200,
    });
    await resetBuckets();
  });

  it("a push whose reads run out of budget part-way keeps what it read and finishes later", async () => {
    // Eight listings owe a read (Walmart's own orders moved them by amounts StockGuard could not
    // place) while the read bucket holds three: each run reads three, then Walmart says 429. Runs
    // that started over each time spent every refill on the same first SKUs and never finished
    // (the Walmart e2e stalled this way for minutes with 19 listings unread).
    const skus = BULK.slice(20, 28);
    const ids = await Promise.all(skus.map(async (sku) => (await listingOf(sku)).id));
    await markNeedsRead(ids, new Date());
    const owed = async () => prisma.listing.count({ where: { id: { in: ids }, needsRead: true } });
    const reads = () => calls("inventories.get");
    const started = reads();
    const owedAfter: number[] = [];
    try {
      for (let run = 0; run < 3; run++) {
        await limitCalls("inventories.get", 3);
        await pushConnection(conn.id);
        owedAfter.push(await owed());
      }
    } finally {
      await restoreCalls("inventories.get");
    }
    expect(owedAfter).toEqual([5, 2, 0]);
    // Three runs of at most three answered reads and one refused each: nothing read twice.
    expect(reads() - started).toBeLessThanOrEqual(12);
    const rows = await prisma.listing.findMany({ where: { id: { in: ids } } });
    for (const l of rows)
      expect({ sku: l.sku, dirty: l.publishedVersion > l.pushedVersion }).toEqual({
        sku: l.sku,
        dirty: false,
      });
  });
});

describe("bulk reads under a throttle", () => {
  it("a paged read throttled part-way keeps its pages and goes on from its cursor", async () => {
    // 28 SKUs to read (more than 25: every inventory, page by page; 34 of them, 10 a page) and
    // Walmart's list bucket holds two calls per run. A read that started over each time would
    // spend every refill on pages 1–2 and never see the SKUs on pages 3–4.
    const adapter = new WalmartAdapter({ inventoryPageSize: 10 });
    const refs = await Promise.all(
      BULK.slice(0, 28).map(async (sku) => {
        const l = await listingOf(sku);
        return { remoteRef: l.remoteRef, remoteLocationRef: l.remoteLocationRef };
      }),
    );
    const pages = () => calls("inventories.list");
    const started = pages();
    const readPerRun: number[] = [];
    let complete: Awaited<ReturnType<WalmartAdapter["readQuantities"]>> | null = null;
    try {
      for (let run = 0; run < 3 && !complete; run++) {
        await limitCalls("inventories.list", 2);
        try {
          complete = await adapter.readQuantities(conn, refs);
        } catch (error) {
          expect(error).toBeInstanceOf(ChannelReadsThrottledError);
          readPerRun.push((error as ChannelReadsThrottledError).partial.length);
        }
      }
    } finally {
      await restoreCalls("inventories.list");
    }
    // Run 1 reads pages 1–2 and hands back the SKUs on them; run 2 reads pages 3–4: done.
    expect(readPerRun).toHaveLength(1);
    expect(readPerRun[0]).toBeGreaterThan(0);
    expect(readPerRun[0]).toBeLessThan(28);
    expect(complete).not.toBeNull();
    expect(complete!.map((q) => q.remoteRef).sort()).toEqual(BULK.slice(0, 28));
    for (const q of complete!) expect(q.quantity).toBe(shows(q.remoteRef));
    // Four pages answered, one refused: no page read twice.
    expect(pages() - started).toBeLessThanOrEqual(5);
  });
});

describe("access tokens", () => {
  it("fetches one token for many calls, and a fresh one when Walmart drops it", async () => {
    const adapter = new WalmartAdapter();
    const tokens = () =>
      fx.walmart.sandbox.requestLog.filter((r) => r.operation === "token").length;
    const before = tokens();
    for (const sku of ["BULK-05", "BULK-06", "BULK-07"]) await write(adapter, sku, 1);
    expect(tokens()).toBe(before + 1);
    fx.walmart.sandbox.expireTokens(PARTNER);
    expect(await write(adapter, "BULK-08", 1)).toMatchObject({ state: "applied", quantity: 1 });
    expect(tokens()).toBe(before + 2);
    expect(fx.walmart.sandbox.requestLog.some((r) => r.outcome === "unauthorized")).toBe(true);
  });

  it("revoked keys pause the connection with a visible reason, once", async () => {
    fx.walmart.sandbox.revokeKeys(PARTNER);
    await prisma.listing.updateMany({
      where: { connectionId: conn.id, sku: "BULK-09" },
      data: { publishedVersion: { increment: 1 }, publishedQuantity: 4 },
    });
    await expect(pushConnection(conn.id)).rejects.toBeInstanceOf(ChannelAuthError);
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row.status).toBe("error");
    expect(row.statusReason).toMatch(/Walmart refused/);
    expect(await prisma.syncFailure.count({ where: { connectionId: conn.id, kind: "auth" } })).toBe(
      1,
    );
    // Paused: the next push does not call Walmart again.
    const before = fx.walmart.sandbox.requestLog.length;
    expect(await pushConnection(conn.id)).toEqual({ skipped: "connection error" });
    expect(fx.walmart.sandbox.requestLog.length).toBe(before);
    // The seller restores the keys and reconnects: active again, pushes run.
    fx.walmart.sandbox.restoreKeys(PARTNER);
    await fx.connect();
    expect((await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } })).status).toBe(
      "active",
    );
    expect(await pushConnection(conn.id)).not.toHaveProperty("skipped");
    expect(shows("BULK-09")).toBe(10);
  });
});
