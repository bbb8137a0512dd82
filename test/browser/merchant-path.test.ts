import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { unexpectedPageErrors, waitForToast as waitForToastOn } from "./harness";
import {
  LINKED,
  levelOf,
  READ_ONLY_TOKEN,
  shown,
  SOURCE,
  startMerchantWorld,
  TOKEN_STORE,
  TOKEN_STORE_ONLY_SKU,
  TOKEN_STORE_SECRET,
  TOKEN_STORE_TOKEN,
  type MerchantWorld,
} from "./merchant-world";

/**
 * Issue 12's "Done when": the whole path as a merchant, in Chromium, against the real web and
 * worker processes and the local Shopify — install the source by token exchange → import
 * progress → link a second store by link code → connect a third by token (the app creates its
 * subscriptions) → preview → start sync → a sale on each store reaches the others → pause → a
 * sale is recorded but not written → resume → it is written → release holds → the source's
 * `reserved` / `safety_stock` hold none of StockGuard's units. Along the way every refusal the
 * issue lists is tried in the admin and leaves nothing changed. The tests run in order and share
 * the world.
 */
const SKUS = 300;
const STOCK = 10;

let world: MerchantWorld;
let page: Page;
const timings: Record<string, number> = {};
let started = 0;

async function open(shop: string, pathname: string): Promise<void> {
  await world.admin.open(pathname, { shop });
}

const waitForToast = (message: string) => waitForToastOn(page, message, 60_000);

async function confirmDialog(button: string): Promise<void> {
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: button, exact: true }).click();
}

async function connectionId(account: string): Promise<string> {
  const row = await world.admin.prisma.connection.findFirstOrThrow({
    where: { accountRef: account, role: "sales", shop: { domain: SOURCE } },
    select: { id: true },
  });
  return row.id;
}

/**
 * Listings whose store does not show what StockGuard publishes (or that wait for a write). The
 * source store shows `available`; the ledger keeps the rest in the states StockGuard owns.
 */
async function mismatches(): Promise<string[]> {
  const listings = await world.admin.prisma.listing.findMany({
    where: { status: "active", connection: { status: "active", shop: { domain: SOURCE } } },
    select: {
      sku: true,
      publishedQuantity: true,
      publishedVersion: true,
      pushedVersion: true,
      connection: { select: { accountRef: true } },
    },
  });
  const out: string[] = [];
  for (const l of listings) {
    const store = l.connection.accountRef;
    const shows = Math.max(0, shown(world.shopify, store, l.sku!));
    if (shows !== l.publishedQuantity || l.publishedVersion > l.pushedVersion)
      out.push(`${store} ${l.sku}: shows ${shows}, published ${l.publishedQuantity}`);
  }
  return out;
}

async function settled(timeout = 60_000): Promise<void> {
  await expect.poll(mismatches, { timeout, interval: 250 }).toEqual([]);
}

/** Each store's `available` for `sku`. */
function shownEverywhere(sku: string): Record<string, number> {
  return Object.fromEntries(
    [SOURCE, LINKED, TOKEN_STORE].map((s) => [s, shown(world.shopify, s, sku)]),
  );
}

/** The Overview's sync badge: "on" or "paused". */
async function syncState(): Promise<string | null> {
  return page.getByTestId("sync-state").getAttribute("data-sync");
}

function mark(step: string): void {
  timings[step] = Date.now() - started;
}

beforeAll(async () => {
  started = Date.now();
  world = await startMerchantWorld({
    skus: SKUS,
    stock: STOCK,
    // Amazon is configured (its consent page is real); eBay is not (a clear refusal).
    env: {
      AMAZON_LWA_CLIENT_ID: "amzn1.application-oa2-client.browser-test",
      AMAZON_LWA_CLIENT_SECRET: "browser-test-lwa-secret",
      AMAZON_APPLICATION_ID: "amzn1.sp.solution.browser-test",
    },
  });
  page = world.admin.page;
  mark("world up");
}, 300_000);

afterAll(async () => {
  console.log(`merchant path timings (ms since start): ${JSON.stringify(timings)}`);
  await world?.close();
}, 120_000);

describe("the merchant's path, from the embedded admin", () => {
  test("install by token exchange: the catalog import starts and its progress shows", async () => {
    // Nothing exists yet: no shop, no session, no catalog.
    expect(await world.admin.prisma.shop.count()).toBe(0);
    expect(await world.admin.prisma.session.count()).toBe(0);
    // The merchant installs StockGuard (Shopify's managed install), then opens it: the admin
    // loads /app with a session token, which the app exchanges for an offline token.
    world.shopify.sandbox.installApp(SOURCE);
    // A slow Admin API for a moment, so the import's progress is there to be seen.
    world.shopify.sandbox.shop(SOURCE).faults.setLatency(500, 500);
    await open(SOURCE, "/app");

    const tokenRequests = world.shopify.sandbox.shop(SOURCE).tokenRequestLog;
    expect(tokenRequests.some((r) => r.status === 200)).toBe(true);
    const session = await world.admin.prisma.session.findFirstOrThrow({ where: { shop: SOURCE } });
    expect(session.isOnline).toBe(false);
    const shop = await world.admin.prisma.shop.findUniqueOrThrow({ where: { domain: SOURCE } });
    expect(shop.syncEnabled).toBe(false); // an install from Shopify waits for the merchant

    const progress = page.locator('[data-step="import"] [data-testid="import-progress"]');
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          const text = await progress.innerText().catch(() => "");
          seen.add(text);
          return text;
        },
        { timeout: 90_000, interval: 100 },
      )
      .toBe(`${SKUS} variants imported, 0 issues`);
    world.shopify.sandbox.shop(SOURCE).faults.setLatency(0, 0);
    // Live progress: the page showed the import while it ran, revalidated by polling.
    expect([...seen].some((t) => /^Importing: \d+ variants? read/.test(t))).toBe(true);
    await page.locator('[data-location="Warehouse"]').waitFor();
    expect(await page.locator('[data-location="Warehouse"]').innerText()).toContain(
      `${SKUS * STOCK} units on hand across ${SKUS} SKUs`,
    );
    expect(await syncState()).toBe("paused");
    expect(await page.locator("body").innerText()).not.toContain("npm run cli");
    await world.admin.screenshot("merchant-overview-imported");
    mark("source installed and imported");
  });

  let code = "";

  test("link a second store with a one-time code (bad codes refused, nothing changed)", async () => {
    await open(SOURCE, "/app/channels");
    await page.getByRole("button", { name: "Create link code" }).click();
    const shownCode = page.locator('[data-testid="link-code"] [data-code]');
    await shownCode.waitFor();
    code = (await shownCode.innerText()).trim();
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect(await page.getByTestId("link-code").innerText()).toMatch(/expires \d{4}-\d\d-\d\d/);

    // The source enters its own code: refused, and the code stays usable.
    const form = page.getByTestId("enter-code-form");
    await form.getByLabel("Link code").fill(code);
    await form.getByRole("button", { name: "Link this store" }).click();
    await page.getByText("A store cannot be a sales channel of itself").waitFor();

    // The other store installs StockGuard and opens it: it is a shop of its own, not syncing.
    world.shopify.sandbox.installApp(LINKED);
    await open(LINKED, "/app/channels");
    const linkedForm = page.getByTestId("enter-code-form");
    await linkedForm.getByLabel("Link code").fill("12");
    await linkedForm.getByRole("button", { name: "Link this store" }).click();
    await page.getByText("A link code looks like ABCD-2345").waitFor();
    await linkedForm.getByLabel("Link code").fill("ZZZZ-9999");
    await linkedForm.getByRole("button", { name: "Link this store" }).click();
    await page.getByText(/This link code is unknown, already used or expired/).waitFor();
    expect(
      await world.admin.prisma.connection.count({ where: { accountRef: LINKED, role: "sales" } }),
    ).toBe(0);

    await linkedForm.getByLabel("Link code").fill(code.toLowerCase());
    await linkedForm.getByRole("button", { name: "Link this store" }).click();
    await waitForToast(`this store now sells ${SOURCE}'s stock`);
    await page.getByText(`This store sells ${SOURCE}'s stock`).first().waitFor();
    const linked = await world.admin.prisma.shop.findUniqueOrThrow({ where: { domain: LINKED } });
    expect(linked.linkedToShopId).not.toBeNull();
    // No credentials of its own: StockGuard writes with the store's own install.
    const connection = await world.admin.prisma.connection.findFirstOrThrow({
      where: { accountRef: LINKED, role: "sales" },
    });
    expect(connection.credentials).toBeNull();
    expect(connection.status).toBe("active");
    // Its webhooks are the app's toml ones (installed store), none created through the API.
    expect(world.shopify.sandbox.webhookSubscriptions(LINKED)).toEqual([]);

    // The code was used once, by that store; the source no longer offers to enter one (it has
    // a sales channel now, so it cannot become another store's channel).
    const used = await world.admin.prisma.linkCode.findMany();
    expect(used.map((c) => c.usedBy)).toEqual([LINKED]);
    await open(SOURCE, "/app/channels");
    expect(await page.getByTestId("enter-code-form").count()).toBe(0);
    await page.getByRole("row").filter({ hasText: "linked install" }).waitFor();
    await world.admin.screenshot("merchant-channels-linked");
    mark("second store linked");
  });

  test("connect a third store by token: refusals first, then the app subscribes it", async () => {
    await open(SOURCE, "/app/channels");
    const form = page.getByTestId("token-form");
    // Missing fields and a domain that is not *.myshopify.com: field messages, nothing stored.
    await form.getByLabel("Store domain").fill("store-c.example.com");
    await form.getByRole("button", { name: "Connect store" }).click();
    await page.getByText("Enter the store's myshopify.com domain").waitFor();
    expect(await page.getByText("The Admin API access token is required").count()).toBe(1);
    expect(await page.getByText("The webhook signing secret is required").count()).toBe(1);

    // A token without the scopes StockGuard needs.
    await form.getByLabel("Store domain").fill(`https://${TOKEN_STORE}/admin`);
    await form.getByLabel("Admin API access token").fill(READ_ONLY_TOKEN);
    await form.getByLabel("Webhook signing secret").fill("shpss_read_only");
    await form.getByRole("button", { name: "Connect store" }).click();
    await page.getByText(/lacks the scopes StockGuard needs: .*write_inventory/).waitFor();
    // A store that installed StockGuard is linked, not connected with a token.
    await form.getByLabel("Store domain").fill(LINKED);
    await form.getByLabel("Admin API access token").fill("shpat_whatever");
    await form.getByLabel("Webhook signing secret").fill("whatever");
    await form.getByRole("button", { name: "Connect store" }).click();
    await page.getByText(/has installed StockGuard: link it with a link code/).waitFor();
    expect(await world.admin.prisma.connection.count({ where: { accountRef: TOKEN_STORE } })).toBe(
      0,
    );
    expect(world.shopify.sandbox.webhookSubscriptions(TOKEN_STORE)).toEqual([]);

    await form.getByLabel("Store domain").fill(TOKEN_STORE);
    await form.getByLabel("Admin API access token").fill(TOKEN_STORE_TOKEN);
    await form.getByLabel("Webhook signing secret").fill(TOKEN_STORE_SECRET);
    await form.getByRole("button", { name: "Connect store" }).click();
    await waitForToast(`${TOKEN_STORE} connected: ${SKUS} listings matched by SKU`);
    const row = page.getByRole("row").filter({ hasText: TOKEN_STORE });
    expect(await row.innerText()).toContain("Admin API token");

    // The app created the store's subscriptions itself, with the store's custom app.
    const subscriptions = world.shopify.sandbox.webhookSubscriptions(TOKEN_STORE);
    const topics = subscriptions.map((s) => s.topic).sort();
    expect(topics).toEqual(
      [
        "fulfillments/create",
        "fulfillments/update",
        "inventory_items/create",
        "inventory_items/delete",
        "inventory_levels/update",
        "orders/cancelled",
        "orders/create",
        "orders/edited",
        "orders/updated",
        "products/update",
        "refunds/create",
      ].sort(),
    );
    for (const s of subscriptions) {
      expect(s.address.startsWith(world.admin.baseUrl)).toBe(true);
      expect(s.owner).toMatch(/^custom:/);
    }
    // The stores that installed the app got no API subscriptions (their webhooks are the toml's).
    expect(world.shopify.sandbox.webhookSubscriptions(SOURCE)).toEqual([]);
    mark("third store connected");
  });

  test("a default buffer and the preview of the first sync, before any write", async () => {
    await open(SOURCE, "/app/rules");
    const rule = page.getByTestId("rule-form");
    await rule.getByLabel("Units held back").fill("1");
    await rule.getByRole("button", { name: "Add rule" }).click();
    await waitForToast("Rule created");

    const writesBefore = [LINKED, TOKEN_STORE, SOURCE].map(
      (s) => world.shopify.sandbox.shop(s).mutationLog.length,
    );
    await open(SOURCE, "/app");
    await page.locator('[data-step="buffer"][data-state="done"]').waitFor();
    expect(await page.locator('[data-step="buffer"]').innerText()).toContain("Hold back 1 unit");
    expect(await page.locator('[data-step="channels"]').innerText()).toContain(
      "2 sales channels connected",
    );
    const changes = async (name: string) =>
      Number(
        await page
          .locator(`[data-preview-channel="${name}"] [data-testid="preview-changes"]`)
          .innerText(),
      );
    // Both other stores show 0 of everything; StockGuard would publish 10 − 1 buffer = 9.
    await expect.poll(() => changes("store-b")).toBe(SKUS);
    expect(await changes("store-c")).toBe(SKUS);
    // The source shows 10 available and would show 9 (one unit into safety stock).
    expect(await changes(SOURCE)).toBe(SKUS);
    const first = page.getByRole("row").filter({ hasText: "store-b" }).first();
    expect(await first.innerText()).toMatch(/SKU-00000[\s\S]*\b0\b[\s\S]*\b9\b[\s\S]*\+9/);
    expect(await page.locator('[data-step="preview"]').innerText()).toContain(
      `and ${3 * SKUS - 50} more listings`,
    );
    await world.admin.screenshot("merchant-overview-preview");
    // The preview wrote nothing anywhere.
    expect(
      [LINKED, TOKEN_STORE, SOURCE].map((s) => world.shopify.sandbox.shop(s).mutationLog.length),
    ).toEqual(writesBefore);
    mark("preview shown");
  });

  test("start sync: every store shows what StockGuard publishes", async () => {
    await open(SOURCE, "/app");
    await page.locator('[data-step="start"]').getByRole("button", { name: "Start sync" }).click();
    await waitForToast("Sync started");
    await expect.poll(syncState).toBe("on");
    await settled();
    expect(shownEverywhere("SKU-00000")).toEqual({ [SOURCE]: 9, [LINKED]: 9, [TOKEN_STORE]: 9 });
    expect(levelOf(world.shopify, SOURCE, "SKU-00000").safety_stock).toBe(1);
    // Sync on: the checklist has made way for the Pause button.
    expect(await page.locator('[data-step="start"]').count()).toBe(0);
    mark("first sync written");
  });

  test("a sale on each store reaches the other two", async () => {
    const sales: [string, string, number][] = [
      [SOURCE, "SKU-00001", 2],
      [LINKED, "SKU-00002", 1],
      [TOKEN_STORE, "SKU-00003", 3],
    ];
    for (const [store, sku, quantity] of sales) {
      const before = shownEverywhere(sku);
      const sold = Date.now();
      world.shopify.sandbox.checkout(store, { lines: [{ sku, quantity }] });
      const expected = Object.fromEntries(
        Object.entries(before).map(([s, q]) => [s, q - quantity]),
      );
      await expect
        .poll(() => shownEverywhere(sku), { timeout: 30_000, interval: 100 })
        .toEqual(expected);
      timings[`sale on ${store.split(".")[0]} reflected everywhere (ms)`] = Date.now() - sold;
    }
    await settled();
    // Sales elsewhere are held on the source as `reserved`, its storefront offers the rest.
    expect(levelOf(world.shopify, SOURCE, "SKU-00002").reserved).toBe(1);
    expect(levelOf(world.shopify, SOURCE, "SKU-00003").reserved).toBe(3);
    mark("sales reflected");
  });

  test("pause: a sale is recorded but not written; resume: it is written", async () => {
    await settled();
    await open(SOURCE, "/app");
    await page.getByRole("button", { name: "Pause sync" }).click();
    await confirmDialog("Pause sync");
    await waitForToast("Sync paused");
    await expect.poll(syncState).toBe("paused");
    const writes = () =>
      [SOURCE, TOKEN_STORE].map((s) => world.shopify.sandbox.shop(s).mutationLog.length);
    const writesAtPause = writes();

    const sku = "SKU-00010";
    const before = shownEverywhere(sku);
    const order = world.shopify.sandbox.checkout(LINKED, { lines: [{ sku, quantity: 3 }] });
    const orderId = String(order.id);
    const linkedId = await connectionId(LINKED);
    // Recorded: the receipt is applied and the ledger commits the units…
    await expect
      .poll(
        () =>
          world.admin.prisma.receipt.count({
            where: { connectionId: linkedId, resourceId: orderId, status: "applied" },
          }),
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);
    const line = await world.admin.prisma.orderLine.findFirstOrThrow({
      where: { connectionId: linkedId, orderId },
    });
    expect(line.committed).toBe(3);
    // …but nothing is written while paused.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(writes()).toEqual(writesAtPause);
    expect(shownEverywhere(sku)).toEqual({ ...before, [LINKED]: before[LINKED]! - 3 });
    await page.getByText(/^Nothing is written to any channel\. Orders/).waitFor();
    await world.admin.screenshot("merchant-overview-paused");

    await page.locator('[data-step="start"]').getByRole("button", { name: "Start sync" }).click();
    await waitForToast("Sync started");
    await expect
      .poll(() => shownEverywhere(sku), { timeout: 30_000, interval: 100 })
      .toEqual(Object.fromEntries(Object.entries(before).map(([s, q]) => [s, q - 3])));
    await settled();
    mark("pause and resume");
  });

  test("an unmatched line is mapped to an item and applied once; a multipack is defined", async () => {
    // The token store sells something the source has no SKU for.
    const order = world.shopify.sandbox.checkout(TOKEN_STORE, {
      lines: [{ sku: TOKEN_STORE_ONLY_SKU, quantity: 2 }],
    });
    const orderId = String(order.id);
    await expect
      .poll(() => world.admin.prisma.unmatchedLine.count({ where: { orderId } }), {
        timeout: 30_000,
      })
      .toBe(1);
    await open(SOURCE, "/app/unmatched");
    const row = page.getByRole("row").filter({ hasText: TOKEN_STORE_ONLY_SKU });
    await row.waitFor();
    expect(await row.innerText()).toContain(`order ${orderId}`);
    expect(await row.innerText()).toContain("store-c");
    await world.admin.screenshot("merchant-unmatched");
    const before = shownEverywhere("SKU-00020");
    await row.getByRole("button", { name: /Map .* to an item/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Search SKU or title").fill("SKU-00020");
    await dialog.getByText("SKU-00020 — Product 20").click();
    await dialog.getByRole("button", { name: "Map to item", exact: true }).click();
    await waitForToast("Line mapped to SKU-00020");
    await page.getByText("No unmatched order lines").waitFor();
    const lines = await world.admin.prisma.orderLine.findMany({
      where: { orderId, connectionId: await connectionId(TOKEN_STORE) },
    });
    expect(lines.map((l) => l.committed)).toEqual([2]);
    // The gift card sold on the token store was SKU-00020 all along: every store now offers 2
    // fewer (the token store too: its SKU-00020 listing sells the same pool).
    await expect
      .poll(() => shownEverywhere("SKU-00020"), { timeout: 30_000 })
      .toEqual(Object.fromEntries(Object.entries(before).map(([s, q]) => [s, q - 2])));

    // A 2-pack: the token store's SKU-00030 listing sells two units of SKU-00030.
    await open(SOURCE, "/app/bundles");
    const form = page.getByTestId("bundle-form");
    await form.getByLabel("Channel").selectOption({ label: "store-c" });
    await form.getByLabel("Component 1 SKU").fill("SKU-00030");
    await form.getByRole("button", { name: "Save bundle" }).click();
    await page.getByText("Enter the listing's SKU on that channel").waitFor();
    await form.getByLabel("Listing SKU").fill("SKU-00030");
    await form.getByLabel("Component 2 SKU").fill("NO-SUCH-SKU");
    await form.getByRole("button", { name: "Save bundle" }).click();
    await page.getByText("Unknown SKU(s): NO-SUCH-SKU").waitFor();
    expect(await world.admin.prisma.listingComponent.count({ where: { quantity: 2 } })).toBe(0);
    await form.getByRole("button", { name: "Remove component 2" }).click();
    await form.getByLabel("Units").fill("2");
    await form.getByRole("button", { name: "Save bundle" }).click();
    await waitForToast("SKU-00030 saved: publishes");
    const published = Number((await page.getByTestId("bundle-saved").innerText()).split(" ").pop());
    // ATS 10 − 1 held back = 9 for the item; complete 2-packs of what is left.
    expect(published).toBeLessThan(9);
    const bundleRow = page.getByRole("row").filter({ hasText: "SKU-00030 × 2" });
    expect(await bundleRow.getByTestId("bundle-published").innerText()).toBe(String(published));
    await expect
      .poll(() => shown(world.shopify, TOKEN_STORE, "SKU-00030"), { timeout: 30_000 })
      .toBe(published);
    await world.admin.screenshot("merchant-bundles");
    mark("unmatched mapped, bundle defined");
  });

  test("per-channel pause and resume; marketplaces start their consent or say why not", async () => {
    await open(SOURCE, "/app/channels");
    const row = () => page.getByRole("row").filter({ hasText: TOKEN_STORE });
    await row().getByRole("button", { name: "Pause store-c" }).click();
    await confirmDialog("Pause channel");
    await waitForToast("store-c paused");
    await expect.poll(() => row().innerText()).toContain("paused by the merchant");
    await row().getByRole("button", { name: "Resume store-c" }).click();
    await waitForToast("store-c resumed");
    await expect
      .poll(() => row().locator("[data-channel-status]").getAttribute("data-channel-status"))
      .toBe("active");

    // Walmart keys: missing fields are named, nothing is called.
    const walmart = page.getByTestId("walmart-form");
    await walmart.getByRole("button", { name: "Connect Walmart" }).click();
    await page.getByText("Client ID is required").waitFor();
    // eBay is not configured on this server: a clear refusal.
    await page.getByRole("button", { name: "Connect eBay" }).click();
    await page.getByText(/eBay channel is not configured/).waitFor();
    // Amazon: the top window goes to Seller Central's consent page, with StockGuard's callback.
    const blockedBefore = world.admin.blocked.length;
    await page.getByRole("button", { name: "Connect Amazon" }).click();
    await expect
      .poll(
        () =>
          world.admin.blocked
            .slice(blockedBefore)
            .find((u) => u.includes("/apps/authorize/consent")),
        { timeout: 30_000 },
      )
      .toBeTruthy();
    const consent = new URL(
      world.admin.blocked.slice(blockedBefore).find((u) => u.includes("/apps/authorize/consent"))!,
    );
    expect(consent.searchParams.get("application_id")).toBe("amzn1.sp.solution.browser-test");
    expect(consent.searchParams.get("redirect_uri")).toBe(
      `${world.admin.baseUrl}/connect/amazon/callback`,
    );
    expect(consent.searchParams.get("state")).toBeTruthy();
    // The tab went to Seller Central (a stub page here; the real admin would show Amazon's).
    await expect.poll(() => page.url(), { timeout: 30_000 }).toContain("/apps/authorize/consent");
    mark("channel controls");
  });

  test("release holds: the source holds none of StockGuard's units, sync is paused", async () => {
    await settled();
    const held = () =>
      [...world.shopify.sandbox.shop(SOURCE).items.values()]
        .flatMap((item) => [...item.levels.values()])
        .reduce((sum, level) => sum + level.quantities.reserved + level.quantities.safety_stock, 0);
    expect(held()).toBeGreaterThan(SKUS); // 1 safety-stock unit per SKU, plus the reservations

    await open(SOURCE, "/app/settings");
    expect(await page.getByTestId("holds-summary").innerText()).toMatch(/holds \d+ reserved/);
    await world.admin.screenshot("merchant-settings");
    await page.getByRole("button", { name: "Release holds" }).click();
    await confirmDialog("Release holds and pause sync");
    await Promise.race([
      waitForToast("Released"),
      page
        .getByText("Not applied")
        .waitFor({ timeout: 60_000 })
        .then(async () => {
          throw new Error(
            `release refused: ${await page.locator("main, body").first().innerText()}`,
          );
        }),
    ]);
    const result = await page.getByTestId("release-result").innerText();
    expect(result).toMatch(/^Released \d+ units on \d+ inventory levels; sync is paused$/);
    expect(held()).toBe(0);
    for (const sku of ["SKU-00000", "SKU-00002", "SKU-00010"]) {
      const level = levelOf(world.shopify, SOURCE, sku);
      expect(level.reserved).toBe(0);
      expect(level.safety_stock).toBe(0);
    }
    // The storefront offers everything on hand that its own orders have not taken.
    expect(shown(world.shopify, SOURCE, "SKU-00000")).toBe(STOCK);
    await expect
      .poll(() => page.getByTestId("settings-sync-state").getAttribute("data-sync"))
      .toBe("paused");
    const shop = await world.admin.prisma.shop.findUniqueOrThrow({ where: { domain: SOURCE } });
    expect(shop.syncEnabled).toBe(false);
    expect(shop.holdsReleasedAt).not.toBeNull();
    // Paused means paused: nothing moves units back.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(held()).toBe(0);
    mark("holds released");
  });

  test("disconnect a channel: confirmed, credentials deleted, history kept", async () => {
    await open(SOURCE, "/app/channels");
    const row = page.getByRole("row").filter({ hasText: TOKEN_STORE });
    await row.getByRole("button", { name: "Disconnect store-c" }).click();
    await confirmDialog("Disconnect");
    await waitForToast("store-c disconnected");
    const connection = await world.admin.prisma.connection.findFirstOrThrow({
      where: { accountRef: TOKEN_STORE },
    });
    expect(connection.status).toBe("disconnected");
    expect(connection.credentials).toBeNull();
    // The subscriptions StockGuard created at that store went with it.
    expect(
      world.shopify.sandbox
        .webhookSubscriptions(TOKEN_STORE)
        .filter((s) => s.address.startsWith(world.admin.baseUrl)),
    ).toEqual([]);
    expect(
      await world.admin.prisma.orderLine.count({ where: { connectionId: connection.id } }),
    ).toBeGreaterThan(0);
    mark("disconnected");
  });

  test("no page errors, and nothing left the machine but App Bridge and the consent page", () => {
    const unexpected = unexpectedPageErrors(world.admin.pageErrors, [400, 404, 422]);
    expect(unexpected).toEqual([]);
    expect(
      world.admin.blocked.filter(
        (u) => !u.startsWith("https://cdn.shopify.com/") && !u.includes("/apps/authorize/consent"),
      ),
    ).toEqual([]);
  });
});
