/**
 * `npm run screenshots`: a PNG of each admin page (Overview with its set-up checklist and
 * preview, and while a first import runs; Channels with a fresh link code, and on a new store
 * with "Enter a link code"; Unmatched lines with the item picker, Bundles, Settings; Inventory
 * with a filter and the bulk "Set buffer…" of selected rows; an item with its "why this number"
 * chains, an adjustment's preview and its confirmation; Buffer rules, a rule edited in place and
 * a delete's confirmation; Recommended buffers, Risk checks, Cycle counts and an open count;
 * Incidents, Sync health with its charts, and the in-app 404), at desktop (1280 px) and phone
 * (375 px) width, written to
 * `screenshots/` (git-ignored); prints the list and each page's load time. Runs the real web
 * process (production build) on a throw-away database seeded with a shop halfway through its
 * set-up, through the browser-test harness.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { PrismaClient } from "@prisma/client";
import { republishShop } from "../../app/services/ledger/republish.server";
import { ensureBuild } from "../../app/lib/build.server";
import { startCount } from "../../app/services/counts/counts.server";
import {
  addOrderHistory,
  addPushTrace,
  addSalesConnection,
  seedShop,
  type SeededShop,
} from "../factories/shop";
import { ensureTemplate } from "../setup/services";
import { ROOT, startAdmin } from "./harness";

const SHOP = "aurora-outfitters.myshopify.com";
/** Installed a minute ago: its catalog import is running, it has no channel yet. */
const FRESH = "borealis-goods.myshopify.com";
const OUT = path.join(ROOT, "screenshots");
const WIDTHS = [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 375, height: 812 },
] as const;

let shop: SeededShop;
let countId: string;

async function seed(prisma: PrismaClient): Promise<void> {
  const skus = [
    "TEE-BLK-S",
    "TEE-BLK-M",
    "TEE-BLK-L",
    "HOODIE-GRY-M",
    "CAP-NAVY",
    "SOCKS-3PK",
    "MUG-LOGO",
    "TOTE-NATURAL",
  ];
  shop = await seedShop(prisma, {
    domain: SHOP,
    locations: 2,
    items: skus.map((sku, i) => ({ sku, onHand: [8 + i * 3, i % 3] })),
  });
  await prisma.shop.update({
    where: { id: shop.shopId },
    data: { name: "Aurora Outfitters", syncEnabled: false },
  });
  await prisma.location.updateMany({
    where: { shopId: shop.shopId, name: "Location 1" },
    data: { name: "Main warehouse" },
  });
  await prisma.location.updateMany({
    where: { shopId: shop.shopId, name: "Location 2" },
    data: { name: "Downtown shop" },
  });
  for (const [i, sku] of skus.entries()) {
    await prisma.stockItem.update({
      where: { id: shop.itemIds.get(sku)! },
      data: {
        title: [
          "Black tee",
          "Black tee",
          "Black tee",
          "Grey hoodie",
          "Navy cap",
          "Socks 3-pack",
          "Logo mug",
          "Canvas tote",
        ][i],
      },
    });
  }
  await prisma.connection.update({
    where: { id: shop.sourceConnectionId },
    data: { name: SHOP },
  });
  const outlet = await addSalesConnection(prisma, shop, {
    name: "aurora-outlet",
    listings: [
      ...skus.map((sku) => ({ sku })),
      { sku: "TEE-BLK-M-2PK", components: [{ sku: "TEE-BLK-M", quantity: 2 }] },
      {
        sku: "GIFT-SET",
        components: [
          { sku: "MUG-LOGO", quantity: 1 },
          { sku: "TOTE-NATURAL", quantity: 1 },
        ],
      },
    ],
  });
  const amazon = await prisma.connection.create({
    data: {
      shopId: shop.shopId,
      kind: "amazon",
      role: "sales",
      name: "Amazon US",
      accountRef: "A2EUQ1WTGCTBG2",
      credentials: "sealed",
      status: "paused",
      statusReason: "paused by the merchant",
    },
  });
  await prisma.connection.create({
    data: {
      shopId: shop.shopId,
      kind: "shopify",
      role: "sales",
      name: "old-popup-store",
      accountRef: "old-popup-store.myshopify.com",
      status: "disconnected",
      statusReason: "disconnected by the merchant",
    },
  });
  await prisma.connection.update({
    where: { id: outlet.connectionId },
    data: { accountRef: "aurora-outlet.myshopify.com", credentials: "sealed" },
  });
  await prisma.bufferRule.create({
    data: { shopId: shop.shopId, kind: "reserve_units", value: 1 },
  });
  await republishShop(shop.shopId);
  // The outlet shows what it showed before StockGuard: the preview lists the differences.
  const listings = await prisma.listing.findMany({ where: { connectionId: outlet.connectionId } });
  for (const [i, l] of listings.entries()) {
    await prisma.listing.update({
      where: { id: l.id },
      data: { remoteQuantity: i % 3 === 0 ? l.publishedQuantity : i + 4, remoteSource: "read" },
    });
  }
  await prisma.listing.updateMany({
    where: { connectionId: shop.sourceConnectionId },
    data: {
      remoteSource: "read",
      remoteObservedAt: new Date(),
      remoteState: { available: 8, reserved: 2, safety_stock: 1, on_hand: 11 },
    },
  });
  await prisma.$executeRaw`UPDATE listing SET remote_quantity = published_quantity WHERE connection_id = ${shop.sourceConnectionId}::uuid`;
  const now = Date.now();
  await prisma.importRun.create({
    data: {
      shopId: shop.shopId,
      connectionId: shop.sourceConnectionId,
      status: "done",
      imported: 8,
      total: 8,
      issues: 1,
      startedAt: new Date(now - 120_000),
      finishedAt: new Date(now - 100_000),
    },
  });
  await prisma.importRun.create({
    data: {
      shopId: shop.shopId,
      connectionId: amazon.id,
      status: "running",
      reason: "connect",
      imported: 250,
      startedAt: new Date(now - 20_000),
    },
  });
  // An order at the source received at `receivedAt` and written to the outlet `ms` later.
  const toOutlet = (eventId: string, receivedAt: Date, ms: number) =>
    addPushTrace(prisma, {
      shopId: shop.shopId,
      from: shop.sourceConnectionId,
      to: outlet.connectionId,
      eventId,
      receivedAt,
      writtenAt: new Date(receivedAt.getTime() + ms),
    });
  // Sync latency for the Sync health chart: writes to the outlet over the last 8 hours.
  for (let i = 0; i < 48; i++) {
    const receivedAt = new Date(now - (8 * 3_600_000 * i) / 48);
    await toOutlet(
      `shot-latency-${i}`,
      receivedAt,
      300 + ((i * 137) % 900) + (i % 11 === 0 ? 1_400 : 0),
    );
  }
  // Order history for Recommended buffers: a week of steady sales on both stores, and a flash
  // sale on the outlet in the last ten minutes (30 black tees M, 12 grey hoodies).
  const sold = (connectionId: string, sku: string, count: number, spanMs: number, tag: string) =>
    addOrderHistory(prisma, shop, {
      connectionId,
      sku,
      count,
      spanMs,
      end: new Date(now - 60_000),
      idPrefix: `shot-${tag}`,
    });
  for (const sku of skus) {
    await sold(shop.sourceConnectionId, sku, 40, 7 * 24 * 3_600_000, "week-source");
    await sold(outlet.connectionId, sku, 25, 7 * 24 * 3_600_000, "week-outlet");
  }
  await sold(outlet.connectionId, "TEE-BLK-M", 30, 10 * 60_000, "flash");
  await sold(outlet.connectionId, "HOODIE-GRY-M", 12, 8 * 60_000, "flash");
  // A cycle count open at the main warehouse, two SKUs counted so far.
  const started = await startCount({
    shopDomain: SHOP,
    actor: "staff@aurora.example",
    start: { intent: "start", locationId: shop.locationIds[0]!, scope: "all" },
  });
  if (!started.ok) throw new Error("the screenshot count did not start");
  countId = started.countId;
  for (const [sku, counted] of [
    ["TEE-BLK-S", 8],
    ["CAP-NAVY", 19],
  ] as const) {
    await prisma.cycleCountLine.updateMany({
      where: { countId: BigInt(countId), sku },
      data: { counted, countedAt: new Date(), countedBy: "staff@aurora.example" },
    });
  }
  // A burst two hours ago: six orders waiting for the outlet at once (the pending writes chart).
  for (let i = 0; i < 6; i++) {
    await toOutlet(`shot-burst-${i}`, new Date(now - 2 * 3_600_000 + i * 150), 4_000 - i * 100);
  }
  const fresh = await seedShop(prisma, { domain: FRESH, locations: 0 });
  await prisma.shop.update({
    where: { id: fresh.shopId },
    data: { name: "Borealis Goods", syncEnabled: false },
  });
  await prisma.importRun.create({
    data: {
      shopId: fresh.shopId,
      connectionId: fresh.sourceConnectionId,
      status: "running",
      imported: 1_250,
      startedAt: new Date(now - 40_000),
    },
  });
  for (const [i, line] of [
    { order: "#1042", sku: "TEE-WHT-S", qty: 1, ref: "gid://shopify/ProductVariant/90001" },
    { order: "#1043", sku: "GIFTCARD-25", qty: 2, ref: "gid://shopify/ProductVariant/90002" },
    { order: "#1047", sku: null, qty: 1, ref: "gid://shopify/ProductVariant/90003" },
  ].entries()) {
    await prisma.unmatchedLine.create({
      data: {
        shopId: shop.shopId,
        connectionId: i === 1 ? amazon.id : outlet.connectionId,
        orderId: line.order,
        lineId: String(i + 1),
        sku: line.sku,
        remoteRef: line.ref,
        quantity: line.qty,
        firstSeenAt: new Date(now - (i + 1) * 3_600_000),
        lastSeenAt: new Date(now - (i + 1) * 600_000),
      },
    });
  }
}

async function main(): Promise<void> {
  await ensureTemplate();
  if (!ensureBuild(ROOT, (line) => console.error(line))) throw new Error("remix vite:build failed");
  const admin = await startAdmin({ shops: [SHOP, FRESH], seed });
  const written: string[] = [];
  const timings: string[] = [];
  const serverTimes: string[] = [];
  try {
    const { page } = admin;
    const teeM = shop.itemIds.get("TEE-BLK-M")!;
    const shots: {
      name: string;
      path: string;
      shop?: string;
      /** The status the page answers with (a 404 page is still a page). */
      status?: number;
      prepare?: () => Promise<void>;
    }[] = [
      { name: "overview", path: "/app" },
      { name: "overview-importing", path: "/app", shop: FRESH },
      { name: "channels-new-store", path: "/app/channels", shop: FRESH },
      {
        name: "channels",
        path: "/app/channels",
        prepare: async () => {
          await page.getByRole("button", { name: "Create link code" }).click();
          await page.locator('[data-testid="link-code"] [data-code]').waitFor();
        },
      },
      { name: "unmatched", path: "/app/unmatched" },
      {
        name: "unmatched-picker",
        path: "/app/unmatched",
        prepare: async () => {
          await page.getByRole("button", { name: /Map TEE-WHT-S/ }).click();
          await page.getByRole("dialog").getByText("TEE-BLK-S").waitFor();
          await page
            .getByRole("dialog")
            .getByText(/^TEE-BLK-S/)
            .click();
        },
      },
      { name: "bundles", path: "/app/bundles" },
      { name: "settings", path: "/app/settings" },
      { name: "inventory", path: "/app/inventory" },
      { name: "inventory-low-stock", path: "/app/inventory?filter=low&sort=ats" },
      {
        name: "inventory-bulk-buffer",
        path: "/app/inventory",
        prepare: async () => {
          for (const sku of ["TEE-BLK-S", "TEE-BLK-M", "TEE-BLK-L"])
            await page.getByRole("row").filter({ hasText: sku }).getByRole("checkbox").check();
          await page.getByRole("button", { name: "Set buffer…" }).click();
          const dialog = page.getByRole("dialog");
          await dialog.getByLabel("Channel").selectOption({ label: "aurora-outlet" });
          await dialog.getByLabel("Units held back").fill("2");
          await dialog.getByTestId("rule-preview").waitFor();
        },
      },
      { name: "item", path: `/app/inventory/${teeM}` },
      {
        name: "item-adjust-preview",
        path: `/app/inventory/${teeM}`,
        prepare: async () => {
          await page.getByLabel("Change (units)").fill("-3");
          await page.getByLabel("Reason").fill("damaged in storage");
          await page.getByRole("button", { name: "Preview change" }).click();
          await page.getByTestId("preview-adjust").waitFor();
          await page.getByTestId("preview-adjust").scrollIntoViewIfNeeded();
        },
      },
      {
        name: "item-adjust-confirm",
        path: `/app/inventory/${teeM}`,
        prepare: async () => {
          await page.getByLabel("Change (units)").fill("-3");
          await page.getByLabel("Reason").fill("damaged in storage");
          await page.getByRole("button", { name: "Preview change" }).click();
          await page.getByTestId("preview-adjust").waitFor();
          await page.getByRole("button", { name: "Apply adjustment" }).click();
          await page.getByRole("button", { name: "Yes, apply" }).waitFor();
        },
      },
      { name: "rules", path: "/app/rules" },
      {
        name: "rules-edit",
        path: "/app/rules",
        prepare: async () => {
          await page
            .getByRole("button", { name: /Edit rule/ })
            .first()
            .click();
          const editor = page.getByTestId("rule-editor");
          await editor.getByLabel("Channel").selectOption({ label: "aurora-outlet" });
          await editor.getByRole("spinbutton").fill("3");
          await page.getByTestId("rule-preview").first().waitFor();
        },
      },
      {
        name: "rules-delete-confirm",
        path: "/app/rules",
        prepare: async () => {
          await page
            .getByRole("button", { name: /Delete rule/ })
            .first()
            .click();
          await page.getByRole("dialog").getByTestId("rule-preview").waitFor();
        },
      },
      { name: "recommendations", path: "/app/recommendations" },
      { name: "risks", path: "/app/risks" },
      { name: "counts", path: "/app/counts" },
      { name: "count-open", path: `/app/counts/${countId}` },
      { name: "incidents", path: "/app/incidents" },
      { name: "health", path: "/app/health" },
      { name: "not-found", path: `/app/inventory/${randomUUID()}`, status: 404 },
    ];
    for (const viewport of WIDTHS) {
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      for (const shot of shots) {
        const started = performance.now();
        try {
          if (shot.status) {
            const response = await page.goto(
              admin.embeddedUrl(shot.path, { shop: shot.shop ?? SHOP }),
              {
                waitUntil: "networkidle",
              },
            );
            if (response?.status() !== shot.status)
              throw new Error(
                `GET ${shot.path} answered ${response?.status()}, not ${shot.status}`,
              );
            await page.waitForFunction(() => "__remixRouter" in window);
          } else {
            await admin.open(shot.path, { shop: shot.shop ?? SHOP });
          }
          const total = Math.round(performance.now() - started);
          // The browser's own navigation timing (no network-idle wait): HTML received,
          // DOMContentLoaded, load event.
          const nav = await page.evaluate(() => {
            const entry = performance.getEntriesByType("navigation")[0] as
              PerformanceNavigationTiming | undefined;
            return entry
              ? [entry.responseEnd, entry.domContentLoadedEventEnd, entry.loadEventEnd].map(
                  Math.round,
                )
              : null;
          });
          timings.push(
            `${shot.name} (${viewport.name}): ${total} ms` +
              (nav ? ` (HTML ${nav[0]} ms, DOMContentLoaded ${nav[1]} ms, load ${nav[2]} ms)` : ""),
          );
          await shot.prepare?.();
          // Let Polaris settle (modals animate in).
          await page.waitForTimeout(400);
          written.push(await admin.screenshot(`${shot.name}-${viewport.name}`, OUT));
        } catch (error) {
          throw new Error(
            `${shot.name} (${viewport.name}) failed: ${String(error)}\npage errors:\n${admin.pageErrors.join("\n")}`,
          );
        }
      }
    }
    // Server time per page: the document (HTML) fetched from inside the app, median of 3.
    await admin.open("/app");
    for (const shot of shots) {
      if (shot.shop || shot.prepare) continue;
      const url = admin.embeddedUrl(shot.path, { shop: SHOP });
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        times.push(
          await page.evaluate(async (u) => {
            const started = performance.now();
            const response = await fetch(u);
            await response.text();
            return performance.now() - started;
          }, url),
        );
      }
      times.sort((a, b) => a - b);
      serverTimes.push(`${shot.name}: ${Math.round(times[1]!)} ms`);
    }
  } finally {
    await admin.close();
  }
  for (const file of written) console.log(path.relative(ROOT, file));
  console.log("\nserver time per page (HTML document, median of 3):");
  for (const line of serverTimes) console.log(`  ${line}`);
  console.log(
    "\npage load in Chromium (document request until hydrated and 500 ms of network idle; in brackets the browser's navigation timing):",
  );
  for (const line of timings) console.log(`  ${line}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
