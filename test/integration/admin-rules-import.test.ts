/**
 * Bulk edit of buffer rules from a pasted sheet (Rules page → "Set many rules at once"): a sheet
 * with any bad line (unknown channel or SKU, bad kind or value, a rule listed twice) sets nothing
 * and names every bad line; a good sheet sets every rule — an existing one takes the new value —
 * and the listings publish the new quantities.
 */
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { importBufferRules } from "../../app/services/admin/rules-import.server";
import { createRule } from "../../app/services/rules.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";

let shop: SeededShop;
let outlet: string;

beforeAll(async () => {
  shop = await seedShop(prisma, {
    items: [
      { sku: "TEE-S", onHand: 10 },
      { sku: "MUG", onHand: 20 },
    ],
  });
  outlet = (
    await addSalesConnection(prisma, shop, {
      name: "Outlet",
      listings: [{ sku: "TEE-S" }, { sku: "MUG" }],
    })
  ).connectionId;
});

const rulesOf = async () =>
  (
    await prisma.bufferRule.findMany({
      where: { shopId: shop.shopId },
      select: { connectionId: true, sku: true, kind: true, value: true },
    })
  ).sort((a, b) => String(a.kind).localeCompare(String(b.kind)));

describe("setting buffer rules from a sheet", () => {
  it("sets nothing while any line is wrong, and names every wrong line", async () => {
    const sheet = [
      "channel,sku,kind,value",
      "Outlet,TEE-S,reserve_units,2",
      "Nowhere,,reserve_units,1",
      "all,NO-SUCH-SKU,max_shown,5",
      "all,MUG,show_less,1",
      "Outlet,tee-s,reserve_units,3",
    ].join("\n");
    const result = await importBufferRules(shop.domain, sheet);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.rowErrors.map((e) => e.line)).toEqual([3, 4, 5, 6]);
    expect(await rulesOf()).toEqual([]);
  });

  it("sets every rule of a good sheet, replacing a rule of the same scope and kind", async () => {
    await createRule(shop.shopId, {
      connectionId: outlet,
      sku: "TEE-S",
      kind: "reserve_units",
      value: 1,
    });
    const sheet = "channel,sku,kind,value\nOutlet,TEE-S,reserve_units,4\nall,,max_shown,15\n";
    expect(await importBufferRules(shop.domain, sheet)).toMatchObject({ ok: true, applied: 2 });
    expect(await rulesOf()).toEqual([
      { connectionId: null, sku: null, kind: "max_shown", value: 15 },
      { connectionId: outlet, sku: "TEE-S", kind: "reserve_units", value: 4 },
    ]);
    const published = await prisma.listing.findMany({
      where: { connectionId: outlet },
      select: { sku: true, publishedQuantity: true },
      orderBy: { sku: "asc" },
    });
    // TEE-S: 10 − 4 held back; MUG: at most 15 shown.
    expect(published).toEqual([
      { sku: "MUG", publishedQuantity: 15 },
      { sku: "TEE-S", publishedQuantity: 6 },
    ]);
  });

  it("refuses an empty sheet and a wrong header", async () => {
    expect(await importBufferRules(shop.domain, "channel,sku,kind,value\n")).toMatchObject({
      ok: false,
      rowErrors: [{ line: 1, message: "The sheet has no rules" }],
    });
    expect(await importBufferRules(shop.domain, "sku;value\nMUG;1")).toMatchObject({
      ok: false,
      rowErrors: [{ line: 1 }],
    });
  });
});
