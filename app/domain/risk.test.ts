/** Property tests of risk checks (app/domain/risk.ts): every risky variant found once, with a fix. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findRisks, gidTail, riskSummary, shopifyVariantUrl, type RiskListing } from "./risk";

const listingArb: fc.Arbitrary<RiskListing> = fc
  .record({
    n: fc.integer({ min: 1, max: 20 }),
    location: fc.integer({ min: 1, max: 3 }),
    channel: fc.constantFrom("shopify", "ebay"),
    tracked: fc.option(fc.boolean()),
    sellsWhenOutOfStock: fc.option(fc.boolean()),
  })
  .map(({ n, location, channel, tracked, sellsWhenOutOfStock }) => ({
    listingId: `l-${n}-${location}-${channel}`,
    connectionId: channel === "shopify" ? "c-shop" : "c-ebay",
    connectionName: channel === "shopify" ? "Main store" : "eBay",
    channel,
    accountRef: channel === "shopify" ? "main.myshopify.com" : "seller-1",
    sku: `SKU-${n}`,
    title: `Thing ${n}`,
    remoteRef: channel === "shopify" ? `gid://shopify/InventoryItem/${n}` : `SKU-${n}`,
    remoteVariantRef: channel === "shopify" ? `gid://shopify/ProductVariant/${n}` : null,
    remoteProductRef: channel === "shopify" ? `gid://shopify/Product/${100 + n}` : null,
    tracked,
    sellsWhenOutOfStock,
  }));

describe("risk checks", () => {
  it("every untracked or CONTINUE variant is reported exactly once per channel; safe ones never", () => {
    fc.assert(
      fc.property(fc.array(listingArb, { maxLength: 40 }), (all) => {
        // One catalog view per (channel, variant): the same variant at several locations agrees.
        const byVariant = new Map<string, RiskListing>();
        for (const l of all) byVariant.set(`${l.connectionId}|${l.sku}`, l);
        const listings = all.map((l) => ({
          ...l,
          tracked: byVariant.get(`${l.connectionId}|${l.sku}`)!.tracked,
          sellsWhenOutOfStock: byVariant.get(`${l.connectionId}|${l.sku}`)!.sellsWhenOutOfStock,
        }));
        const risks = findRisks({ listings, catalogIssues: [], soldWithoutListing: [] });
        for (const [key, l] of byVariant) {
          const mine = risks.filter((r) => `${r.connectionId}|${r.sku}` === key);
          const expected =
            l.tracked === false
              ? ["untracked"]
              : l.sellsWhenOutOfStock === true
                ? ["continue_selling"]
                : [];
          expect(mine.map((r) => r.kind)).toEqual(expected);
          for (const r of mine) {
            if (r.kind === "continue_selling" && l.channel === "shopify") {
              expect(r.fix).toMatchObject({ type: "set_deny", variantRefs: [l.remoteVariantRef] });
            } else if (l.channel === "shopify") {
              expect(r.fix).toMatchObject({
                type: "link",
                url: `https://main.myshopify.com/admin/products/${100 + Number(l.sku!.slice(4))}/variants/${l.sku!.slice(4)}`,
              });
            } else expect(r.fix.type).toBe("text");
          }
        }
        expect(new Set(risks.map((r) => r.key)).size).toBe(risks.length);
        expect(riskSummary(risks).total).toBe(risks.length);
      }),
    );
  });

  it("catalog issues become findings: one per empty-SKU variant, one per duplicate SKU, unmatched listings", () => {
    const base = {
      connectionId: "c",
      connectionName: "Main",
      channel: "shopify",
      accountRef: "m.myshopify.com",
      details: "",
    };
    const risks = findRisks({
      listings: [],
      catalogIssues: [
        {
          ...base,
          kind: "empty_sku",
          sku: null,
          remoteRefs: ["gid://shopify/ProductVariant/1", "gid://shopify/ProductVariant/2"],
        },
        {
          ...base,
          kind: "duplicate_sku",
          sku: "DUP",
          remoteRefs: ["gid://shopify/ProductVariant/3", "gid://shopify/ProductVariant/4"],
        },
        {
          ...base,
          kind: "unmatched_sku",
          sku: "ORPHAN",
          remoteRefs: ["gid://shopify/ProductVariant/5"],
        },
        { ...base, kind: "not_synced", sku: "FBA", remoteRefs: ["X"] },
      ],
      soldWithoutListing: [
        {
          connectionId: "e",
          connectionName: "eBay",
          channel: "ebay",
          itemId: "i",
          sku: "MUG",
          orders: 2,
          units: 3,
        },
      ],
    });
    expect(risks.map((r) => r.kind)).toEqual([
      "empty_sku",
      "empty_sku",
      "duplicate_sku",
      "listing_without_item",
      "sold_without_listing",
    ]);
    expect(risks[2]!.fix).toMatchObject({
      type: "link",
      url: "https://m.myshopify.com/admin/products?query=DUP",
    });
    expect(risks[4]!.why).toContain("3 unit(s) in 2 order(s)");
    expect(riskSummary(risks).byKind).toMatchObject({
      empty_sku: 2,
      duplicate_sku: 1,
      continue_selling: 0,
    });
  });

  it("admin links use the numeric ids", () => {
    expect(gidTail("gid://shopify/ProductVariant/42")).toBe("42");
    expect(gidTail("nope")).toBeNull();
    expect(
      shopifyVariantUrl("s.myshopify.com", null, "gid://shopify/ProductVariant/7", "A B"),
    ).toBe("https://s.myshopify.com/admin/products?query=A%20B");
  });
});
