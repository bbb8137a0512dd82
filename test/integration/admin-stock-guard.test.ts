/**
 * Guarded stock changes from the admin (issue 17): the item page's actions called as Remix calls
 * them. On hand never goes below zero from the admin, every change can be previewed (before →
 * after for every channel, nothing written), a large, negative or uncovering change needs the
 * merchant's confirmation, and a change the merchant confirmed never becomes an oversell
 * incident: it is recorded as their decision. Orders still raise incidents as before.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import * as item from "../../app/routes/app.inventory.$itemId";
import { mintSessionToken } from "../../app/sandbox/session-token.server";
import { getItemDetail } from "../../app/services/admin/item-detail.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { republishShop } from "../../app/services/ledger/republish.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";

type Answer = { status: number; body: Record<string, unknown> };
type Handler = (args: {
  request: Request;
  params: Record<string, string>;
  context: object;
}) => Promise<unknown>;

let shop: SeededShop;
let itemId: string;
let locationId: string;
let outletId: string;

async function post(form: Record<string, string>): Promise<Answer> {
  const token = mintSessionToken({
    shop: shop.domain,
    apiKey: process.env.SHOPIFY_API_KEY!,
    apiSecret: process.env.SHOPIFY_API_SECRET!,
  });
  const request = new Request(`https://stockguard.test/app/inventory/${itemId}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: new URLSearchParams(form),
  });
  const result = (await (item.action as Handler)({ request, params: { itemId }, context: {} })) as {
    init: { status?: number } | null;
    data: Record<string, unknown>;
  };
  return { status: result.init?.status ?? 200, body: result.data };
}

async function state() {
  const [movements, level, incidents, decisions, listings] = await Promise.all([
    prisma.movement.count({ where: { itemId } }),
    prisma.stockLevel.findFirstOrThrow({ where: { itemId, locationId } }),
    // Oversells counted for the merchant (their own changes are kept apart as decisions).
    prisma.oversellIncident.count({ where: { shopId: shop.shopId, merchant: false } }),
    prisma.merchantDecision.count({ where: { shopId: shop.shopId } }),
    prisma.listing.findMany({
      where: { shopId: shop.shopId },
      orderBy: { id: "asc" },
      select: { id: true, publishedQuantity: true },
    }),
  ]);
  return {
    movements,
    onHand: level.onHand,
    safetyStock: level.safetyStock,
    incidents,
    decisions,
    listings,
  };
}

const adjust = (delta: string, extra: Record<string, string> = {}) => ({
  intent: "adjust",
  key: randomUUID(),
  locationId,
  delta,
  reason: "cycle count",
  ...extra,
});

type Preview = {
  onHand: { before: number; after: number };
  ats: { before: number; after: number };
  channels: { connectionName: string; before: number; after: number }[];
  uncovered: number;
  confirmReasons: string[];
};

beforeAll(async () => {
  shop = await seedShop(prisma, { items: [{ sku: "GUARD-1", onHand: 10 }] });
  itemId = shop.itemIds.get("GUARD-1")!;
  locationId = shop.locationIds[0]!;
  outletId = (await addSalesConnection(prisma, shop, { name: "Outlet" })).connectionId;
  await prisma.bufferRule.create({
    data: { shopId: shop.shopId, connectionId: outletId, kind: "reserve_units", value: 2 },
  });
  await republishShop(shop.shopId);
  await prisma.session.create({
    data: {
      id: `offline_${shop.domain}`,
      shop: shop.domain,
      state: "",
      isOnline: false,
      scope: process.env.SCOPES,
      accessToken: "shpat_test",
    },
  });
  // The outlet sold 6: committed 6, ATS 4, the outlet shows 4 − 2 = 2.
  await applyLedgerEvent({
    shopId: shop.shopId,
    actor: "test:orders/create",
    operations: [
      {
        type: "line",
        key: "outlet-1-1-placed",
        connectionId: outletId,
        orderId: "outlet-1",
        lineId: "1",
        sku: "GUARD-1",
        command: { kind: "placed", quantity: 6, version: new Date().toISOString() },
      },
    ],
  });
});

describe("on hand never goes below zero from the admin", () => {
  it("refuses −99,999 (and its preview) with a readable message, changing nothing", async () => {
    const before = await state();
    for (const step of ["preview", "apply"]) {
      const result = await post(adjust("-99999", { step, confirmed: "yes" }));
      expect(result.status).toBe(400);
      expect((result.body.fieldErrors as Record<string, string>).delta).toBe(
        "On hand is 10 here: removing 99,999 units would leave it below 0",
      );
    }
    expect(await state()).toEqual(before);
  });

  it("refuses a safety stock above on hand (the 99,999 typo), changing nothing", async () => {
    const before = await state();
    const result = await post({
      intent: "safety_stock",
      key: randomUUID(),
      locationId,
      quantity: "99999",
      confirmed: "yes",
    });
    expect(result.status).toBe(400);
    expect((result.body.fieldErrors as Record<string, string>).quantity).toMatch(
      /on hand is 10 here, so at most 10/,
    );
    expect(await state()).toEqual(before);
  });
});

describe("preview: before → after for every channel, nothing written", () => {
  it("shows on hand, ATS and what each channel would show", async () => {
    const before = await state();
    const result = await post(adjust("3", { step: "preview" }));
    expect(result.status).toBe(200);
    const preview = result.body.preview as Preview;
    expect(preview.onHand).toEqual({ before: 10, after: 13 });
    expect(preview.ats).toEqual({ before: 4, after: 7 });
    expect(preview.channels).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ connectionName: "Outlet", before: 2, after: 5 }),
        expect.objectContaining({ connectionName: shop.domain, before: 4, after: 7 }),
      ]),
    );
    expect(preview.confirmReasons).toEqual([]);
    expect(await state()).toEqual(before);
  });

  it("predicts exactly what the ledger then publishes", async () => {
    const form = adjust("2");
    const preview = (await post({ ...form, step: "preview" })).body.preview as Preview & {
      channels: { listingId: string; after: number }[];
    };
    const applied = await post({ ...form, step: "apply" });
    expect(applied.body).toMatchObject({ ok: true, applied: true });
    const listings = await prisma.listing.findMany({ where: { shopId: shop.shopId } });
    for (const c of preview.channels)
      expect(listings.find((l) => l.id === c.listingId)?.publishedQuantity).toBe(c.after);
  });
});

describe("confirmation for large, negative or uncovering changes", () => {
  it("refuses a negative change without confirmation (409, with the preview), then applies it", async () => {
    const before = await state();
    const form = adjust("-1");
    const unconfirmed = await post(form);
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.body.formError).toMatch(/needs your confirmation.*removes 1 unit/);
    expect((unconfirmed.body.preview as Preview).onHand).toEqual({
      before: before.onHand,
      after: before.onHand - 1,
    });
    expect(await state()).toEqual(before);

    const confirmed = await post({ ...form, confirmed: "yes" });
    expect(confirmed.body).toMatchObject({ ok: true, applied: true, incidents: 0 });
    expect((await state()).onHand).toBe(before.onHand - 1);
  });

  it("asks for confirmation of a large increase", async () => {
    const preview = (await post(adjust("500", { step: "preview" }))).body.preview as Preview;
    expect(preview.confirmReasons.join(" ")).toMatch(/large change \(500 units\)/);
    expect((await post(adjust("500"))).status).toBe(409);
  });
});

describe("a merchant's own change is their decision, never an oversell incident", () => {
  it("an adjustment below what orders took: warned, confirmed, recorded as a decision", async () => {
    const before = await state(); // on hand 11, committed 6, ATS 5
    const form = adjust(String(-(before.onHand - 2))); // leaves 2 on hand for 6 sold
    const preview = (await post({ ...form, step: "preview" })).body.preview as Preview;
    expect(preview.uncovered).toBe(4);
    expect(preview.confirmReasons.join(" ")).toMatch(
      /Orders already take 6 units: after this change 4 units sold would not be covered/,
    );
    expect(preview.channels.every((c) => c.after === 0)).toBe(true);

    const applied = await post({ ...form, confirmed: "yes" });
    expect(applied.body).toMatchObject({ ok: true, applied: true, incidents: 0, decisions: 1 });
    const after = await state();
    expect(after.onHand).toBe(2);
    expect(after.incidents).toBe(before.incidents);
    const decision = await prisma.merchantDecision.findFirstOrThrow({
      where: { shopId: shop.shopId },
    });
    expect(decision).toMatchObject({
      itemId,
      sku: "GUARD-1",
      kind: "manual_adjustment",
      shortfall: 4,
      atsBefore: 5,
      atsAfter: -4,
      reason: "cycle count",
    });
    expect(decision.actor).toMatch(/^admin:user\//);

    // The item page shows it as the merchant's decision.
    const detail = await getItemDetail({ shopDomain: shop.domain, itemId });
    expect(detail?.decisions).toMatchObject([{ kind: "manual_adjustment", shortfall: 4 }]);
  });

  it("a safety stock that uncovers orders is a decision too", async () => {
    await post(adjust("8", { confirmed: "yes" })); // on hand 10, ATS 4
    const before = await state();
    const result = await post({
      intent: "safety_stock",
      key: randomUUID(),
      locationId,
      quantity: "10",
      confirmed: "yes",
    });
    expect(result.body).toMatchObject({ ok: true, applied: true, incidents: 0, decisions: 1 });
    const after = await state();
    expect(after.incidents).toBe(before.incidents);
    expect(after.decisions).toBe(before.decisions + 1);
    expect(after.safetyStock).toBe(10);
  });

  it("an order that oversells is still an incident", async () => {
    // Safety stock 10 keeps the channels at 0; 4 units are still on the shelf beyond the
    // orders: a sale of 5 oversells by 1.
    const before = await state();
    const result = await applyLedgerEvent({
      shopId: shop.shopId,
      actor: "test:orders/create",
      operations: [
        {
          type: "line",
          key: "outlet-2-1-placed",
          connectionId: outletId,
          orderId: "outlet-2",
          lineId: "1",
          sku: "GUARD-1",
          command: { kind: "placed", quantity: 5, version: new Date().toISOString() },
        },
      ],
    });
    expect(result.incidents).toHaveLength(1);
    expect((await state()).incidents).toBe(before.incidents + 1);
  });
});

describe("messages in the merchant's words", () => {
  it("an inspection of units that are not held names no internal command", async () => {
    const result = await post({
      intent: "inspect",
      key: randomUUID(),
      locationId,
      outcome: "passed",
      quantity: "3",
    });
    expect(result.status).toBe(422);
    const message = String(result.body.formError);
    expect(message).not.toMatch(/inspection_passed|_/);
    expect(message).toMatch(/^Only 0 units are held/);
  });
});
