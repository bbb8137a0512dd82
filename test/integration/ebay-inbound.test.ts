/**
 * eBay's inbound side through StockGuard's own route (`/webhooks/ebay/<connection id>`), against
 * the local eBay pushing signed notifications: the endpoint challenge; ORDER_CONFIRMATION stored
 * once per notificationId whatever eBay duplicates or repeats, acknowledged 204, read back with
 * getOrder and applied once; forged, tampered and unsigned deliveries answered 412 and stored
 * nowhere; signatures eBay gets wrong retried by eBay until one verifies; unknown SKUs recorded
 * as unmatched lines; a Trading-API listing reported as not manageable; cancellations and
 * shipments found by polling; an account deletion erasing the seller's connection.
 */
import { generateKeyPairSync, createSign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { loadConnection, toContext } from "../../app/repositories/connections.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { webhookUrl } from "../../app/services/connect-marketplace.server";
import { pollConnection } from "../../app/services/inbound/poll.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { pushSalesConnection } from "../../app/services/push/push-sales.server";
import { installSource, startLocalStores } from "../helpers/local-stores";
import { startLocalEbay, type LocalEbay } from "../sandbox/ebay/server";
import { challengeResponse, signatureHeader } from "../sandbox/ebay/signing";
import type { LocalShopify } from "../sandbox/shopify/server";
import { EBAY_APP, connectEbay, ebaySeed, startWebEdge, useEbayEnv } from "./ebay-helpers";

const SHOP = "ebay-inbound-source.myshopify.com";
const SELLER = "mugs_and_more";
const SELLER_ID = "ma8vp1jySJC";

let shopify: LocalShopify;
let ebay: LocalEbay;
let edge: Awaited<ReturnType<typeof startWebEdge>>;
let conn: ConnectionContext;
let shopId: string;

async function ingestPending(): Promise<number> {
  const pending = await prisma.receipt.findMany({
    where: { connectionId: conn.id, status: "pending" },
    orderBy: { id: "asc" },
  });
  for (const r of pending) await ingestReceipt(r.id);
  return pending.length;
}

const committed = async (sku: string) =>
  (
    await prisma.orderLine.aggregate({
      where: { connectionId: conn.id, sku },
      _sum: { committed: true },
    })
  )._sum.committed ?? 0;

function post(body: string, signature: string | null): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (signature !== null) headers["X-EBAY-SIGNATURE"] = signature;
  return fetch(webhookUrl("ebay", conn.id), { method: "POST", headers, body });
}

function notificationBody(orderId: string, id = `n-${Math.random().toString(36).slice(2)}`) {
  return JSON.stringify({
    metadata: { topic: "ORDER_CONFIRMATION", schemaVersion: "1.0", deprecated: false },
    notification: {
      notificationId: id,
      eventDate: new Date().toISOString(),
      publishDate: new Date().toISOString(),
      publishAttemptCount: 1,
      data: { orderId },
    },
  });
}

beforeAll(async () => {
  useEbayEnv();
  shopify = await startLocalStores([
    {
      domain: SHOP,
      products: ["MUG-BLUE", "MUG-RED", "OLD-VASE"].map((sku) => ({
        title: sku,
        variants: [{ sku, inventory: { Warehouse: 30 } }],
      })),
    },
  ]);
  const installed = await installSource(SHOP, "token-0");
  shopId = installed.shopId;
  await importCatalog(installed.source, adapterFor("shopify"));
  edge = await startWebEdge();
  ebay = await startLocalEbay({
    rngSeed: 9,
    timeScale: 0.001,
    seed: ebaySeed(edge.url, [
      {
        username: SELLER,
        userId: SELLER_ID,
        inventory: [
          { sku: "MUG-BLUE", title: "Blue mug", quantity: 10 },
          { sku: "MUG-RED", title: "Red mug", quantity: 10 },
          { sku: "EBAY-ONLY", title: "Sold only on eBay", quantity: 3 },
        ],
        tradingListings: [{ sku: "OLD-VASE", title: "Old vase", quantity: 5 }],
      },
    ]),
  });
  const connected = await connectEbay(SHOP, ebay.url);
  conn = toContext((await loadConnection(connected.connectionId))!);
}, 60_000);

afterAll(async () => {
  await ebay?.close();
  await edge?.close();
  await shopify?.close();
});

describe("the endpoint challenge", () => {
  it("answers hex(SHA-256(code + verification token + the registered endpoint))", async () => {
    const response = await fetch(`${webhookUrl("ebay", conn.id)}?challenge_code=abc-123`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({
      challengeResponse: challengeResponse(
        "abc-123",
        EBAY_APP.verificationToken,
        webhookUrl("ebay", conn.id),
      ),
    });
    expect((await fetch(webhookUrl("ebay", conn.id))).status).toBe(412);
  });
});

describe("ORDER_CONFIRMATION", () => {
  it("stores each notification once whatever eBay duplicates or repeats, and applies the order once", async () => {
    const sb = ebay.sandbox;
    sb.configurePush({
      duplicateProbability: 1,
      repeatProbability: 1,
      delayMs: [0, 80],
      reorder: true,
    });
    try {
      const { order, notificationIds } = sb.checkout(SELLER, {
        lines: [
          { sku: "MUG-BLUE", quantity: 2 },
          { sku: "OLD-VASE", quantity: 1 },
          { sku: "EBAY-ONLY", quantity: 1 },
        ],
      });
      const orderId = (order as { orderId: string }).orderId;
      // One per line item, each published again (a repeat), each delivered twice (duplicates).
      expect(notificationIds).toHaveLength(6);
      expect(await sb.waitForIdle(10_000)).toBe(true);
      const deliveries = sb.deliveries({ topic: "ORDER_CONFIRMATION" });
      expect(deliveries).toHaveLength(12);
      expect(deliveries.every((d) => d.state === "delivered")).toBe(true);
      expect(deliveries.flatMap((d) => d.attempts.map((a) => a.status))).toEqual(
        Array(12).fill(204),
      );
      const receipts = await prisma.receipt.findMany({ where: { connectionId: conn.id } });
      expect(receipts).toHaveLength(6);
      expect(new Set(receipts.map((r) => r.eventId))).toEqual(new Set(notificationIds));
      expect(receipts.every((r) => r.resourceId === orderId)).toBe(true);
      // Nothing of the buyer is stored: the notification names the order only.
      expect(JSON.stringify(receipts.map((r) => r.payload))).not.toMatch(/buyer|address|email/i);

      expect(await ingestPending()).toBe(6);
      expect(await committed("MUG-BLUE")).toBe(2);
      // A Trading-API listing: its sale counts (by the shop's SKU) …
      expect(await committed("OLD-VASE")).toBe(1);
      // … and the merchant is told StockGuard cannot set its quantity.
      const issues = await prisma.catalogIssue.findMany({
        where: { connectionId: conn.id, kind: "not_manageable", resolvedAt: null },
      });
      expect(issues.map((i) => i.sku)).toEqual(["OLD-VASE"]);
      expect(issues[0]!.remoteRefs).toEqual([sb.listing(SELLER, "OLD-VASE").listingId]);
      // A SKU the shop does not have is an unmatched line, not a guess.
      const unmatched = await prisma.unmatchedLine.findMany({ where: { connectionId: conn.id } });
      expect(unmatched.map((u) => [u.sku, u.quantity])).toEqual([["EBAY-ONLY", 1]]);
      const movements = await prisma.movement.count({
        where: { shopId, kind: "order_placed", orderRef: orderId },
      });
      expect(movements).toBe(2);
    } finally {
      sb.configurePush({ duplicateProbability: 0, repeatProbability: 0, delayMs: [0, 0] });
    }
  });

  it("verifies signatures eBay sent wrong as wrong (412), and stores the retry that verifies", async () => {
    const sb = ebay.sandbox;
    sb.configurePush({ corruptSignatureProbability: 0.5, retryIntervalsSeconds: [1, 1, 1, 1, 1] });
    try {
      const before = await prisma.receipt.count({ where: { connectionId: conn.id } });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++)
        ids.push(
          ...sb.checkout(SELLER, { lines: [{ sku: "MUG-RED", quantity: 1 }] }).notificationIds,
        );
      expect(await sb.waitForIdle(10_000)).toBe(true);
      const attempts = sb
        .deliveries({ topic: "ORDER_CONFIRMATION" })
        .filter((d) => ids.includes(d.notificationId))
        .flatMap((d) => d.attempts);
      for (const a of attempts) expect(a.status).toBe(a.corruptSignature ? 412 : 204);
      expect(attempts.some((a) => a.corruptSignature)).toBe(true);
      expect(await prisma.receipt.count({ where: { connectionId: conn.id } })).toBe(before + 4);
      await ingestPending();
      expect(await committed("MUG-RED")).toBe(4);
    } finally {
      sb.configurePush({ corruptSignatureProbability: 0 });
    }
  });
});

describe("forged deliveries: 412, stored nowhere", () => {
  it("refuses unsigned, wrongly signed, unknown-key and tampered deliveries", async () => {
    const sb = ebay.sandbox;
    const key = sb.currentSigningKey();
    const receipts = await prisma.receipt.count();
    const rejected = await prisma.rejectedDelivery.count();
    const body = notificationBody("11-11111-11111");

    expect((await post(body, null)).status).toBe(412);
    expect((await post(body, "not base64 json")).status).toBe(412);
    // A key of our own, presented under eBay's kid.
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const forged = createSign("sha1").update(body).sign(privateKey, "base64");
    const header = (fields: Record<string, string>) =>
      Buffer.from(
        JSON.stringify({ alg: "ecdsa", kid: key.kid, digest: "SHA1", ...fields }),
      ).toString("base64");
    expect((await post(body, header({ signature: forged }))).status).toBe(412);
    // A kid eBay does not know: asked once, then remembered.
    const keyCalls = () => sb.requestLog.filter((r) => r.operation === "getPublicKey").length;
    const before = keyCalls();
    for (let i = 0; i < 3; i++)
      expect((await post(body, header({ kid: "no-such-kid", signature: forged }))).status).toBe(
        412,
      );
    expect(keyCalls() - before).toBe(1);
    // eBay's signature over another body.
    const signed = signatureHeader(key, notificationBody("22-22222-22222"));
    expect((await post(body, signed)).status).toBe(412);

    expect(await prisma.receipt.count()).toBe(receipts);
    expect(await prisma.rejectedDelivery.count()).toBe(rejected);
  });

  it("accepts a genuine body that was re-serialised on the way (the SDK's fallback)", async () => {
    const key = ebay.sandbox.currentSigningKey();
    const order = ebay.sandbox.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 1 }] });
    await ebay.sandbox.waitForIdle(5_000);
    const compact = notificationBody((order.order as { orderId: string }).orderId, "manual-1");
    const pretty = JSON.stringify(JSON.parse(compact), null, 2);
    expect((await post(pretty, signatureHeader(key, compact))).status).toBe(204);
    expect((await post(pretty, signatureHeader(key, compact))).status).toBe(204); // duplicate
    expect(
      await prisma.receipt.count({ where: { connectionId: conn.id, eventId: "manual-1" } }),
    ).toBe(1);
    await ingestPending();
    expect(await committed("MUG-BLUE")).toBe(3);
  });
});

describe("polling: what eBay does not push", () => {
  it("finds cancellations and shipments by lastmodifieddate and applies them once", async () => {
    const sb = ebay.sandbox;
    const a = sb.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 3 }] });
    const b = sb.checkout(SELLER, { lines: [{ sku: "MUG-RED", quantity: 2 }] });
    await sb.waitForIdle(5_000);
    await ingestPending();
    expect(await committed("MUG-BLUE")).toBe(6);
    expect(await committed("MUG-RED")).toBe(6);

    sb.cancelOrder((a.order as { orderId: string }).orderId, { initiator: "SELLER" });
    sb.shipOrder((b.order as { orderId: string }).orderId);
    const first = await pollConnection(conn.id);
    expect(first.stored).toBeGreaterThan(0);
    await ingestPending();
    expect(await committed("MUG-BLUE")).toBe(3);
    expect(await committed("MUG-RED")).toBe(4);
    const shipped = await prisma.orderLine.findFirst({
      where: { connectionId: conn.id, orderId: (b.order as { orderId: string }).orderId },
    });
    expect(shipped).toMatchObject({ shipped: 2, committed: 0 });

    // Polling again finds the same order states: no order stored again, nothing changes (the
    // cancelled order's listing is read again for a while: an echo of what eBay shows).
    const snapshots = () =>
      prisma.receipt.count({ where: { connectionId: conn.id, topic: "order_snapshot" } });
    const before = await snapshots();
    await pollConnection(conn.id);
    expect(await snapshots()).toBe(before);
    await ingestPending();
    expect(await committed("MUG-BLUE")).toBe(3);
    expect(await committed("MUG-RED")).toBe(4);
  });

  it("corrects eBay after it put a cancelled order's units back on the listing by itself", async () => {
    const sb = ebay.sandbox;
    const adapter = adapterFor("ebay");
    await pushSalesConnection(conn, adapter);
    const listing = await prisma.listing.findFirstOrThrow({
      where: { connectionId: conn.id, sku: "MUG-RED" },
    });
    expect(sb.listing(SELLER, "MUG-RED").quantity).toBe(listing.publishedQuantity);
    const { order } = sb.checkout(SELLER, { lines: [{ sku: "MUG-RED", quantity: 2 }] });
    await sb.waitForIdle(5_000);
    await ingestPending();
    await pushSalesConnection(conn, adapter);
    const before = sb.listing(SELLER, "MUG-RED").quantity;
    // The ledger meanwhile commits the last units elsewhere (a source-store sale of all of them).
    const published = (await prisma.listing.findUniqueOrThrow({ where: { id: listing.id } }))
      .publishedQuantity;
    await applyLedgerEvent({
      shopId,
      actor: "test",
      operations: [
        {
          type: "line",
          key: "restock-test/source-sale",
          connectionId: (
            await prisma.connection.findFirstOrThrow({ where: { shopId, role: "source" } })
          ).id,
          orderId: "restock-test",
          lineId: "1",
          sku: "MUG-RED",
          command: { kind: "placed", quantity: published + 2, version: new Date().toISOString() },
        },
      ],
    });
    sb.cancelOrder((order as { orderId: string }).orderId, { initiator: "SELLER" });
    // eBay gave the 2 units back to its listing; the ledger has nothing left to sell there.
    expect(sb.listing(SELLER, "MUG-RED").quantity).toBe(before + 2);
    await pollConnection(conn.id);
    await ingestPending();
    await pushSalesConnection(conn, adapter);
    const after = await prisma.listing.findUniqueOrThrow({ where: { id: listing.id } });
    expect(after.publishedQuantity).toBe(0);
    expect(sb.listing(SELLER, "MUG-RED").quantity).toBe(0);
  });
});

describe("MARKETPLACE_ACCOUNT_DELETION", () => {
  it("erases the deleted seller's connection (credentials, identifiers) and keeps only hashes", async () => {
    const sb = ebay.sandbox;
    const { notificationIds } = sb.accountDeletion(SELLER);
    expect(notificationIds).toHaveLength(1);
    expect(await sb.waitForIdle(5_000)).toBe(true);
    expect(sb.deliveries({ topic: "MARKETPLACE_ACCOUNT_DELETION" })[0]!.attempts[0]!.status).toBe(
      204,
    );
    const receipt = await prisma.receipt.findFirstOrThrow({
      where: { connectionId: conn.id, topic: "MARKETPLACE_ACCOUNT_DELETION" },
    });
    const stored = JSON.stringify(receipt.payload);
    expect(stored).not.toContain(SELLER);
    expect(stored).not.toContain(SELLER_ID);
    expect(stored).toMatch(/userIdSha256/);

    expect(await ingestPending()).toBe(1);
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row.credentials).toBeNull();
    expect(row.status).toBe("disconnected");
    expect(row.accountRef).toMatch(/^deleted-[0-9a-f]{16}$/);
    expect(row.name).toBe("Deleted ebay account");
    expect(JSON.stringify(row.settings)).not.toMatch(/refreshTokenExpiresAt|marketplaceId/);
    const failures = await prisma.syncFailure.findMany({
      where: { connectionId: conn.id, kind: "account_deleted" },
    });
    expect(failures).toHaveLength(1);
    // Orders already counted keep their stock effect.
    expect(await committed("MUG-BLUE")).toBe(3);
  });
});
