import type { PrismaClient } from "@prisma/client";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { republishShop } from "../../app/services/ledger/republish.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";
import {
  startAdmin,
  type AdminHarness,
  waitForToast as waitForToastOn,
  rowWith,
  unexpectedPageErrors,
} from "./harness";

/**
 * Issue 17's editing at scale in a real browser against the real web process: buffers set on
 * many SKUs at once from the Inventory list (previewed, refused whole when wrong), a rule's
 * channel and kind changed in place, pending writes over time on Sync health, and an item's
 * listings readable on a phone. Every change is checked in the database too.
 */
const SHOP = "borealis-editing.myshopify.com";

let admin: AdminHarness;
let page: Page;
let shop: SeededShop;
let outletId: string;
let outletListings: Map<string, string>;

async function seed(prisma: PrismaClient): Promise<void> {
  shop = await seedShop(prisma, {
    domain: SHOP,
    items: [
      { sku: "SKU-ALPHA", onHand: 20 },
      { sku: "SKU-BRAVO", onHand: 5 },
      { sku: "SKU-CHARLIE", onHand: 9 },
      // A second page of the list (25 a page): "Select all" reaches them too.
      ...Array.from({ length: 24 }, (_, i) => ({
        sku: `ZZ-FILL-${String(i + 1).padStart(2, "0")}`,
        onHand: 3,
      })),
    ],
  });
  await prisma.shop.update({ where: { id: shop.shopId }, data: { name: "Borealis" } });
  const outlet = await addSalesConnection(prisma, shop, { name: "Outlet store" });
  outletId = outlet.connectionId;
  outletListings = outlet.listingIds;
  await republishShop(shop.shopId);
  await prisma.$executeRaw`
    UPDATE listing SET pushed_version = published_version, pushed_quantity = published_quantity,
           remote_quantity = published_quantity, remote_observed_at = now(), remote_source = 'push',
           last_pushed_at = now() - interval '2 minutes', dirty_since = NULL`;
}

const waitForToast = (message: string) => waitForToastOn(page, message);

const row = (text: string) => rowWith(page, text);

const published = async (sku: string) =>
  (
    await admin.prisma.listing.findUniqueOrThrow({
      where: { id: outletListings.get(sku)! },
    })
  ).publishedQuantity;

beforeAll(async () => {
  admin = await startAdmin({ shops: [SHOP], seed });
  page = admin.page;
}, 300_000);

afterAll(async () => {
  await admin?.close();
}, 60_000);

describe("editing at scale", () => {
  test("Inventory: buffers set on the selected SKUs at once, previewed, refused whole when wrong", async () => {
    await admin.open("/app/inventory");
    await row("SKU-ALPHA").getByRole("checkbox").check();
    await row("SKU-BRAVO").getByRole("checkbox").check();
    await page.getByRole("button", { name: "Set buffer…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Set buffer on 2 selected SKUs").waitFor();
    expect(await dialog.innerText()).toContain("SKU-ALPHA, SKU-BRAVO");

    // "All channels" says it includes the source store, and so does the preview.
    expect(await dialog.innerText()).toContain(
      `Applies to ${SHOP} (the source store’s storefront)`,
    );
    await dialog.getByLabel("Units held back").fill("2");
    await dialog.getByTestId("rule-preview").waitFor();
    expect(await dialog.innerText()).toContain("includes the source store");

    // One channel: the source store is said not to be included; before → after per SKU.
    await dialog.getByLabel("Channel").selectOption({ label: "Outlet store" });
    await dialog.getByText("the source store is not included").waitFor();
    const summary = dialog.getByTestId("rule-preview");
    await expect.poll(() => summary.getAttribute("data-changed")).toBe("2");
    expect(await dialog.innerText()).toContain("SKU-ALPHA on Outlet store: 20 → 18");
    expect(await dialog.innerText()).toContain("SKU-BRAVO on Outlet store: 5 → 3");
    expect(await dialog.innerText()).not.toContain("includes the source store");
    expect(await admin.prisma.bufferRule.count()).toBe(0); // a preview writes nothing
    await admin.screenshot("inventory-bulk-buffer");

    // Bad input: the reason in the modal, and nothing set even when applied anyway.
    await dialog.getByLabel("Rule", { exact: true }).selectOption("percent_of_ats");
    await dialog.getByLabel("Percent shown (0–100)").fill("150");
    await dialog.getByText("Percent must be between 0 and 100").waitFor();
    await dialog.getByRole("button", { name: "Set buffer on 2 SKUs" }).click();
    await dialog.getByText("Percent must be between 0 and 100").waitFor();
    expect(await admin.prisma.bufferRule.count()).toBe(0);
    // Posted straight to the action: an item of no shop (404), an empty value (400).
    const post = (fields: Record<string, string>) =>
      page.evaluate(async (body) => {
        const response = await fetch("/app/inventory.data?index", {
          method: "POST",
          body: new URLSearchParams(body),
        });
        return { status: response.status, text: await response.text() };
      }, fields);
    const unknown = await post({
      intent: "bulk_buffer",
      connectionId: outletId,
      kind: "reserve_units",
      value: "2",
      itemIds: `${shop.itemIds.get("SKU-ALPHA")},${crypto.randomUUID()}`,
      step: "apply",
    });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain("Some selected items no longer exist");
    const empty = await post({
      intent: "bulk_buffer",
      connectionId: outletId,
      kind: "reserve_units",
      value: "",
      itemIds: shop.itemIds.get("SKU-ALPHA")!,
      step: "apply",
    });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain("Value is required");
    expect(await admin.prisma.bufferRule.count()).toBe(0);

    // A good one: one action sets a rule per SKU, the toast says so, the list shows it.
    await dialog.getByLabel("Rule", { exact: true }).selectOption("reserve_units");
    await dialog.getByLabel("Units held back").fill("2");
    await expect.poll(() => summary.getAttribute("data-changed")).toBe("2");
    await dialog.getByRole("button", { name: "Set buffer on 2 SKUs" }).click();
    await waitForToast("Buffer set on 2 SKUs");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    const rules = await admin.prisma.bufferRule.findMany({ orderBy: { sku: "asc" } });
    expect(rules).toMatchObject([
      { connectionId: outletId, sku: "SKU-ALPHA", kind: "reserve_units", value: 2 },
      { connectionId: outletId, sku: "SKU-BRAVO", kind: "reserve_units", value: 2 },
    ]);
    expect(await published("SKU-ALPHA")).toBe(18);
    expect(await published("SKU-BRAVO")).toBe(3);
    expect(await published("SKU-CHARLIE")).toBe(9);
    await expect
      .poll(() => row("SKU-ALPHA").locator('[data-connection="Outlet store"]').innerText())
      .toContain("18 / 20");

    // Again on one SKU: its rule of that kind takes the new value (no second rule).
    await row("SKU-ALPHA").getByRole("checkbox").check();
    await page.getByRole("button", { name: "Set buffer…" }).click();
    await dialog.getByText("Set buffer on 1 selected SKU").waitFor();
    await dialog.getByLabel("Channel").selectOption({ label: "Outlet store" });
    await dialog.getByLabel("Units held back").fill("5");
    await expect
      .poll(() => dialog.getByTestId("rule-preview").getAttribute("data-changed"))
      .toBe("1");
    expect(await dialog.innerText()).toContain("SKU-ALPHA on Outlet store: 18 → 15");
    await dialog.getByRole("button", { name: "Set buffer on 1 SKU" }).click();
    await waitForToast("Buffer set on 1 SKU");
    expect(await admin.prisma.bufferRule.count()).toBe(2);
    expect(await published("SKU-ALPHA")).toBe(15);
  });

  test("Rules: a rule's channel and kind are changed in place, previewed and checked", async () => {
    const bravo = await admin.prisma.bufferRule.findFirstOrThrow({ where: { sku: "SKU-BRAVO" } });
    await admin.open("/app/rules", { search: { edit: bravo.id } });
    const editor = page.getByTestId("rule-editor");
    await editor.getByLabel("Channel").selectOption("all");
    expect(await editor.innerText()).toContain(`Applies to ${SHOP}`);
    await editor.getByLabel("Rule", { exact: true }).selectOption("max_shown");
    await editor.getByLabel("Maximum shown").fill("1");
    const summary = editor.getByTestId("rule-preview");
    // SKU-BRAVO on both channels now shows at most 1 (the outlet's hold back of 2 goes).
    await expect.poll(() => summary.getAttribute("data-changed")).toBe("2");
    expect(await editor.innerText()).toContain("SKU-BRAVO on Outlet store: 3 → 1");
    expect(await editor.innerText()).toContain(`SKU-BRAVO on ${SHOP}: 5 → 1`);
    expect(await editor.innerText()).toContain("includes the source store");
    expect(
      await admin.prisma.bufferRule.findUniqueOrThrow({ where: { id: bravo.id } }),
    ).toMatchObject({ connectionId: outletId, kind: "reserve_units", value: 2 });
    await admin.screenshot("rules-edit-scope");

    // A bad value is refused in the editor, before and at Save.
    await editor.getByLabel("Rule", { exact: true }).selectOption("percent_of_ats");
    await editor.getByLabel("Percent shown (0–100)").fill("150");
    await editor.getByText("Percent must be between 0 and 100").waitFor();

    await editor.getByLabel("Rule", { exact: true }).selectOption("max_shown");
    await editor.getByLabel("Maximum shown").fill("1");
    await expect.poll(() => summary.getAttribute("data-changed")).toBe("2");
    await editor.getByRole("button", { name: "Save" }).click();
    await waitForToast("Rule saved");
    await page.locator('[data-rule="max_shown:1"]').waitFor();
    expect(
      await admin.prisma.bufferRule.findUniqueOrThrow({ where: { id: bravo.id } }),
    ).toMatchObject({ connectionId: null, sku: "SKU-BRAVO", kind: "max_shown", value: 1 });
    expect(await published("SKU-BRAVO")).toBe(1);
    expect(await row("SKU-BRAVO").innerText()).toContain("All channels (source store included)");

    // Moving a rule onto the scope and kind of another one is refused; nothing changes.
    await admin.prisma.bufferRule.create({
      data: { shopId: shop.shopId, sku: "SKU-ALPHA", kind: "reserve_units", value: 1 },
    });
    const alpha = await admin.prisma.bufferRule.findFirstOrThrow({
      where: { sku: "SKU-ALPHA", connectionId: outletId },
    });
    await admin.open("/app/rules", { search: { edit: alpha.id } });
    await editor.getByLabel("Channel").selectOption("all");
    await editor.getByText("A rule of this kind already exists for this channel and SKU").waitFor();
    await editor.getByRole("button", { name: "Save" }).click();
    await editor.getByText("A rule of this kind already exists for this channel and SKU").waitFor();
    expect(
      await admin.prisma.bufferRule.findUniqueOrThrow({ where: { id: alpha.id } }),
    ).toMatchObject({ connectionId: outletId, kind: "reserve_units", value: 5 });
  });

  test("Sync health charts the writes waiting per channel over the last hours", async () => {
    // Three events waiting together on the outlet 30 minutes ago, one 3 hours ago, and one
    // that a listing still owes (no write yet).
    const now = Date.now();
    const spans: [number, number][] = [
      [now - 30 * 60_000, 10_000],
      [now - 30 * 60_000 + 1_000, 10_000],
      [now - 30 * 60_000 + 2_000, 10_000],
      [now - 3 * 3_600_000, 2_000],
    ];
    for (const [i, [receivedAt, waitMs]] of spans.entries()) {
      const receipt = await admin.prisma.receipt.create({
        data: {
          shopId: shop.shopId,
          connectionId: shop.sourceConnectionId,
          topic: "orders/create",
          eventId: `pending-${i}`,
          receivedAt: new Date(receivedAt),
          payload: {},
          status: "applied",
        },
      });
      await admin.prisma.pushTrace.create({
        data: {
          receiptId: receipt.id,
          connectionId: outletId,
          writtenAt: new Date(receivedAt + waitMs),
        },
      });
    }
    const owed = await admin.prisma.receipt.create({
      data: {
        shopId: shop.shopId,
        connectionId: shop.sourceConnectionId,
        topic: "orders/create",
        eventId: "pending-owed",
        receivedAt: new Date(now - 60_000),
        payload: {},
        status: "applied",
      },
    });
    const charlie = outletListings.get("SKU-CHARLIE")!;
    await admin.prisma.$executeRaw`
      UPDATE listing SET published_version = pushed_version + 1,
             pending_receipt_ids = ARRAY[${owed.id}]::bigint[], dirty_since = now() - interval '1 minute'
       WHERE id = ${charlie}::uuid`;

    await admin.open("/app/health");
    const chart = page.getByTestId("pending-chart");
    await chart.waitFor();
    expect(await chart.locator('[data-series="Outlet store"]').count()).toBe(1);
    expect(await page.locator('[data-pending="Outlet store"]').innerText()).toBe(
      "Outlet store: at most 3 writes waiting at once; 1 write waiting now",
    );
    // The source store had nothing waiting: no line for it.
    expect(await page.locator(`[data-pending="${SHOP}"]`).count()).toBe(0);
    // The latency chart is still there, above it.
    await page.getByTestId("line-chart").waitFor();
    await admin.screenshot("health-pending");
  });

  test("an item's listings fit a phone: channel, SKU and what it shows are on screen", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    try {
      await admin.open(`/app/inventory/${shop.itemIds.get("SKU-ALPHA")}`);
      const table = page.getByTestId("listings-table");
      await expect.poll(() => table.getAttribute("data-compact")).toBe("true");
      const rows = table.locator("tbody tr");
      expect(await rows.count()).toBe(2);
      const inView = async (locator: ReturnType<Page["locator"]>) => {
        await locator.scrollIntoViewIfNeeded();
        const box = await locator.boundingBox();
        return box !== null && box.x >= 0 && box.x + box.width <= 375;
      };
      for (let i = 0; i < 2; i++) {
        const r = rows.nth(i);
        expect(await inView(r.getByTestId("listing-sku"))).toBe(true);
        expect(await inView(r.getByTestId("published"))).toBe(true);
        expect(await inView(r.getByTestId("channel-shows"))).toBe(true);
      }
      const outlet = rows.filter({ hasText: "Outlet store" });
      expect(await outlet.getByTestId("listing-sku").innerText()).toBe("sales channel · SKU-ALPHA");
      expect(await outlet.getByTestId("channel-shows").innerText()).toBe("20");
      // Nothing of the page runs off the side of the phone.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        375,
      );
      await admin.screenshot("item-phone");

      // A rule opened for editing on a phone: its fields and Save are on screen.
      const rule = await admin.prisma.bufferRule.findFirstOrThrow({ where: { sku: "SKU-ALPHA" } });
      await admin.open("/app/rules", { search: { edit: rule.id } });
      const editor = page.getByTestId("rule-editor");
      expect(await inView(editor.getByLabel("Channel"))).toBe(true);
      expect(await inView(editor.getByRole("button", { name: "Save" }))).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  test('Inventory: "Select all" sets the buffer on every item of the list, every page', async () => {
    await admin.open("/app/inventory?q=ZZ-FILL");
    // 24 fillers match: one page, nothing more to select.
    await page
      .getByRole("checkbox", { name: /Select all/ })
      .first()
      .check();
    expect(await page.getByRole("button", { name: /Select all \d+ stock items/ }).count()).toBe(0);

    await admin.open("/app/inventory");
    await page
      .getByRole("checkbox", { name: /Select all/ })
      .first()
      .check();
    await page.getByRole("button", { name: "Select all 27 stock items" }).click();
    await page.getByText("All 27 stock items of this list are selected").waitFor();
    await page.getByRole("button", { name: "Set buffer…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Set buffer on all 27 items of this list").waitFor();
    await dialog.getByLabel("Channel").selectOption({ label: "Outlet store" });
    await dialog.getByLabel("Rule", { exact: true }).selectOption("zero_at_or_below");
    await dialog.getByLabel("Threshold").fill("3");
    // The fillers (ATS 3) would show 0 on the outlet; the others keep their number.
    await expect
      .poll(() => dialog.getByTestId("rule-preview").getAttribute("data-changed"))
      .toBe("24");
    const before = await admin.prisma.bufferRule.count();
    await dialog.getByRole("button", { name: "Set buffer on 27 SKUs" }).click();
    await waitForToast("Buffer set on 27 SKUs");
    expect(
      await admin.prisma.bufferRule.count({
        where: { connectionId: outletId, kind: "zero_at_or_below", value: 3 },
      }),
    ).toBe(27);
    expect(await admin.prisma.bufferRule.count()).toBe(before + 27);
    const filler = await admin.prisma.listing.findFirstOrThrow({
      where: { connectionId: outletId, sku: "ZZ-FILL-24" },
    });
    expect(filler.publishedQuantity).toBe(0);
  });

  test("no page errors and no request left the machine except App Bridge", () => {
    const unexpected = unexpectedPageErrors(admin.pageErrors, [400, 404, 422]);
    expect(unexpected).toEqual([]);
    expect(admin.blocked.filter((u) => !u.startsWith("https://cdn.shopify.com/"))).toEqual([]);
  });
});
