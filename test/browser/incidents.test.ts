import type { PrismaClient } from "@prisma/client";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { LedgerOperation } from "../../app/domain/operations";
import { resetEnvCache } from "../../app/env.server";
import { evaluateAlerts } from "../../app/services/alerts/evaluate.server";
import { settleIncidents } from "../../app/services/incidents/settle.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { republishShop } from "../../app/services/ledger/republish.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";
import { startAdmin, type AdminHarness, rowWith } from "./harness";

/**
 * Issue 13 parts 3 and 4 in a real browser: the Incidents page's chart of oversold units by
 * cause (day and week), filters per channel and SKU, resolving with a note, the CSV export, the
 * alert settings (refused when wrong), and the admin banner plus an e-mail to a local SMTP sink
 * once an oversell is confirmed. Incidents come from the ledger and the settle service.
 */
const SHOP = "incident-watch.myshopify.com";
const DAY = 86_400_000;

let admin: AdminHarness;
let page: Page;
let shop: SeededShop;
let x: { connectionId: string };
let y: { connectionId: string };
let smtp: SMTPServer;
const mails: { to: string[]; raw: string }[] = [];

async function sale(
  prisma: PrismaClient,
  connectionId: string,
  orderId: string,
  sku: string,
  at: Date,
): Promise<void> {
  const receipt = await prisma.receipt.create({
    data: {
      shopId: shop.shopId,
      connectionId,
      topic: "orders/create",
      eventId: `order-${orderId}`,
      triggeredAt: at,
      payload: {},
    },
  });
  const operation: LedgerOperation = {
    type: "line",
    key: `${connectionId}/order/${orderId}/line/1/ordered`,
    connectionId,
    orderId,
    lineId: "1",
    sku,
    command: { kind: "placed", quantity: 1, version: at.toISOString() },
  };
  await applyLedgerEvent({
    shopId: shop.shopId,
    receiptId: receipt.id,
    actor: "shopify:orders/create",
    operations: [operation],
    markReceiptApplied: true,
  });
}

async function seed(prisma: PrismaClient): Promise<void> {
  shop = await seedShop(prisma, {
    domain: SHOP,
    items: [
      { sku: "TENT-1", onHand: 1 },
      { sku: "LAMP-2", onHand: 1 },
    ],
  });
  await prisma.shop.update({ where: { id: shop.shopId }, data: { name: "Incident Watch" } });
  x = await addSalesConnection(prisma, shop, { name: "Outlet" });
  y = await addSalesConnection(prisma, shop, { name: "Marketplace" });
  await republishShop(shop.shopId);
  // TENT-1, three days ago: both channels sold the last unit inside one sync window.
  const tent = new Date(Date.now() - 3 * DAY);
  await sale(prisma, y.connectionId, "m-1", "TENT-1", tent);
  await sale(prisma, x.connectionId, "o-1", "TENT-1", new Date(tent.getTime() + 200));
  // LAMP-2, yesterday: the outlet's writes were failing when it sold.
  await prisma.syncFailure.create({
    data: {
      shopId: shop.shopId,
      connectionId: x.connectionId,
      kind: "write_failed",
      reason: "channel answered 500",
      occurredAt: new Date(Date.now() - 2 * DAY),
    },
  });
  const lamp = new Date(Date.now() - DAY);
  await sale(prisma, y.connectionId, "m-2", "LAMP-2", lamp);
  await sale(prisma, x.connectionId, "o-2", "LAMP-2", new Date(lamp.getTime() + 60_000));
  await settleIncidents({ settleMs: 0, shopId: shop.shopId });
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  admin = await startAdmin({ shops: [SHOP], seed });
  page = admin.page;
  // Alerts are evaluated in this process (the worker's sweeper does it in production).
  process.env.SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  resetEnvCache();
}, 300_000);

afterAll(async () => {
  await admin?.close();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
}, 60_000);

const row = (text: string) => rowWith(page, text);

describe("incidents page", () => {
  test("charts confirmed oversold units by cause per day and week, filterable by channel and SKU", async () => {
    await admin.open("/app/incidents");
    await row("TENT-1").waitFor();
    const body = await page.locator("body").innerText();
    expect(body).toContain("2 confirmed incidents, 2 units oversold");
    expect(await row("TENT-1").locator("[data-root-cause]").getAttribute("data-root-cause")).toBe(
      "simultaneous_channels",
    );
    expect(await row("LAMP-2").locator("[data-root-cause]").getAttribute("data-root-cause")).toBe(
      "integration_failure",
    );
    expect(await row("LAMP-2").innerText()).toContain("writes to the selling channel were failing");
    const chart = page.getByTestId("incident-chart");
    const bars = chart.locator("rect[data-cause]");
    await expect.poll(() => bars.count()).toBe(2);
    const causes = await bars.evaluateAll((els) =>
      els.map((e) => `${e.getAttribute("data-cause")}:${e.getAttribute("data-units")}`).sort(),
    );
    expect(causes).toEqual(["integration_failure:1", "simultaneous_channels:1"]);
    expect(await chart.locator("g[data-period]").count()).toBe(30);
    await admin.screenshot("incidents-chart");

    // Per week: 12 periods, the same two units.
    await page.getByLabel("Chart by").selectOption("week");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => chart.locator("g[data-period]").count()).toBe(12);
    const weekly = await chart
      .locator("g[data-period]")
      .evaluateAll((els) => els.reduce((s, e) => s + Number(e.getAttribute("data-total")), 0));
    expect(weekly).toBe(2);

    // Per channel and per SKU.
    await page.getByLabel("Channel", { exact: true }).selectOption({ label: "Outlet" });
    await page.getByLabel("SKU", { exact: true }).fill("LAMP-2");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.url()).toContain("sku=LAMP-2");
    await expect.poll(() => page.getByRole("row").filter({ hasText: "TENT-1" }).count()).toBe(0);
    await row("LAMP-2").waitFor();
    await expect.poll(() => bars.count()).toBe(1);
    expect(await page.locator("body").innerText()).toContain(
      "1 confirmed incident, 1 unit oversold",
    );
  });

  test("exports the selection as CSV", async () => {
    await admin.open("/app/incidents");
    await row("TENT-1").waitFor();
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^stockguard-incidents-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = (await readFile((await file.path())!, "utf8")).replace(/^\uFEFF/, "");
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe(
      "id,status,sale_at,recorded_at,sku,channel,order,units,cause,reason,resolved_at,resolution_note",
    );
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.includes("TENT-1"))).toMatch(
      /,confirmed,.*,Outlet,o-1,1,simultaneous_channels,/,
    );
  });

  test("resolves an incident with a note", async () => {
    await admin.open("/app/incidents");
    const tent = row("TENT-1");
    await tent.waitFor();
    await tent.getByRole("button", { name: "Resolve" }).click();
    // An empty note is refused, nothing changes.
    await tent.getByRole("button", { name: "Resolve" }).click();
    await tent.getByText("Say what was done").waitFor();
    await tent.getByLabel("Resolution note").fill("Refunded the outlet customer");
    await tent.getByRole("button", { name: "Resolve" }).click();
    // Resolved incidents leave the open list (the default view).
    await expect.poll(() => page.getByRole("row").filter({ hasText: "TENT-1" }).count()).toBe(0);
    const stored = await admin.prisma.oversellIncident.findFirstOrThrow({
      where: { shopId: shop.shopId, sku: "TENT-1", status: "confirmed" },
    });
    expect(stored.resolvedAt).toBeInstanceOf(Date);
    expect(stored.resolutionNote).toBe("Refunded the outlet customer");
    await row("LAMP-2").waitFor();
    // The resolved view shows it with its note.
    await admin.open("/app/incidents?status=resolved");
    await row("TENT-1").waitFor();
    expect(await row("TENT-1").innerText()).toContain("Refunded the outlet customer");
    expect(await page.getByRole("row").filter({ hasText: "LAMP-2" }).count()).toBe(0);
  });

  test("saves alert settings (refusing bad ones), then a banner and an e-mail for an open oversell", async () => {
    await admin.open("/app/incidents");
    await page.getByLabel("E-mail recipients").fill("ops@example.com, nope");
    await page.getByLabel("Webhook URL (Slack-compatible)").fill("http://hooks.example.com/x");
    await page.getByRole("button", { name: "Save alert settings" }).click();
    await page.getByText("Enter valid e-mail addresses").waitFor();
    await page.getByText("The webhook URL must be an https:// URL").waitFor();
    expect(await admin.prisma.alertSettings.count()).toBe(0);

    await page.getByLabel("E-mail recipients").fill("ops@example.com");
    await page.getByLabel("Webhook URL (Slack-compatible)").fill("");
    await page.getByLabel(/not written for \(minutes\)/).fill("20");
    await page.getByLabel("Drift found by reconcile").uncheck();
    await page.getByRole("button", { name: "Save alert settings" }).click();
    await expect
      .poll(() => admin.prisma.alertSettings.findFirst({ where: { shopId: shop.shopId } }))
      .toMatchObject({
        emailTo: ["ops@example.com"],
        webhookUrl: null,
        staleMinutes: 20,
        conditions: ["oversell", "channel_stale", "subscription"],
        digest: false,
      });

    // The sweeper's evaluation: LAMP-2 is still oversold and unresolved.
    const outcome = await evaluateAlerts();
    expect(outcome).toMatchObject({ opened: 1, emails: 1 });
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual(["ops@example.com"]);
    expect(mails[0]!.raw).toContain("1 unit of LAMP-2 oversold");
    await admin.open("/app");
    const banner = page.getByTestId("alert-banner");
    await banner.waitFor();
    expect(await banner.innerText()).toContain("1 unit of LAMP-2 oversold");
    await admin.screenshot("alert-banner");
    // Evaluated again: no second e-mail while it stays open.
    await evaluateAlerts();
    expect(mails).toHaveLength(1);
  });
});
