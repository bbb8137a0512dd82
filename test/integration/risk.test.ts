/**
 * Risk checks against Postgres and the local Shopify: the catalog import stores each variant's
 * inventory policy and tracking, the risk list finds every kind (CONTINUE, untracked, empty and
 * duplicate SKUs, a listing with no item, an item sold where it has no listing), and the
 * one-click fix sets DENY on the store only when confirmed and allowed (write_products).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import {
  getRiskSummary,
  getRisksPage,
  stopSellingAtZero,
  ZRiskAction,
} from "../../app/services/risk/risk.server";
import { connectSalesStore, installSource, startLocalStores } from "../helpers/local-stores";
import { DEFAULT_ACCESS_SCOPES } from "../sandbox/shopify/state";
import type { LocalShopify } from "../sandbox/shopify/server";

const SOURCE = "risk-source.myshopify.com";
const OTHER = "risk-other.myshopify.com";
let local: LocalShopify;
let source: ConnectionContext;
let other: ConnectionContext;
let shopId: string;

const policyAt = (store: string, sku: string) =>
  [...local.sandbox.shop(store).variants.values()].find((v) => v.sku === sku)!;

beforeAll(async () => {
  local = await startLocalStores([
    {
      domain: SOURCE,
      accessScopes: [...DEFAULT_ACCESS_SCOPES, "write_products"],
      products: [
        {
          title: "Mug",
          variants: [{ sku: "MUG", inventoryPolicy: "CONTINUE", inventory: { Warehouse: 2 } }],
        },
        { title: "Gift card", variants: [{ sku: "GIFT", tracked: false }] },
        { title: "Tee", variants: [{ sku: "TEE", inventory: { Warehouse: 5 } }] },
        { title: "Cap", variants: [{ sku: "CAP", inventory: { Warehouse: 5 } }] },
        {
          title: "Sock",
          variants: [
            { sku: "DUP", title: "Red", inventory: { Warehouse: 1 } },
            { sku: "DUP", title: "Blue", inventory: { Warehouse: 1 } },
          ],
        },
        { title: "Loose", variants: [{ sku: "", inventory: { Warehouse: 1 } }] },
      ],
    },
    {
      domain: OTHER,
      products: [
        {
          title: "Tee",
          variants: [{ sku: "TEE", inventoryPolicy: "CONTINUE", inventory: { Warehouse: 0 } }],
        },
        { title: "Orphan", variants: [{ sku: "ORPHAN", inventory: { Warehouse: 0 } }] },
      ],
    },
  ]);
  ({ shopId, source } = await installSource(SOURCE, "token-0"));
  other = await connectSalesStore(shopId, OTHER, "token-1");
  await importCatalog(source, adapterFor("shopify"));
  await importCatalog(other, adapterFor("shopify"));
  // CAP sold on the other store, which does not list it.
  await applyLedgerEvent({
    shopId,
    actor: "test",
    operations: [
      {
        type: "line",
        key: `${other.id}/o/9001/placed`,
        connectionId: other.id,
        orderId: "9001",
        lineId: "1",
        sku: "CAP",
        command: { kind: "placed", quantity: 2, version: "2026-12-01T09:00:00.000Z" },
      },
    ],
  });
});

afterAll(async () => {
  await local?.close();
});

describe("risk checks", () => {
  it("the catalog import stores the inventory policy and tracking it used to ignore", async () => {
    const mug = await prisma.listing.findFirstOrThrow({
      where: { connectionId: source.id, sku: "MUG" },
    });
    const gift = await prisma.listing.findFirstOrThrow({
      where: { connectionId: source.id, sku: "GIFT" },
    });
    const tee = await prisma.listing.findFirstOrThrow({
      where: { connectionId: source.id, sku: "TEE" },
    });
    expect([mug.sellsWhenOutOfStock, mug.tracked]).toEqual([true, true]);
    expect(gift.tracked).toBe(false);
    expect([tee.sellsWhenOutOfStock, tee.tracked]).toEqual([false, true]);
  });

  it("lists every kind of risk with its fix", async () => {
    const { risks, summary } = await getRisksPage(SOURCE);
    const found = risks.map((r) => [
      r.kind,
      r.connectionId === source.id ? "source" : "other",
      r.sku,
    ]);
    expect(found).toEqual(
      expect.arrayContaining([
        ["continue_selling", "source", "MUG"],
        ["continue_selling", "other", "TEE"],
        ["untracked", "source", "GIFT"],
        ["empty_sku", "source", null],
        ["duplicate_sku", "source", "DUP"],
        ["listing_without_item", "other", "ORPHAN"],
        ["sold_without_listing", "other", "CAP"],
      ]),
    );
    expect(risks).toHaveLength(7);
    expect(summary.byKind).toMatchObject({
      continue_selling: 2,
      untracked: 1,
      sold_without_listing: 1,
    });
    const mug = risks.find((r) => r.sku === "MUG")!;
    const variant = policyAt(SOURCE, "MUG");
    expect(mug.fix).toEqual({
      type: "set_deny",
      connectionId: source.id,
      variantRefs: [`gid://shopify/ProductVariant/${variant.id}`],
      url: `https://${SOURCE}/admin/products/${variant.productId}/variants/${variant.id}`,
    });
    expect(risks.find((r) => r.kind === "untracked")!.fix).toMatchObject({ type: "link" });
  });

  it("sets DENY only after confirmation, and only where the store allows it", async () => {
    const mug = policyAt(SOURCE, "MUG");
    const variantRef = `gid://shopify/ProductVariant/${mug.id}`;
    // The route parses with this schema: without the confirmation nothing is sent.
    const unconfirmed = ZRiskAction.safeParse({
      intent: "set_deny",
      connectionId: source.id,
      variantRef,
    });
    expect(unconfirmed.success).toBe(false);
    expect(policyAt(SOURCE, "MUG").inventoryPolicy).toBe("CONTINUE");

    // Another shop's connection or a variant that is not ours: refused.
    expect(
      await stopSellingAtZero({
        shopDomain: SOURCE,
        action: {
          intent: "set_deny",
          connectionId: source.id,
          variantRef: "gid://shopify/ProductVariant/999999",
          confirm: "yes",
        },
      }),
    ).toMatchObject({ ok: false, status: 422 });

    const done = await stopSellingAtZero({
      shopDomain: SOURCE,
      action: { intent: "set_deny", connectionId: source.id, variantRef, confirm: "yes" },
    });
    expect(done).toMatchObject({ ok: true });
    expect(policyAt(SOURCE, "MUG").inventoryPolicy).toBe("DENY");
    expect((await getRiskSummary(SOURCE)).byKind.continue_selling).toBe(1);

    // The other store did not grant write_products: refused with the admin link as the way out.
    const tee = policyAt(OTHER, "TEE");
    const refused = await stopSellingAtZero({
      shopDomain: SOURCE,
      action: {
        intent: "set_deny",
        connectionId: other.id,
        variantRef: `gid://shopify/ProductVariant/${tee.id}`,
        confirm: "yes",
      },
    });
    expect(refused).toMatchObject({
      ok: false,
      status: 422,
      formError: expect.stringMatching(/write_products/),
    });
    expect(policyAt(OTHER, "TEE").inventoryPolicy).toBe("CONTINUE");

    // A catalog refresh reads the store's policy again: MUG stays fixed.
    await importCatalog(source, adapterFor("shopify"));
    const after = await getRisksPage(SOURCE);
    expect(after.risks.filter((r) => r.kind === "continue_selling").map((r) => r.sku)).toEqual([
      "TEE",
    ]);
  });
});
