/**
 * Listings Items API over HTTP: SP-API authentication, ACCEPTED-then-applied patches, merge vs
 * replace, FBA writes refused, validation, search paging, usage-plan throttling and faults.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  LISTING_PATH,
  MARKETPLACE,
  OTHER_SELLER,
  SELLER,
  grantlessToken,
  quantityPatch,
  seed,
  sellerToken,
  sp,
} from "./fixtures";
import { startLocalAmazon } from "./server";

const local = await startLocalAmazon({
  seed: seed(),
  timeScale: 0.001,
  rngSeed: 11,
  // 2–5 s scaled by 0.001: applied 2–5 ms after ACCEPTED.
  behaviour: { patchDelayMs: [2000, 5000] },
});
afterAll(() => local.close());
const sb = local.sandbox;

let token: string;
beforeEach(async () => {
  sb.reset();
  token = await sellerToken(local);
});

type Item = {
  sku: string;
  fulfillmentAvailability?: { fulfillmentChannelCode: string; quantity?: number }[];
  attributes?: Record<string, Record<string, unknown>[]>;
  summaries?: { status: string[]; asin: string; productType: string }[];
};

async function read(sku: string, included = "fulfillmentAvailability,attributes"): Promise<Item> {
  const result = await sp<Item>(
    local,
    token,
    "GET",
    `${LISTING_PATH(sku)}&includedData=${included}`,
  );
  expect(result.status).toBe(200);
  return result.body;
}

const mfn = (item: Item): number | undefined =>
  item.fulfillmentAvailability?.find((f) => f.fulfillmentChannelCode === "DEFAULT")?.quantity;
const defaultEntry = (item: Item) =>
  item.attributes?.fulfillment_availability?.find((e) => e.fulfillment_channel_code === "DEFAULT");

describe("authentication", () => {
  it("answers 403 Unauthorized without, with an unknown and with an expired access token", async () => {
    const none = await sp(local, null, "GET", LISTING_PATH("MUG-BLUE"));
    expect(none.status).toBe(403);
    expect(none.body).toEqual({
      errors: [
        { code: "Unauthorized", message: "Access to requested resource is denied.", details: "" },
      ],
    });
    expect(none.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers.get("x-amzn-ratelimit-limit")).toBeNull();

    const unknown = await sp(local, "Atza|forged", "GET", LISTING_PATH("MUG-BLUE"));
    expect(unknown.status).toBe(403);
    expect(unknown.body).toEqual({
      errors: [
        {
          code: "Unauthorized",
          message: "Access to requested resource is denied.",
          details: "The access token you provided is revoked, malformed or invalid.",
        },
      ],
    });

    sb.expireAccessTokens({ sellerId: SELLER });
    const expired = await sp(local, token, "GET", LISTING_PATH("MUG-BLUE"));
    expect(expired.status).toBe(403);
    expect(expired.body).toMatchObject({
      errors: [{ code: "Unauthorized", details: "The access token you provided has expired." }],
    });
  });

  it("refuses another seller's listings and grantless tokens", async () => {
    const other = await sp(local, token, "GET", LISTING_PATH("OTHER-1", OTHER_SELLER));
    expect(other.status).toBe(403);
    expect(sb.requests({ operation: "getListingsItem" }).at(-1)?.outcome).toBe("error");
    const grantless = await sp(local, await grantlessToken(local), "GET", LISTING_PATH("MUG-BLUE"));
    expect(grantless.status).toBe(403);
    expect(grantless.body).toMatchObject({ errors: [{ code: "Unauthorized" }] });
  });
});

describe("getListingsItem", () => {
  it("returns the includedData sets in the model's shape", async () => {
    const result = await sp<Item & { offers: unknown[]; issues: unknown[] }>(
      local,
      token,
      "GET",
      `${LISTING_PATH("CAP-MIX")}&includedData=summaries,attributes,issues,offers,fulfillmentAvailability`,
    );
    expect(result.status).toBe(200);
    expect(result.headers.get("x-amzn-ratelimit-limit")).toBe("5.0");
    expect(result.body.summaries?.[0]).toMatchObject({
      marketplaceId: MARKETPLACE,
      asin: "B0CAPMIX001",
      productType: "HAT",
      conditionType: "new_new",
      status: ["BUYABLE", "DISCOVERABLE"],
    });
    // FBA entries carry no quantity (the app cannot own it).
    expect(result.body.fulfillmentAvailability).toEqual([
      { fulfillmentChannelCode: "DEFAULT", quantity: 5 },
      { fulfillmentChannelCode: "AMAZON_NA" },
    ]);
    expect(result.body.issues).toEqual([]);
    expect(result.body.offers).toEqual([
      {
        marketplaceId: MARKETPLACE,
        offerType: "B2C",
        price: { currencyCode: "USD", amount: "19.99" },
        audience: { value: "ALL", displayName: "Sell on Amazon" },
      },
    ]);
  });

  it("defaults to summaries and answers 404 NOT_FOUND for an unknown SKU", async () => {
    const summary = await sp<Item>(local, token, "GET", LISTING_PATH("MUG-RED"));
    expect(Object.keys(summary.body)).toEqual(["sku", "summaries"]);
    const missing = await sp(local, token, "GET", LISTING_PATH("NOPE"));
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      errors: [
        {
          code: "NOT_FOUND",
          message: `SKU 'NOPE' not found in marketplace ${MARKETPLACE}`,
          details: "",
        },
      ],
    });
    const noMarketplace = await sp(
      local,
      token,
      "GET",
      `/listings/2021-08-01/items/${SELLER}/MUG-RED`,
    );
    expect(noMarketplace.status).toBe(400);
    expect(noMarketplace.body).toMatchObject({ errors: [{ code: "InvalidInput" }] });
  });
});

describe("patchListingsItem", () => {
  it("answers ACCEPTED at once and applies the quantity later", async () => {
    sb.configure({ behaviour: { patchDelayMs: [200_000, 200_000] } }); // 200 ms at 0.001
    const result = await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), quantityPatch(7));
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ sku: "MUG-BLUE", status: "ACCEPTED", issues: [] });
    expect(String(result.body.submissionId)).toMatch(/^[0-9a-f]{32}$/);
    expect(mfn(await read("MUG-BLUE"))).toBe(10);
    expect(await sb.waitForIdle(5_000)).toBe(true);
    const after = await read("MUG-BLUE");
    expect(mfn(after)).toBe(7);
    const [submission] = sb.submissionLog({ sku: "MUG-BLUE" });
    expect(submission).toMatchObject({ status: "ACCEPTED", quantityBefore: 10, quantityAfter: 7 });
    expect(Date.parse(submission?.appliedAt ?? "")).toBeGreaterThanOrEqual(
      Date.parse(submission?.receivedAt ?? "") + 150,
    );
  });

  it("applies submissions for one SKU in arrival order", async () => {
    sb.configure({ behaviour: { patchDelayMs: [0, 50_000] } });
    for (const q of [1, 2, 3, 4, 5]) {
      const result = await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), quantityPatch(q));
      expect(result.body.status).toBe("ACCEPTED");
    }
    await sb.waitForIdle(5_000);
    expect(mfn(await read("MUG-BLUE"))).toBe(5);
  });

  it("replace drops fields it does not send, merge keeps them", async () => {
    await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), quantityPatch(8, "merge"));
    await sb.waitForIdle();
    const merged = await read("MUG-BLUE");
    expect(defaultEntry(merged)).toEqual({
      fulfillment_channel_code: "DEFAULT",
      quantity: 8,
      lead_time_to_ship_max_days: 3,
      marketplace_id: MARKETPLACE,
    });
    await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), quantityPatch(6, "replace"));
    await sb.waitForIdle();
    const replaced = await read("MUG-BLUE");
    expect(defaultEntry(replaced)).toEqual({
      fulfillment_channel_code: "DEFAULT",
      quantity: 6,
      marketplace_id: MARKETPLACE,
    });
    expect(mfn(replaced)).toBe(6);
  });

  it("refuses writes to an FBA channel (Amazon owns that stock)", async () => {
    const result = await sp(local, token, "PATCH", LISTING_PATH("TEE-FBA"), {
      productType: "SHIRT",
      patches: [
        {
          op: "replace",
          path: "/attributes/fulfillment_availability",
          value: [{ fulfillment_channel_code: "AMAZON_NA", quantity: 50 }],
        },
      ],
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      status: "INVALID",
      issues: [
        { code: "90000900", severity: "ERROR", attributeNames: ["fulfillment_availability"] },
      ],
    });
    await sb.waitForIdle();
    expect(sb.listing(SELLER, "TEE-FBA").available).toEqual({ AMAZON_NA: 20 });
  });

  it("validates: INVALID issues for bad values, 400 for unparseable bodies, VALID in preview", async () => {
    const noChannel = await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), {
      productType: "DRINKING_CUP",
      patches: [
        { op: "replace", path: "/attributes/fulfillment_availability", value: [{ quantity: 1 }] },
      ],
    });
    expect(noChannel.body).toMatchObject({ status: "INVALID", issues: [{ code: "99022" }] });

    const negative = await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), quantityPatch(-1));
    expect(negative.body).toMatchObject({ status: "INVALID" });

    const camel = await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), {
      productType: "DRINKING_CUP",
      patches: [
        { op: "replace", path: "/attributes/fulfillmentAvailability", value: [{ quantity: 1 }] },
      ],
    });
    expect(camel.body).toMatchObject({ status: "INVALID", issues: [{ code: "90000900" }] });

    const noValue = await sp(local, token, "PATCH", LISTING_PATH("MUG-BLUE"), {
      productType: "DRINKING_CUP",
      patches: [{ op: "replace", path: "/attributes/fulfillment_availability" }],
    });
    expect(noValue.status).toBe(400);
    expect(noValue.body).toEqual({
      errors: [
        { code: "InvalidInput", message: "Value is missing for patch at index of 0.", details: "" },
      ],
    });

    const preview = await sp(
      local,
      token,
      "PATCH",
      `${LISTING_PATH("MUG-BLUE")}&mode=VALIDATION_PREVIEW&includedData=identifiers,issues`,
      quantityPatch(2),
    );
    expect(preview.body).toMatchObject({
      status: "VALID",
      issues: [],
      identifiers: [{ marketplaceId: MARKETPLACE, asin: "B0MUGBLUE01" }],
    });
    await sb.waitForIdle();
    expect(mfn(await read("MUG-BLUE"))).toBe(10);
  });

  it("reserves purchases on the live quantity; the submitted attribute keeps the seller's value", async () => {
    sb.purchase(SELLER, { sku: "MUG-BLUE", quantity: 4 });
    const item = await read("MUG-BLUE");
    expect(mfn(item)).toBe(6);
    expect(defaultEntry(item)?.quantity).toBe(10);
  });
});

describe("searchListingsItems", () => {
  it("finds listings by SKU identifiers and pages with pageToken", async () => {
    const path = `/listings/2021-08-01/items/${SELLER}?marketplaceIds=${MARKETPLACE}&identifiersType=SKU&identifiers=MUG-BLUE,MUG-RED,CAP-MIX&includedData=fulfillmentAvailability&sortBy=sku&sortOrder=ASC&pageSize=2`;
    const first = await sp<{
      numberOfResults: number;
      items: Item[];
      pagination?: { nextToken?: string };
    }>(local, token, "GET", path);
    expect(first.status).toBe(200);
    expect(first.body.numberOfResults).toBe(3);
    expect(first.body.items.map((i) => i.sku)).toEqual(["CAP-MIX", "MUG-BLUE"]);
    const next = first.body.pagination?.nextToken ?? "";
    expect(next).not.toBe("");
    const second = await sp<{
      items: Item[];
      pagination?: { nextToken?: string; previousToken?: string };
    }>(local, token, "GET", `${path}&pageToken=${encodeURIComponent(next)}`);
    expect(second.body.items.map((i) => [i.sku, mfn(i)])).toEqual([["MUG-RED", 3]]);
    expect(second.body.pagination?.nextToken).toBeUndefined();
    expect(second.body.pagination?.previousToken).toBeDefined();
    const tooMany = await sp(local, token, "GET", path.replace("pageSize=2", "pageSize=21"));
    expect(tooMany.status).toBe(400);
  });
});

describe("usage plans", () => {
  it("throttles patchListingsItem after its burst of 5 with 429 QuotaExceeded", async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await sp(local, token, "PATCH", LISTING_PATH("MUG-RED"), quantityPatch(i)));
    }
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[0]?.headers.get("x-amzn-ratelimit-limit")).toBe("5.0");
    const throttled = answers[5];
    expect(throttled?.status).toBe(429);
    expect(throttled?.body).toEqual({
      errors: [
        {
          code: "QuotaExceeded",
          message: "You exceeded your quota for the requested resource.",
          details: "",
        },
      ],
    });
    expect(throttled?.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(throttled?.headers.get("x-amzn-ratelimit-limit")).toBeNull();
    expect(sb.throttledCount("patchListingsItem")).toBe(1);
    // The bucket refills at 5/s: one token after 200 ms.
    await new Promise((r) => setTimeout(r, 250));
    expect(
      (await sp(local, token, "PATCH", LISTING_PATH("MUG-RED"), quantityPatch(1))).status,
    ).toBe(200);
    // getListingsItem has its own bucket (burst 10).
    expect((await sp(local, token, "GET", LISTING_PATH("MUG-RED"))).status).toBe(200);
  });

  it("takes configured rates and forced faults", async () => {
    sb.setRateLimit({ operation: "getListingsItem", rate: 0.5, burst: 1 });
    expect(
      (await sp(local, token, "GET", LISTING_PATH("MUG-RED"))).headers.get(
        "x-amzn-ratelimit-limit",
      ),
    ).toBe("0.5");
    expect((await sp(local, token, "GET", LISTING_PATH("MUG-RED"))).status).toBe(429);

    sb.injectFault({ operation: "patchListingsItem", status: 500, count: 1 });
    const failed = await sp(local, token, "PATCH", LISTING_PATH("MUG-RED"), quantityPatch(2));
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ errors: [{ code: "InternalFailure" }] });
    expect(
      (await sp(local, token, "PATCH", LISTING_PATH("MUG-RED"), quantityPatch(2))).status,
    ).toBe(200);

    sb.injectFault({ operation: "patchListingsItem", status: 429, count: 1 });
    expect(
      (await sp(local, token, "PATCH", LISTING_PATH("MUG-RED"), quantityPatch(2))).status,
    ).toBe(429);
  });
});
