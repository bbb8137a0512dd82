import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { completeAuthorization } from "../../app/services/connect-marketplace.server";
import { receiveMarketplaceDelivery } from "../../app/services/inbound/marketplace-deliveries.server";
import {
  CALLBACK,
  connectAmazon,
  MARKETPLACE,
  SELLER,
  startAmazonTestWorld,
  type AmazonTestWorld,
} from "./amazon-fixtures";

/**
 * Connecting an Amazon seller the product's own way: Login with Amazon's website authorisation
 * workflow (consent URL with application_id, state, version=beta on the local Seller Central;
 * callback with spapi_oauth_code and selling_partner_id; code exchanged at the LWA token
 * endpoint), the refresh token sealed at rest, the SQS destination and subscriptions created,
 * and the catalog matched by seller SKU (FBA-only listings reported, not synced).
 */
let world: AmazonTestWorld;

beforeAll(async () => {
  world = await startAmazonTestWorld("amazon-connect.myshopify.com");
});

afterAll(async () => world?.close());

describe("channel:connect --kind amazon (website authorisation workflow)", () => {
  it("sends the seller to the consent page and stores the exchanged refresh token sealed", async () => {
    const conn = await connectAmazon(world);
    const consent = new URL(conn.consentUrl);
    expect(consent.origin).toBe(world.amazon.url);
    expect(consent.pathname).toBe("/apps/authorize/consent");
    expect(consent.searchParams.get("application_id")).toBe(world.amazon.sandbox.app.applicationId);
    expect(consent.searchParams.get("version")).toBe("beta");
    expect(consent.searchParams.get("redirect_uri")).toBe(CALLBACK);
    expect(consent.searchParams.get("state")).toMatch(/^[\w-]{32}$/);

    expect(conn).toMatchObject({ kind: "amazon", role: "sales", accountRef: SELLER });
    expect(conn.settings).toMatchObject({ marketplaceId: MARKETPLACE, syncLocationId: "DEFAULT" });
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: conn.id } });
    // The refresh token LWA issued for the code is stored, sealed.
    const issued = [...world.amazon.sandbox.refreshTokens.values()].filter(
      (t) => t.sellerId === SELLER,
    );
    expect(issued).toHaveLength(1);
    expect(row.credentials).toBeTruthy();
    expect(row.credentials).not.toContain(issued[0]!.token);
    expect(row.credentials).not.toContain("Atzr");

    // Subscriptions: an SQS destination for the app's queue and the seller's ORDER_CHANGE, plus
    // the EventBridge destination and LISTINGS_ITEM_MFN_QUANTITY_CHANGE.
    const subscriptions = [...world.amazon.sandbox.subscriptions.values()].filter(
      (s) => s.sellerId === SELLER,
    );
    expect(subscriptions.map((s) => s.notificationType).sort()).toEqual([
      "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
      "ORDER_CHANGE",
    ]);

    // Catalog: matched by SKU; the FBA-only listing is reported, the unknown SKU too.
    const listings = await prisma.listing.findMany({
      where: { connectionId: conn.id },
      orderBy: { sku: "asc" },
    });
    expect(listings.map((l) => [l.sku, l.remoteRef, l.remoteLocationRef])).toEqual([
      ["CAP-MIX", "CAP-MIX", "DEFAULT"],
      ["MUG-BLUE", "MUG-BLUE", "DEFAULT"],
      ["MUG-RED", "MUG-RED", "DEFAULT"],
    ]);
    expect(listings.map((l) => l.remoteQuantity)).toEqual([5, 10, 3]);
    const issues = await prisma.catalogIssue.findMany({
      where: { connectionId: conn.id, resolvedAt: null },
      orderBy: { kind: "asc" },
    });
    expect(issues.map((i) => [i.kind, i.sku])).toEqual([
      ["not_synced", "TEE-FBA"],
      ["unmatched_sku", "AMZ-ONLY"],
    ]);
    expect(issues[0]!.details).toContain("fulfilled by Amazon");
  });

  it("connecting again reuses the destination and subscriptions", async () => {
    const before = world.amazon.sandbox.destinations.size;
    const conn = await connectAmazon(world);
    expect(world.amazon.sandbox.destinations.size).toBe(before);
    const report = await adapterFor("amazon").ensureSubscriptions!(conn, { callbackUrl: "" });
    expect(report.created).toEqual([]);
    expect(report.present).toHaveLength(4);
  });

  it("refuses a callback whose state is unknown or already used, changing nothing", async () => {
    const before = await prisma.connection.count();
    await expect(
      completeAuthorization({
        kind: "amazon",
        params: new URLSearchParams({
          state: "forged-state",
          selling_partner_id: SELLER,
          spapi_oauth_code: "ANforged",
        }),
      }),
    ).rejects.toThrow(/unknown, already used or expired/);
    expect(await prisma.connection.count()).toBe(before);
  });

  it("refuses a code LWA does not know", async () => {
    const { startAuthorization } = await import("../../app/services/connect-marketplace.server");
    const { state } = await startAuthorization({
      shopDomain: world.shopDomain,
      kind: "amazon",
      apiBaseUrl: world.amazon.url,
    });
    await expect(
      completeAuthorization({
        kind: "amazon",
        params: new URLSearchParams({
          state,
          selling_partner_id: SELLER,
          spapi_oauth_code: "ANnot-a-real-code",
        }),
      }),
    ).rejects.toThrow(/authorisation code/);
  });

  it("answers HTTP pushes to /webhooks/amazon/<id> with 404 and stores nothing (Amazon only uses SQS)", async () => {
    const conn = await prisma.connection.findFirstOrThrow({ where: { kind: "amazon" } });
    const receipts = await prisma.receipt.count();
    const answer = await receiveMarketplaceDelivery("amazon", conn.id, {
      method: "POST",
      url: `https://stockguard.test/webhooks/amazon/${conn.id}`,
      headers: new Headers({ "content-type": "application/json" }),
      body: JSON.stringify({ NotificationType: "ORDER_CHANGE" }),
    });
    expect(answer.status).toBe(404);
    expect(await prisma.receipt.count()).toBe(receipts);
  });
});
