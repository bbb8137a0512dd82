/**
 * Sell Inventory over HTTP: item and offer reads with paging, createOrReplaceInventoryItem,
 * bulkUpdatePriceQuantity per-entry results, listing quantity = min(item, offer), the
 * 250-revisions-per-listing-per-day rule, Trading-API listings, injected faults.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  OTHER_SELLER,
  SELLER,
  SELLER_ID,
  call,
  codeFlow,
  seed,
  tokenCall,
  type Answer,
} from "./fixtures";
import { startLocalEbay } from "./server";

const local = await startLocalEbay({ seed: seed(), rngSeed: 21 });
afterAll(() => local.close());
const sb = local.sandbox;
const INV = "/sell/inventory/v1";

let token = "";
let refresh = "";
beforeEach(async () => {
  sb.reset();
  const tokens = await codeFlow(local);
  token = tokens.access_token;
  refresh = tokens.refresh_token;
});

type Offers = {
  offers: { offerId: string; availableQuantity?: number; listing?: { listingId: string } }[];
};
type Bulk = {
  responses: {
    offerId?: string;
    sku?: string;
    statusCode: number;
    errors?: { errorId: number; message: string }[];
  }[];
};

const get = <T>(path: string, t = token) =>
  call<T>(local.url, "GET", `${INV}${path}`, { token: t });
const bulk = (body: unknown, t = token): Promise<Answer<Bulk>> =>
  call<Bulk>(local.url, "POST", `${INV}/bulk_update_price_quantity`, { token: t, body });

async function offerOf(sku: string) {
  const answer = await get<Offers>(`/offer?sku=${sku}`);
  const offer = answer.body.offers[0];
  if (!offer?.listing) throw new Error(`no published offer for ${sku}`);
  return { offerId: offer.offerId, listingId: offer.listing.listingId };
}

describe("reads", () => {
  it("pages getInventoryItems with limit/offset and next/prev links", async () => {
    for (let i = 0; i < 4; i++)
      sb.addInventoryItem(SELLER, { sku: `EXTRA-${i}`, quantity: i, offers: [] });
    const first = await get<{
      total: number;
      size: number;
      limit: number;
      next?: string;
      prev?: string;
      inventoryItems: { sku: string }[];
    }>("/inventory_item?limit=3");
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(7);
    expect(first.body.limit).toBe(3);
    expect(first.body.size).toBe(3); // pages, per the InventoryItems type text
    expect(first.body.inventoryItems.map((i) => i.sku)).toEqual(["MUG-BLUE", "MUG-RED", "TEAPOT"]);
    expect(first.body.prev).toBeUndefined();
    const next = new URL(first.body.next ?? "");
    expect(next.searchParams.get("offset")).toBe("3");
    const second = await call<{ inventoryItems: { sku: string }[]; prev?: string }>(
      local.url,
      "GET",
      `${next.pathname}${next.search}`,
      {
        token,
      },
    );
    expect(second.body.inventoryItems.map((i) => i.sku)).toEqual(["EXTRA-0", "EXTRA-1", "EXTRA-2"]);
    expect(second.body.prev).toBeDefined();
    // The Trading-API listing is not an inventory item; other sellers' items are not visible.
    const all = await get<{ inventoryItems: { sku: string }[] }>("/inventory_item?limit=200");
    expect(all.body.inventoryItems.map((i) => i.sku)).not.toContain("OLD-VASE");
    expect(all.body.inventoryItems.map((i) => i.sku)).not.toContain("POT-1");
    expect((await get("/inventory_item?limit=201")).status).toBe(400);

    sb.configure({ inventoryItemsOffset: "page" });
    const page1 = await get<{ inventoryItems: { sku: string }[]; next?: string }>(
      "/inventory_item?limit=3&offset=1",
    );
    expect(page1.body.inventoryItems.map((i) => i.sku)).toEqual(["EXTRA-0", "EXTRA-1", "EXTRA-2"]);
    expect(new URL(page1.body.next ?? "").searchParams.get("offset")).toBe("2");
  });

  it("returns one item and its offers in the spec's shapes", async () => {
    const item = await get<Record<string, unknown>>("/inventory_item/MUG-BLUE");
    expect(item.body).toEqual({
      sku: "MUG-BLUE",
      locale: "en_US",
      product: { title: "Blue mug", description: "Blue mug (sandbox)", imageUrls: [] },
      condition: "NEW",
      availability: { shipToLocationAvailability: { quantity: 10 } },
    });
    const offers = await get<{ total: number; size: number; offers: Record<string, unknown>[] }>(
      "/offer?sku=MUG-RED",
    );
    expect(offers.body.total).toBe(1);
    expect(offers.body.size).toBe(1);
    expect(offers.body.offers[0]).toMatchObject({
      sku: "MUG-RED",
      marketplaceId: "EBAY_US",
      format: "FIXED_PRICE",
      availableQuantity: 3,
      pricingSummary: { price: { value: "12.50", currency: "USD" } },
      listingDuration: "GTC",
      status: "PUBLISHED",
      listing: { listingStatus: "ACTIVE", soldQuantity: 0 },
    });
    const unpublished = await get<Offers>("/offer?sku=TEAPOT");
    expect(unpublished.body.offers[0]).toMatchObject({ status: "UNPUBLISHED" });
    expect(unpublished.body.offers[0]).not.toHaveProperty("listing");

    const missing = await get("/inventory_item/NOPE");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ errors: [{ errorId: 25710, domain: "API_INVENTORY" }] });
    expect((await get("/offer")).status).toBe(400);
  });

  it("shows listing quantity = min(item quantity, offer availableQuantity)", () => {
    expect(sb.listing(SELLER, "MUG-RED")).toMatchObject({
      itemQuantity: 4,
      offerAvailableQuantity: 3,
      quantity: 3,
    });
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(10);
  });
});

describe("writes", () => {
  it("createOrReplaceInventoryItem needs Content-Language, replaces the record and revises the listing", async () => {
    const body = {
      product: { title: "Blue mug v2", imageUrls: [] },
      condition: "NEW",
      availability: { shipToLocationAvailability: { quantity: 6 } },
    };
    const noLanguage = await call(local.url, "PUT", `${INV}/inventory_item/MUG-BLUE`, {
      token,
      body,
    });
    expect(noLanguage.status).toBe(400);
    expect(noLanguage.body).toMatchObject({ errors: [{ errorId: 25709 }] });
    const put = await call(local.url, "PUT", `${INV}/inventory_item/MUG-BLUE`, {
      token,
      body,
      headers: { "Content-Language": "en-US" },
    });
    expect(put.status).toBe(204);
    expect((await get<Record<string, unknown>>("/inventory_item/MUG-BLUE")).body).toEqual({
      sku: "MUG-BLUE",
      locale: "en_US",
      ...body,
    });
    // The offer still says 10; the listing shows the minimum.
    expect(sb.listing(SELLER, "MUG-BLUE")).toMatchObject({ quantity: 6, revisionsToday: 1 });
    const created = await call(local.url, "PUT", `${INV}/inventory_item/NEW-ONE`, {
      token,
      body: { availability: { shipToLocationAvailability: { quantity: 1 } } },
      headers: { "Content-Language": "en-US" },
    });
    expect(created.status).toBe(204);
    const badQuantity = await call(local.url, "PUT", `${INV}/inventory_item/NEW-ONE`, {
      token,
      body: { availability: { shipToLocationAvailability: { quantity: -1 } } },
      headers: { "Content-Language": "en-US" },
    });
    expect(badQuantity.status).toBe(400);
  });

  it("bulkUpdatePriceQuantity answers per entry: 200 when all succeed, 207 otherwise", async () => {
    const { offerId } = await offerOf("MUG-BLUE");
    const ok = await bulk({
      requests: [
        {
          sku: "MUG-BLUE",
          shipToLocationAvailability: { quantity: 7 },
          offers: [{ offerId, availableQuantity: 5, price: { value: "13.00", currency: "USD" } }],
        },
      ],
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      responses: [
        { sku: "MUG-BLUE", statusCode: 200 },
        { offerId, sku: "MUG-BLUE", statusCode: 200 },
      ],
    });
    expect(sb.listing(SELLER, "MUG-BLUE")).toMatchObject({
      itemQuantity: 7,
      offerAvailableQuantity: 5,
      quantity: 5,
    });
    expect((await get<Offers>("/offer?sku=MUG-BLUE")).body.offers[0]?.availableQuantity).toBe(5);

    const mixed = await bulk({
      requests: [
        {
          sku: "MUG-BLUE",
          offers: [
            { offerId, availableQuantity: 4 },
            { offerId: "123", availableQuantity: 1 },
          ],
        },
      ],
    });
    expect(mixed.status).toBe(207);
    expect(mixed.body.responses).toEqual([
      { offerId, sku: "MUG-BLUE", statusCode: 200 },
      expect.objectContaining({
        offerId: "123",
        statusCode: 404,
        errors: [expect.objectContaining({ errorId: 25713 })],
      }),
    ]);

    const unpublished = (await get<Offers>("/offer?sku=TEAPOT")).body.offers[0]?.offerId ?? "";
    const notLive = await bulk({
      requests: [{ offers: [{ offerId: unpublished, availableQuantity: 1 }] }],
    });
    expect(notLive.status).toBe(207);
    expect(notLive.body.responses[0]).toMatchObject({ offerId: unpublished, statusCode: 400 });

    const negative = await bulk({
      requests: [{ sku: "MUG-BLUE", shipToLocationAvailability: { quantity: -2 } }],
    });
    expect(negative.body.responses[0]).toMatchObject({ sku: "MUG-BLUE", statusCode: 400 });
    expect((await bulk({ nope: 1 })).status).toBe(400);
  });

  it("takes one SKU per call by default (configurable to 25)", async () => {
    const two = {
      requests: [
        { sku: "MUG-BLUE", shipToLocationAvailability: { quantity: 1 } },
        { sku: "MUG-RED", shipToLocationAvailability: { quantity: 1 } },
      ],
    };
    const refused = await bulk(two);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ errors: [{ errorId: 25002 }] });
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(10);
    await call(local.url, "POST", "/_control/config", { body: { bulkUpdateMaxRequests: 25 } });
    const accepted = await bulk(two);
    expect(accepted.status).toBe(200);
    expect(accepted.body.responses.map((r) => r.sku)).toEqual(["MUG-BLUE", "MUG-RED"]);
  });

  it("refuses the 251st revision of a listing in a day, keeps other listings working, allows it the next day", async () => {
    const blue = await offerOf("MUG-BLUE");
    const red = await offerOf("MUG-RED");
    for (let i = 0; i < 250; i++) {
      const answer = await bulk({
        requests: [{ offers: [{ offerId: blue.offerId, availableQuantity: i % 10 }] }],
      });
      expect(answer.status).toBe(200);
    }
    expect(sb.listing(SELLER, "MUG-BLUE")).toMatchObject({ revisionsToday: 250, quantity: 9 });
    const refused = await bulk({
      requests: [{ offers: [{ offerId: blue.offerId, availableQuantity: 3 }] }],
    });
    expect(refused.status).toBe(207);
    expect(refused.body.responses[0]).toMatchObject({
      offerId: blue.offerId,
      statusCode: 400,
      errors: [{ errorId: 25002, domain: "API_INVENTORY", category: "REQUEST" }],
    });
    expect(refused.body.responses[0]?.errors?.[0]?.message).toContain(
      "maximum number of revisions (250)",
    );
    expect(sb.listing(SELLER, "MUG-BLUE").quantity).toBe(9);
    // The item-level quantity revises the same listing: refused too, nothing applied.
    const itemLevel = await bulk({
      requests: [{ sku: "MUG-BLUE", shipToLocationAvailability: { quantity: 2 } }],
    });
    expect(itemLevel.body.responses[0]).toMatchObject({ sku: "MUG-BLUE", statusCode: 400 });
    expect(sb.listing(SELLER, "MUG-BLUE").itemQuantity).toBe(10);

    const other = await bulk({
      requests: [{ offers: [{ offerId: red.offerId, availableQuantity: 2 }] }],
    });
    expect(other.status).toBe(200);

    const log = sb.revisionLog({ listingId: blue.listingId });
    expect(log.filter((r) => !r.refused)).toHaveLength(250);
    expect(log.filter((r) => r.refused)).toHaveLength(2);

    await call(local.url, "POST", "/_control/clock/advance", { body: { days: 1 } });
    // A day later the 2-hour access token has expired: refresh first, as a client would.
    const fresh = await tokenCall<{ access_token: string }>(local.url, {
      grant_type: "refresh_token",
      refresh_token: refresh,
    });
    const nextDay = await bulk(
      { requests: [{ offers: [{ offerId: blue.offerId, availableQuantity: 3 }] }] },
      fresh.body.access_token,
    );
    expect(nextDay.status).toBe(200);
    expect(sb.listing(SELLER, "MUG-BLUE")).toMatchObject({ revisionsToday: 1, quantity: 3 });
    const listing = await call<{ listing: { revisionsToday: number } }>(
      local.url,
      "GET",
      `/_control/sellers/${SELLER}/listings/MUG-BLUE`,
    );
    expect(listing.body.listing.revisionsToday).toBe(1);
  });

  it("knows Trading-API listings exist but cannot manage them through the Inventory API", async () => {
    expect(sb.listing(SELLER, "OLD-VASE")).toMatchObject({ source: "trading_api", quantity: 5 });
    const offers = await get("/offer?sku=OLD-VASE");
    expect(offers.status).toBe(404);
    expect(offers.body).toMatchObject({ errors: [{ errorId: 25710 }] });
    expect((await get("/inventory_item/OLD-VASE")).status).toBe(404);
    const update = await bulk({
      requests: [{ sku: "OLD-VASE", shipToLocationAvailability: { quantity: 1 } }],
    });
    expect(update.status).toBe(207);
    expect(update.body.responses[0]).toMatchObject({ sku: "OLD-VASE", statusCode: 404 });
    expect(sb.listing(SELLER, "OLD-VASE").quantity).toBe(5);
  });

  it("scopes reads and writes to the token's seller and its scopes", async () => {
    const other = await codeFlow(local, OTHER_SELLER);
    const { offerId } = await offerOf("MUG-BLUE");
    const foreign = await bulk(
      { requests: [{ offers: [{ offerId, availableQuantity: 0 }] }] },
      other.access_token,
    );
    expect(foreign.body.responses[0]).toMatchObject({ statusCode: 404 });
    const readonly = await codeFlow(local, SELLER, [
      "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly",
    ]);
    expect((await get("/inventory_item", readonly.access_token)).status).toBe(200);
    expect((await bulk({ requests: [] }, readonly.access_token)).status).toBe(403);
    expect(sb.listing(SELLER_ID, "MUG-BLUE").quantity).toBe(10);
  });
});

describe("faults", () => {
  it("forces 429 and 500 for one operation", async () => {
    const { offerId } = await offerOf("MUG-BLUE");
    await call(local.url, "POST", "/_control/faults", {
      body: {
        operation: "bulkUpdatePriceQuantity",
        kind: "http429",
        count: 1,
        retryAfterSeconds: 3,
      },
    });
    sb.addFault({ operation: "bulkUpdatePriceQuantity", kind: "http500", count: 1 });
    const limited = await bulk({ requests: [{ offers: [{ offerId, availableQuantity: 1 }] }] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(limited.body).toMatchObject({ errors: [{ errorId: 2001, domain: "ACCESS" }] });
    const broken = await bulk({ requests: [{ offers: [{ offerId, availableQuantity: 1 }] }] });
    expect(broken.status).toBe(500);
    expect((await get("/inventory_item")).status).toBe(200);
    const applied = await bulk({ requests: [{ offers: [{ offerId, availableQuantity: 1 }] }] });
    expect(applied.status).toBe(200);
    expect(sb.listing(SELLER, "MUG-BLUE")).toMatchObject({ quantity: 1, revisionsToday: 1 });
    const outcomes = sb.requestLog
      .filter((r) => r.operation === "bulkUpdatePriceQuantity")
      .map((r) => [r.status, r.outcome]);
    expect(outcomes).toEqual([
      [429, "fault"],
      [500, "fault"],
      [200, "ok"],
    ]);
  });

  it("answers 429 once a daily call limit is used up", async () => {
    sb.setCallLimits({ getInventoryItems: 2 });
    expect((await get("/inventory_item")).status).toBe(200);
    expect((await get("/inventory_item")).status).toBe(200);
    expect((await get("/inventory_item")).status).toBe(429);
  });
});
