import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmazonAdapter } from "../../app/channels/amazon/adapter.server";
import { AmazonTokens } from "../../app/channels/amazon/tokens.server";
import type { ConnectionContext, QuantityWrite } from "../../app/channels/channel-adapter";
import { ChannelAuthError } from "../../app/channels/errors";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { markDirty } from "../../app/repositories/listings.server";
import { receiveQueue } from "../../app/services/inbound/poll.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { confirmWrites } from "../../app/services/push/confirm-writes.server";
import { pushConnection } from "../../app/services/push/push-connection.server";
import {
  connectAmazon,
  SELLER,
  startAmazonTestWorld,
  type AmazonTestWorld,
} from "./amazon-fixtures";

/**
 * The Amazon adapter against the local SP-API: quantities written with patchListingsItem (merge of
 * the DEFAULT channel only) and classified (ACCEPTED → pending, INVALID → rejected, 429 and the
 * shared budget → throttled), confirmed by read-back or by the MFN quantity notification, the
 * 5 req/s budget shared by two adapter instances through Redis, access tokens renewed before
 * they expire and when SP-API refuses them, and a revoked authorisation pausing the connection.
 */
let world: AmazonTestWorld;
let conn: ConnectionContext;
const sb = () => world.amazon.sandbox;

const listingOf = (sku: string) =>
  prisma.listing.findFirstOrThrow({ where: { connectionId: conn.id, sku } });

beforeAll(async () => {
  world = await startAmazonTestWorld("amazon-adapter.myshopify.com");
  conn = await connectAmazon(world);
});

afterAll(async () => world?.close());

describe("quantities out", () => {
  it("writes the published quantity as an ACCEPTED merge of DEFAULT (pending), then confirms it by read-back", async () => {
    // Published = the source's stock (8, 4, 6); Amazon shows 10, 3, 5.
    const outcome = await pushConnection(conn.id);
    expect(outcome).toMatchObject({ wrote: 3, rejected: 0 });
    const patches = sb().submissionLog({ sellerId: SELLER });
    expect(patches.map((p) => [p.sku, p.status]).sort()).toEqual([
      ["CAP-MIX", "ACCEPTED"],
      ["MUG-BLUE", "ACCEPTED"],
      ["MUG-RED", "ACCEPTED"],
    ]);
    for (const p of patches) {
      expect(p.patches).toEqual([
        {
          op: "merge",
          path: "/attributes/fulfillment_availability",
          value: [{ fulfillment_channel_code: "DEFAULT", quantity: expect.any(Number) }],
        },
      ]);
    }
    const blue = await listingOf("MUG-BLUE");
    expect(blue.pendingTrackingId).toBe(patches.find((p) => p.sku === "MUG-BLUE")!.submissionId);
    expect(blue.pendingQuantity).toBe(8);

    expect(await sb().waitForIdle()).toBe(true);
    const summary = await confirmWrites(conn.id, 0);
    expect(summary).toMatchObject({ confirmed: 3, refused: 0 });
    for (const [sku, quantity] of [
      ["MUG-BLUE", 8],
      ["MUG-RED", 4],
      ["CAP-MIX", 6],
    ] as const) {
      const listing = await listingOf(sku);
      expect({ sku, pending: listing.pendingTrackingId, remote: listing.remoteQuantity }).toEqual({
        sku,
        pending: null,
        remote: quantity,
      });
      expect(sb().listing(SELLER, sku).mfnQuantity).toBe(quantity);
    }
    // merge keeps what was not sent (the lead time) and never touches the FBA channel.
    const blueAttrs = sb().listing(SELLER, "MUG-BLUE").attributes.fulfillment_availability!;
    expect(blueAttrs[0]).toMatchObject({ quantity: 8, lead_time_to_ship_max_days: 3 });
    expect(sb().listing(SELLER, "CAP-MIX").available).toEqual({ DEFAULT: 6, AMAZON_NA: 7 });
  });

  it("confirms a pending write when Amazon's MFN quantity notification reports it", async () => {
    const red = await listingOf("MUG-RED");
    // The source sold one unit: published 3.
    world.shopify.sandbox.checkout(world.shopDomain, { lines: [{ sku: "MUG-RED", quantity: 1 }] });
    const results = await adapterFor("amazon").writeQuantities(conn, [
      {
        listingId: red.id,
        remoteRef: "MUG-RED",
        remoteLocationRef: "DEFAULT",
        quantity: 3,
        expected: null,
      },
    ]);
    expect(results[0]).toMatchObject({ state: "pending", quantity: 3 });
    const { recordPending } = await import("../../app/repositories/listings.server");
    await recordPending(
      [
        {
          listingId: red.id,
          version: red.publishedVersion,
          quantity: 3,
          trackingId: (results[0] as { trackingId: string }).trackingId,
        },
      ],
      new Date(),
    );
    expect(await sb().waitForIdle()).toBe(true);
    // The notification travels EventBridge → SQS; receive, store, apply.
    let stored = 0;
    for (let i = 0; i < 5 && stored === 0; i++) stored += (await receiveQueue("amazon")).received;
    const receipts = await prisma.receipt.findMany({
      where: {
        connectionId: conn.id,
        topic: "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        status: "pending",
      },
    });
    for (const r of receipts) await ingestReceipt(r.id);
    const after = await listingOf("MUG-RED");
    expect(after.pendingTrackingId).toBeNull();
    expect(after.remoteQuantity).toBe(3);
  });

  it("reports INVALID submissions as rejected with Amazon's issue, and never writes an FBA channel", async () => {
    sb().deleteListing(SELLER, "AMZ-ONLY");
    const before = sb().submissionLog({ sellerId: SELLER }).length;
    const results = await adapterFor("amazon").writeQuantities(conn, [
      {
        listingId: "gone",
        remoteRef: "AMZ-ONLY",
        remoteLocationRef: "DEFAULT",
        quantity: 1,
        expected: null,
      },
      {
        listingId: "fba",
        remoteRef: "CAP-MIX",
        remoteLocationRef: "AMAZON_NA",
        quantity: 1,
        expected: null,
      },
    ]);
    expect(results[0]).toMatchObject({ state: "rejected", retryable: false, code: "4000004" });
    expect(results[1]).toMatchObject({ state: "rejected", retryable: false, code: "NOT_MFN" });
    const sent = sb().submissionLog({ sellerId: SELLER }).slice(before);
    expect(sent.map((s) => s.sku)).toEqual(["AMZ-ONLY"]);
    expect(sb().listing(SELLER, "CAP-MIX").available.AMAZON_NA).toBe(7);
  });

  it("shares the 5 req/s budget between two adapter instances (Redis): the rest is throttled, Amazon never answers 429", async () => {
    sb().limiter.reset();
    await new Promise((r) => setTimeout(r, 1_100)); // our own bucket refills too
    const a = new AmazonAdapter();
    const b = new AmazonAdapter();
    const skus = ["MUG-BLUE", "MUG-RED", "CAP-MIX"];
    const writes = (tag: string): QuantityWrite[] =>
      Array.from({ length: 8 }, (_, i) => ({
        listingId: `${tag}-${i}`,
        remoteRef: skus[i % skus.length]!,
        remoteLocationRef: "DEFAULT",
        quantity: 5,
        expected: null,
      }));
    const throttledBefore = sb().throttledCount("patchListingsItem");
    const started = Date.now();
    const [ra, rb] = await Promise.all([
      a.writeQuantities(conn, writes("a")),
      b.writeQuantities(conn, writes("b")),
    ]);
    const took = Date.now() - started;
    const all = [...ra, ...rb];
    const pending = all.filter((r) => r.state === "pending").length;
    const throttled = all.filter((r) => r.state === "throttled");
    // Our plan (a little under Amazon's 5/5): a burst of 4, then 4.5 per second during the
    // 1.2 s each push waits in place — for both instances together.
    expect(pending).toBeGreaterThanOrEqual(4);
    expect(pending).toBeLessThanOrEqual(10);
    expect(throttled.length).toBe(16 - pending);
    for (const t of throttled)
      expect((t as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(took).toBeLessThan(3_000);
    expect(sb().throttledCount("patchListingsItem")).toBe(throttledBefore);
    expect(await sb().waitForIdle()).toBe(true);
  });

  it("blocks the operation for every instance after Amazon answers 429, and waits it out", async () => {
    await new Promise((r) => setTimeout(r, 1_100));
    sb().limiter.reset();
    sb().injectFault({ operation: "patchListingsItem", status: 429, count: 1 });
    const a = new AmazonAdapter();
    const b = new AmazonAdapter();
    const write = (listingId: string): QuantityWrite => ({
      listingId,
      remoteRef: "MUG-BLUE",
      remoteLocationRef: "DEFAULT",
      quantity: 8,
      expected: null,
    });
    const patchesSent = () => sb().requests({ operation: "patchListingsItem" });
    const before = patchesSent().length;
    const first = await a.writeQuantities(conn, [write("a")]);
    const second = await b.writeQuantities(conn, [write("b")]);
    // a was answered 429, blocked the seller's patches in Redis for a second, waited it out in
    // place and sent again; b did not send until the block was over.
    expect(first[0]).toMatchObject({ state: "pending" });
    expect(second[0]).toMatchObject({ state: "pending" });
    expect(a.client.throttled).toBe(1);
    const sent = patchesSent().slice(before);
    expect(sent.map((r) => r.status)).toEqual([429, 200, 200]);
    for (const later of sent.slice(1))
      expect(Date.parse(later.at) - Date.parse(sent[0]!.at)).toBeGreaterThanOrEqual(900);
    expect(await sb().waitForIdle()).toBe(true);
  });

  it("leaves a write throttled when the block outlasts what a push may wait", async () => {
    await new Promise((r) => setTimeout(r, 1_100));
    sb().limiter.reset();
    const { block } = await import("../../app/lib/rate-limit.server");
    await block(`amazon:${SELLER}`, "patchListingsItem", 5_000);
    const before = sb().requests({ operation: "patchListingsItem" }).length;
    const results = await adapterFor("amazon").writeQuantities(conn, [
      {
        listingId: "x",
        remoteRef: "MUG-BLUE",
        remoteLocationRef: "DEFAULT",
        quantity: 8,
        expected: null,
      },
    ]);
    expect(results[0]).toMatchObject({ state: "throttled" });
    expect((results[0] as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(3_000);
    expect(sb().requests({ operation: "patchListingsItem" }).length).toBe(before);
    await block(`amazon:${SELLER}`, "patchListingsItem", 0);
  });
});

describe("quantities in", () => {
  it("reads the live MFN quantity (orders lower it at once); FBA-only listings have none", async () => {
    const before = sb().listing(SELLER, "MUG-BLUE").mfnQuantity!;
    sb().purchase(SELLER, { sku: "MUG-BLUE", quantity: 2 });
    const reads = await adapterFor("amazon").readQuantities(conn, [
      { remoteRef: "MUG-BLUE", remoteLocationRef: "DEFAULT" },
      { remoteRef: "TEE-FBA", remoteLocationRef: "DEFAULT" },
      { remoteRef: "NOT-LISTED", remoteLocationRef: "DEFAULT" },
    ]);
    expect(reads.map((r) => [r.remoteRef, r.quantity])).toEqual([
      ["MUG-BLUE", before - 2],
      ["TEE-FBA", null],
      ["NOT-LISTED", null],
    ]);
  });
});

describe("Login with Amazon tokens", () => {
  it("renews an access token SP-API refuses as expired, once", async () => {
    const adapter = adapterFor("amazon") as AmazonAdapter;
    await adapter.readQuantities(conn, [{ remoteRef: "MUG-RED", remoteLocationRef: "DEFAULT" }]);
    const refreshes = adapter.tokens.refreshes;
    sb().expireAccessTokens({ sellerId: SELLER });
    const reads = await adapter.readQuantities(conn, [
      { remoteRef: "MUG-RED", remoteLocationRef: "DEFAULT" },
    ]);
    expect(reads[0]?.quantity).toBe(sb().listing(SELLER, "MUG-RED").mfnQuantity);
    expect(adapter.tokens.refreshes).toBe(refreshes + 1);
    const denied = sb()
      .requests({ api: "sp-api" })
      .filter((r) => r.status === 403);
    expect(denied.length).toBeGreaterThanOrEqual(1);
  });

  it("renews an access token five minutes before it expires, without a refused call", async () => {
    let clock = Date.now();
    const tokens = new AmazonTokens({ now: () => clock });
    const adapter = new AmazonAdapter({ tokens });
    const read = () =>
      adapter.readQuantities(conn, [{ remoteRef: "MUG-RED", remoteLocationRef: "DEFAULT" }]);
    await read();
    await read();
    expect(tokens.refreshes).toBe(1);
    const denied = sb()
      .requests({ api: "sp-api" })
      .filter((r) => r.status === 403).length;
    clock += 56 * 60_000; // 4 minutes before the hour is up
    await read();
    expect(tokens.refreshes).toBe(2);
    expect(
      sb()
        .requests({ api: "sp-api" })
        .filter((r) => r.status === 403).length,
    ).toBe(denied);
  });

  it("a revoked authorisation pauses the connection with a visible reason (no retry loop)", async () => {
    sb().revokeRefreshToken({ sellerId: SELLER });
    const blue = await listingOf("MUG-BLUE");
    // What Amazon shows is unknown: the push must write.
    await prisma.listing.update({ where: { id: blue.id }, data: { remoteQuantity: null } });
    await markDirty([blue.id], new Date());
    await expect(pushConnection(conn.id)).rejects.toBeInstanceOf(ChannelAuthError);
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row.status).toBe("error");
    expect(row.statusReason).toMatch(/revoked|connect the Amazon account again/);
    const failures = await prisma.syncFailure.findMany({
      where: { connectionId: conn.id, kind: "auth" },
    });
    expect(failures).toHaveLength(1);
    const lwaCalls = sb().requests({ api: "lwa" }).length;
    expect(await pushConnection(conn.id)).toEqual({ skipped: "connection error" });
    expect(sb().requests({ api: "lwa" }).length).toBe(lwaCalls);
  });
});
