/**
 * The eBay adapter against the local eBay: connecting through the consent redirect (code
 * exchange, identity, sealed credentials, notification set-up with the endpoint challenge
 * answered by the real route), the catalog by SKU, absolute writes and their classification
 * (applied, rejected for good, rejected until tomorrow at eBay's revision limit, throttled by a
 * 429 or the daily budget shared by two adapter instances in Redis, eBay errors), read-back, and
 * the token lifecycle (expired access tokens refreshed, a revoked authorization pausing the
 * connection once, without a loop of calls).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext, QuantityWrite } from "../../app/channels/channel-adapter";
import { EbayAdapter, SHIP_TO_HOME } from "../../app/channels/ebay/adapter.server";
import { parseEbayConfig, resetEbayConfig } from "../../app/channels/ebay/config.server";
import { ChannelAuthError } from "../../app/channels/errors";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { sharedRedis } from "../../app/lib/locks.server";
import { loadConnection, toContext } from "../../app/repositories/connections.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { webhookUrl } from "../../app/services/connect-marketplace.server";
import { installSource, startLocalStores } from "../helpers/local-stores";
import { startLocalEbay, type LocalEbay } from "../sandbox/ebay/server";
import type { LocalShopify } from "../sandbox/shopify/server";
import { connectEbay, ebayAppEnv, ebaySeed, startWebEdge, useEbayEnv } from "./ebay-helpers";

const SHOP = "ebay-adapter-source.myshopify.com";
const SELLER = "mugs_and_more";
const SELLER_ID = "ma8vp1jySJC";
const SKUS = ["MUG-BLUE", "MUG-RED", "TEAPOT", "OLD-VASE"];

let shopify: LocalShopify;
let ebay: LocalEbay;
let edge: Awaited<ReturnType<typeof startWebEdge>>;
let conn: ConnectionContext;
let listings: Map<string, string>;

const calls = (operation: string) =>
  ebay.sandbox.requestLog.filter((r) => r.operation === operation).length;
const write = (sku: string, quantity: number): QuantityWrite => ({
  listingId: listings.get(sku) ?? `no-listing-${sku}`,
  remoteRef: sku,
  remoteLocationRef: SHIP_TO_HOME,
  sku,
  quantity,
  expected: null,
});

beforeAll(async () => {
  useEbayEnv();
  shopify = await startLocalStores([
    {
      domain: SHOP,
      products: SKUS.map((sku) => ({
        title: sku,
        variants: [{ sku, inventory: { Warehouse: 20 } }],
      })),
    },
  ]);
  const { source } = await installSource(SHOP, "token-0");
  await importCatalog(source, adapterFor("shopify"));
  edge = await startWebEdge();
  ebay = await startLocalEbay({
    rngSeed: 3,
    seed: ebaySeed(edge.url, [
      {
        username: SELLER,
        userId: SELLER_ID,
        inventory: [
          { sku: "MUG-BLUE", title: "Blue mug", quantity: 10 },
          {
            sku: "MUG-RED",
            title: "Red mug",
            quantity: 4,
            offers: [{ price: "12.50", availableQuantity: 3 }],
          },
          { sku: "TEAPOT", title: "Teapot", quantity: 2, offers: [{ published: false }] },
          { sku: "EBAY-ONLY", title: "Sold only on eBay", quantity: 3 },
        ],
        tradingListings: [{ sku: "OLD-VASE", title: "Old vase", quantity: 5 }],
      },
    ]),
  });
  const connected = await connectEbay(SHOP, ebay.url);
  conn = toContext((await loadConnection(connected.connectionId))!);
  const rows = await prisma.listing.findMany({ where: { connectionId: conn.id } });
  listings = new Map(rows.map((l) => [l.sku!, l.id]));
}, 60_000);

afterAll(async () => {
  await ebay?.close();
  await edge?.close();
  await shopify?.close();
});

describe("configuration (EBAY_*)", () => {
  it("names every missing or malformed variable when the channel is used without them", () => {
    expect(() => parseEbayConfig({})).toThrow(
      /EBAY_CLIENT_ID is required but not set; EBAY_CLIENT_SECRET is required but not set; EBAY_RU_NAME is required but not set; EBAY_VERIFICATION_TOKEN is required but not set/,
    );
    expect(() =>
      parseEbayConfig({
        ...ebayAppEnv(),
        EBAY_VERIFICATION_TOKEN: "short",
        EBAY_DAILY_CALL_LIMITS: "orders=5",
      }),
    ).toThrow(
      /EBAY_VERIFICATION_TOKEN must be 32 to 80.*EBAY_DAILY_CALL_LIMITS must be inventory=N/,
    );
    const config = parseEbayConfig({ ...ebayAppEnv(), EBAY_DAILY_CALL_LIMITS: "inventory=7" });
    expect(config.dailyLimits).toMatchObject({ inventory: 7, notification: 10_000 });
    expect(config.scopes).toContain(
      "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly",
    );
  });

  it("is not needed until an eBay connection is used (the registry builds the adapter anyway)", () => {
    const saved = process.env.EBAY_CLIENT_ID;
    delete process.env.EBAY_CLIENT_ID;
    resetEbayConfig();
    try {
      const adapter = new EbayAdapter();
      expect(adapter.capabilities.dailyRevisionsPerListing).toBe(250);
      expect(adapter.pollIntervalMs).toBe(60_000);
      expect(() =>
        adapter.authorization.kind === "redirect"
          ? adapter.authorization.consentUrl({ state: "s", redirectUri: "r", apiBaseUrl: null })
          : null,
      ).toThrow(/EBAY_CLIENT_ID is required/);
    } finally {
      process.env.EBAY_CLIENT_ID = saved;
      resetEbayConfig();
    }
  });
});

describe("connecting an eBay seller (consent redirect, code exchange, notifications)", () => {
  it("stores the seller by eBay user id with sealed credentials and the refresh token's end", async () => {
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row).toMatchObject({
      kind: "ebay",
      role: "sales",
      accountRef: SELLER_ID,
      name: `eBay ${SELLER}`,
      status: "active",
    });
    expect(row.credentials).toBeTruthy();
    expect(row.credentials).not.toContain("v^1.1");
    const expires = Date.parse(
      (row.settings as { refreshTokenExpiresAt: string }).refreshTokenExpiresAt,
    );
    // eBay's refresh tokens last about 18 months (47,304,000 s).
    expect(expires - Date.now()).toBeGreaterThan(500 * 86_400_000);
    expect(calls("token:authorization_code")).toBe(1);
    expect(calls("getUser")).toBe(1);
  });

  it("registers the destination (challenge answered by the route) and both subscriptions", () => {
    const endpoint = webhookUrl("ebay", conn.id);
    const destinations = [...ebay.sandbox.destinations.values()];
    expect(destinations).toHaveLength(1);
    expect(destinations[0]).toMatchObject({ endpoint, status: "ENABLED" });
    expect(edge.requests).toContainEqual({
      method: "GET",
      path: `/webhooks/ebay/${conn.id}`,
      status: 200,
    });
    const subscriptions = [...ebay.sandbox.subscriptions.values()].map((s) => ({
      topic: s.topicId,
      user: s.userId,
      destination: s.destinationId,
      status: s.status,
    }));
    expect(subscriptions).toEqual(
      expect.arrayContaining([
        {
          topic: "ORDER_CONFIRMATION",
          user: SELLER_ID,
          destination: destinations[0]!.destinationId,
          status: "ENABLED",
        },
        {
          topic: "MARKETPLACE_ACCOUNT_DELETION",
          user: null,
          destination: destinations[0]!.destinationId,
          status: "ENABLED",
        },
      ]),
    );
  });

  it("finds everything in place when asked again (idempotent)", async () => {
    const report = await adapterFor("ebay").ensureSubscriptions!(conn, {
      callbackUrl: webhookUrl("ebay", conn.id),
    });
    expect(report.created).toEqual([]);
    expect(report.present).toHaveLength(3);
    expect(ebay.sandbox.destinations.size).toBe(1);
    expect(ebay.sandbox.subscriptions.size).toBe(2);
  });

  it("matches the Inventory API catalog by SKU and reports eBay SKUs the shop lacks", async () => {
    expect([...listings.keys()].sort()).toEqual(["MUG-BLUE", "MUG-RED", "TEAPOT"]);
    const issues = await prisma.catalogIssue.findMany({
      where: { connectionId: conn.id, resolvedAt: null },
    });
    expect(issues.map((i) => [i.kind, i.sku])).toEqual([["unmatched_sku", "EBAY-ONLY"]]);
    // The Trading-API listing is unknown to the Inventory API: not a listing of this connection.
    expect(listings.has("OLD-VASE")).toBe(false);
  });
});

describe("writeQuantities (bulkUpdatePriceQuantity, one SKU per call)", () => {
  it("sets the item and every published offer to the absolute quantity: applied", async () => {
    const before = calls("bulkUpdatePriceQuantity");
    const results = await adapterFor("ebay").writeQuantities(conn, [
      write("MUG-BLUE", 7),
      write("MUG-RED", 9),
      write("TEAPOT", 2),
    ]);
    expect(results.map((r) => r.state)).toEqual(["applied", "applied", "applied"]);
    expect(calls("bulkUpdatePriceQuantity") - before).toBe(3);
    expect(ebay.sandbox.listing(SELLER, "MUG-BLUE").quantity).toBe(7);
    // The offer's own cap (3) was raised with the item: the listing shows what we wrote.
    expect(ebay.sandbox.listing(SELLER, "MUG-RED").quantity).toBe(9);
    const reads = await adapterFor("ebay").readQuantities(
      conn,
      ["MUG-BLUE", "MUG-RED", "TEAPOT", "NOPE"].map((sku) => ({
        remoteRef: sku,
        remoteLocationRef: SHIP_TO_HOME,
      })),
    );
    expect(reads.map((r) => r.quantity)).toEqual([7, 9, 2, null]);
  });

  it("reads many listings by paging getInventoryItems", async () => {
    const refs = Array.from({ length: 25 }, (_, i) => ({
      remoteRef: i < 3 ? ["MUG-BLUE", "MUG-RED", "TEAPOT"][i]! : `MISSING-${i}`,
      remoteLocationRef: SHIP_TO_HOME,
    }));
    const pages = calls("getInventoryItems");
    const reads = await adapterFor("ebay").readQuantities(conn, refs);
    expect(calls("getInventoryItems") - pages).toBe(1);
    expect(reads.slice(0, 4).map((r) => r.quantity)).toEqual([7, 9, 2, null]);
  });

  it("rejects for good a SKU eBay does not have", async () => {
    const [result] = await adapterFor("ebay").writeQuantities(conn, [write("GONE-SKU", 4)]);
    expect(result).toMatchObject({ state: "rejected", retryable: false, code: "SKU_NOT_ON_EBAY" });
  });

  it("at eBay's revision limit: rejected once (retryable), then throttled until eBay's next day without calling eBay", async () => {
    const sb = ebay.sandbox;
    const adapter = new EbayAdapter({ now: () => sb.clock.now() });
    const used = sb.listing(SELLER, "MUG-BLUE").revisionsToday;
    sb.configure({ revisionLimit: used + 1 });
    try {
      expect((await adapter.writeQuantities(conn, [write("MUG-BLUE", 6)]))[0]!.state).toBe(
        "applied",
      );
      const [limited] = await adapter.writeQuantities(conn, [write("MUG-BLUE", 5)]);
      expect(limited).toMatchObject({ state: "rejected", retryable: true, code: "REVISION_LIMIT" });
      const sent = calls("bulkUpdatePriceQuantity");
      const refused = sb.revisionLog({ sku: "MUG-BLUE" }).filter((r) => r.refused).length;
      expect(refused).toBeGreaterThan(0);
      const [later] = await adapter.writeQuantities(conn, [write("MUG-BLUE", 4)]);
      expect(later!.state).toBe("throttled");
      const dayEnds =
        Date.parse(sb.clockState().now) + (later as { retryAfterMs: number }).retryAfterMs;
      expect(dayEnds).toBeLessThanOrEqual(Date.parse(sb.clockState().now) + 86_400_000);
      expect(calls("bulkUpdatePriceQuantity")).toBe(sent);
      // eBay's next calendar day (its 2-hour tokens expire on the way: refreshed transparently).
      sb.advanceClock({ days: 1 });
      expect((await adapter.writeQuantities(conn, [write("MUG-BLUE", 4)]))[0]!.state).toBe(
        "applied",
      );
      expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(4);
      // Only the one call eBay refused; nothing was sent while the listing was blocked.
      expect(sb.revisionLog({ sku: "MUG-BLUE" }).filter((r) => r.refused)).toHaveLength(refused);
    } finally {
      sb.configure({ revisionLimit: 250 });
      // The block is remembered for eBay's day as this adapter's clock (the local eBay's,
      // moved a day ahead) saw it; adapters on the real clock would still be in that day.
      const keys = await sharedRedis().keys(`${process.env.QUEUE_PREFIX}:ebay:revision-limit:*`);
      if (keys.length) await sharedRedis().del(...keys);
    }
  });

  it("a 429 blocks the operation for every adapter instance (shared in Redis) for its Retry-After", async () => {
    const a = new EbayAdapter();
    const b = new EbayAdapter();
    ebay.sandbox.addFault({
      operation: "bulkUpdatePriceQuantity",
      kind: "http429",
      count: 1,
      retryAfterSeconds: 2,
    });
    const [first] = await a.writeQuantities(conn, [write("MUG-BLUE", 3)]);
    expect(first).toMatchObject({ state: "throttled" });
    expect((first as { retryAfterMs: number }).retryAfterMs).toBe(2_000);
    const sent = calls("bulkUpdatePriceQuantity");
    const others = await b.writeQuantities(conn, [write("MUG-RED", 3), write("TEAPOT", 3)]);
    expect(others.map((r) => r.state)).toEqual(["throttled", "throttled"]);
    expect(calls("bulkUpdatePriceQuantity")).toBe(sent);
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await b.writeQuantities(conn, [write("MUG-BLUE", 3)]))[0]!.state).toBe("applied");
  });

  it("the daily call budget per seller and API is shared by two adapter instances", async () => {
    process.env.EBAY_DAILY_CALL_LIMITS = "inventory=3";
    resetEbayConfig();
    const keys = await sharedRedis().keys(`${process.env.QUEUE_PREFIX}:rate:*`);
    if (keys.length) await sharedRedis().del(...keys);
    try {
      const a = new EbayAdapter();
      const b = new EbayAdapter();
      const before = ebay.sandbox.requestLog.filter((r) => r.api === "sell.inventory").length;
      const states: string[] = [];
      for (let i = 0; i < 3; i++) {
        for (const adapter of [a, b]) {
          const [r] = await adapter.writeQuantities(conn, [write("MUG-BLUE", 10 + i)]);
          states.push(r!.state);
        }
      }
      const sent =
        ebay.sandbox.requestLog.filter((r) => r.api === "sell.inventory").length - before;
      expect(sent).toBeLessThanOrEqual(3);
      expect(states.filter((s) => s === "throttled").length).toBeGreaterThanOrEqual(4);
      expect(states[states.length - 1]).toBe("throttled");
    } finally {
      delete process.env.EBAY_DAILY_CALL_LIMITS;
      resetEbayConfig();
      const keys = await sharedRedis().keys(`${process.env.QUEUE_PREFIX}:rate:*`);
      if (keys.length) await sharedRedis().del(...keys);
    }
  });

  it("retries a server error once, then reports it as retryable", async () => {
    ebay.sandbox.addFault({ operation: "bulkUpdatePriceQuantity", kind: "http500", count: 1 });
    expect((await adapterFor("ebay").writeQuantities(conn, [write("MUG-RED", 8)]))[0]!.state).toBe(
      "applied",
    );
    ebay.sandbox.addFault({ operation: "bulkUpdatePriceQuantity", kind: "http503", count: 2 });
    const [result] = await adapterFor("ebay").writeQuantities(conn, [write("MUG-RED", 7)]);
    expect(result).toMatchObject({ state: "rejected", retryable: true, code: "EBAY_UNAVAILABLE" });
    expect(ebay.sandbox.listing(SELLER, "MUG-RED").quantity).toBe(8);
  });
});

describe("tokens", () => {
  it("refreshes an access token eBay expired, transparently", async () => {
    const adapter = new EbayAdapter();
    expect((await adapter.writeQuantities(conn, [write("MUG-BLUE", 5)]))[0]!.state).toBe("applied");
    const refreshes = calls("token:refresh_token");
    ebay.sandbox.expireTokens({ seller: SELLER, kind: "user" });
    expect((await adapter.writeQuantities(conn, [write("MUG-BLUE", 6)]))[0]!.state).toBe("applied");
    expect(calls("token:refresh_token")).toBe(refreshes + 1);
    // The 401 the expired token got was answered by one refresh and one resend.
    expect(ebay.sandbox.listing(SELLER, "MUG-BLUE").quantity).toBe(6);
  });

  it("a revoked authorization is a ChannelAuthError that pauses the connection once, visibly, with no loop of calls", async () => {
    const adapter = new EbayAdapter();
    ebay.sandbox.revokeTokens({ seller: SELLER });
    await expect(adapter.writeQuantities(conn, [write("MUG-BLUE", 2)])).rejects.toBeInstanceOf(
      ChannelAuthError,
    );
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row.status).toBe("error");
    expect(row.statusReason).toMatch(/connect the eBay account again/);
    const failures = await prisma.syncFailure.findMany({
      where: { connectionId: conn.id, kind: "auth" },
    });
    expect(failures).toHaveLength(1);
    const tokenCalls = calls("token:refresh_token");
    await expect(adapter.writeQuantities(conn, [write("MUG-BLUE", 2)])).rejects.toBeInstanceOf(
      ChannelAuthError,
    );
    await expect(adapter.poll(conn, null)).rejects.toBeInstanceOf(ChannelAuthError);
    expect(calls("token:refresh_token")).toBe(tokenCalls);

    // The merchant connects again: the same connection is active with new credentials.
    const again = await connectEbay(SHOP, ebay.url);
    expect(again.connectionId).toBe(conn.id);
    const row2 = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row2.status).toBe("active");
    expect((await adapterFor("ebay").writeQuantities(conn, [write("MUG-BLUE", 2)]))[0]!.state).toBe(
      "applied",
    );
  });
});
