/**
 * Bulk "Set buffer…" of the Inventory page, and a rule's channel and kind changed in place: a
 * rule per selected SKU set in one transaction (an existing rule of the same scope and kind takes
 * the new value), previewed first with nothing written; any refusal sets nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import {
  changeBufferRule,
  setBulkBuffer,
  ZBulkBuffer,
  ZRuleAction,
} from "../../app/services/admin/buffer-rules.server";
import { createRule } from "../../app/services/rules.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";

let shop: SeededShop;
let outlet: string;
let listings: Map<string, string>;

beforeAll(async () => {
  shop = await seedShop(prisma, {
    items: [
      { sku: "TEE-S", onHand: 10 },
      { sku: "MUG", onHand: 20 },
      { sku: "CAP", onHand: 4 },
    ],
  });
  const connection = await addSalesConnection(prisma, shop, { name: "Outlet" });
  outlet = connection.connectionId;
  listings = connection.listingIds;
});

const rulesOf = async () =>
  prisma.bufferRule.findMany({
    where: { shopId: shop.shopId },
    select: { connectionId: true, sku: true, kind: true, value: true },
    orderBy: [{ sku: "asc" }, { kind: "asc" }],
  });

const publishedOn = async (sku: string) =>
  (await prisma.listing.findUniqueOrThrow({ where: { id: listings.get(sku)! } })).publishedQuantity;

const bulk = (fields: Record<string, string>) => {
  const parsed = ZBulkBuffer.safeParse({ intent: "bulk_buffer", ...fields });
  if (!parsed.success) throw parsed.error;
  return setBulkBuffer({ shopDomain: shop.domain, action: parsed.data });
};

const ids = (...skus: string[]) => skus.map((s) => shop.itemIds.get(s)!).join(",");

describe("bulk Set buffer", () => {
  it("refuses bad input at the edge: percent above 100, no item, an id that is no uuid", () => {
    const base = { intent: "bulk_buffer", connectionId: outlet, kind: "reserve_units" };
    const percent = ZBulkBuffer.safeParse({
      ...base,
      kind: "percent_of_ats",
      value: "150",
      itemIds: ids("MUG"),
    });
    expect(percent.success).toBe(false);
    expect(percent.error?.issues[0]?.message).toBe("Percent must be between 0 and 100");
    const none = ZBulkBuffer.safeParse({ ...base, value: "1", itemIds: "" });
    expect(none.error?.issues[0]?.message).toBe("Select at least one item");
    expect(ZBulkBuffer.safeParse({ ...base, value: "1", itemIds: "x" }).success).toBe(false);
    expect(ZBulkBuffer.safeParse({ ...base, value: "-1", itemIds: ids("MUG") }).success).toBe(
      false,
    );
  });

  it("previews without writing, then sets a rule per SKU and republishes", async () => {
    const preview = await bulk({
      connectionId: outlet,
      kind: "reserve_units",
      value: "3",
      itemIds: ids("TEE-S", "MUG"),
      step: "preview",
    });
    expect(preview).toMatchObject({
      ok: true,
      intent: "preview",
      preview: { listingsChanged: 2, skusChanged: 2, includesSource: false, inScope: 2 },
    });
    expect(await rulesOf()).toEqual([]);

    const applied = await bulk({
      connectionId: outlet,
      kind: "reserve_units",
      value: "3",
      itemIds: ids("TEE-S", "MUG"),
    });
    expect(applied).toMatchObject({ ok: true, applied: 2, message: "Buffer set on 2 SKUs" });
    expect(await rulesOf()).toEqual([
      { connectionId: outlet, sku: "MUG", kind: "reserve_units", value: 3 },
      { connectionId: outlet, sku: "TEE-S", kind: "reserve_units", value: 3 },
    ]);
    expect(await publishedOn("TEE-S")).toBe(7);
    expect(await publishedOn("MUG")).toBe(17);
    expect(await publishedOn("CAP")).toBe(4);
  });

  it("replaces a rule of the same scope and kind, and says when all channels includes the source", async () => {
    const preview = await bulk({
      connectionId: "all",
      kind: "reserve_units",
      value: "1",
      itemIds: ids("CAP"),
      step: "preview",
    });
    expect(preview).toMatchObject({ ok: true, preview: { includesSource: true } });
    await bulk({ connectionId: outlet, kind: "reserve_units", value: "5", itemIds: ids("MUG") });
    expect(await rulesOf()).toEqual([
      { connectionId: outlet, sku: "MUG", kind: "reserve_units", value: 5 },
      { connectionId: outlet, sku: "TEE-S", kind: "reserve_units", value: 3 },
    ]);
    expect(await publishedOn("MUG")).toBe(15);
  });

  it("an item of another shop or no item at all: 404 and nothing set", async () => {
    const result = await bulk({
      connectionId: outlet,
      kind: "max_shown",
      value: "1",
      itemIds: `${ids("CAP")},${crypto.randomUUID()}`,
    });
    expect(result).toMatchObject({ ok: false, status: 404 });
    expect(await rulesOf()).toHaveLength(2);
  });
});

describe("bulk Set buffer on every item of the list (Select all)", () => {
  it("applies to the search and filter's items, every page; none matching is refused", async () => {
    const none = await bulk({
      connectionId: outlet,
      kind: "zero_at_or_below",
      value: "1",
      allMatching: "yes",
      q: "NO-SUCH",
    });
    expect(none).toMatchObject({ ok: false, status: 400 });
    const applied = await bulk({
      connectionId: outlet,
      kind: "zero_at_or_below",
      value: "1",
      allMatching: "yes",
      q: "tee",
    });
    expect(applied).toMatchObject({ ok: true, applied: 1 });
    expect(
      await prisma.bufferRule.findMany({
        where: { shopId: shop.shopId, kind: "zero_at_or_below" },
        select: { sku: true, connectionId: true },
      }),
    ).toEqual([{ sku: "TEE-S", connectionId: outlet }]);
  });
});

describe("a rule's channel and kind changed in place", () => {
  it("moves the rule, refuses to land on another rule's scope and kind", async () => {
    const update = (fields: Record<string, string>) => {
      const parsed = ZRuleAction.safeParse({ intent: "update", ...fields });
      if (!parsed.success) throw parsed.error;
      return changeBufferRule({ shopDomain: shop.domain, action: parsed.data });
    };
    const mug = await prisma.bufferRule.findFirstOrThrow({
      where: { shopId: shop.shopId, sku: "MUG" },
    });
    const preview = await update({
      ruleId: mug.id,
      connectionId: "all",
      kind: "max_shown",
      value: "2",
      step: "preview",
    });
    expect(preview).toMatchObject({
      ok: true,
      preview: { listingsChanged: 2, includesSource: true },
    });
    expect(
      await update({ ruleId: mug.id, connectionId: "all", kind: "max_shown", value: "2" }),
    ).toMatchObject({ ok: true, message: "Rule saved" });
    expect(await prisma.bufferRule.findUniqueOrThrow({ where: { id: mug.id } })).toMatchObject({
      connectionId: null,
      sku: "MUG",
      kind: "max_shown",
      value: 2,
    });
    expect(await publishedOn("MUG")).toBe(2);
    // Back from all channels to one: the source store is no longer included, and its listing
    // is among those that change.
    const back = await update({
      ruleId: mug.id,
      connectionId: outlet,
      value: "2",
      step: "preview",
    });
    expect(back).toMatchObject({
      ok: true,
      preview: { includesSource: false, listingsChanged: 1 },
    });

    await createRule(shop.shopId, {
      connectionId: null,
      sku: "TEE-S",
      kind: "reserve_units",
      value: 1,
    });
    const tee = await prisma.bufferRule.findFirstOrThrow({
      where: { shopId: shop.shopId, sku: "TEE-S", connectionId: outlet },
    });
    for (const step of ["preview", "apply"]) {
      expect(await update({ ruleId: tee.id, connectionId: "all", value: "3", step })).toMatchObject(
        {
          ok: false,
          status: 400,
          fieldErrors: { kind: expect.stringContaining("already exists") },
        },
      );
    }
    expect(await prisma.bufferRule.findUniqueOrThrow({ where: { id: tee.id } })).toMatchObject({
      connectionId: outlet,
      value: 3,
    });
  });
});
