import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addSalesConnection, seedShop } from "../factories/shop";
import { startAdmin, type AdminHarness } from "./harness";

/**
 * The demo's way into the admin: `/sandbox/admin` signs in like the Shopify admin would, App
 * Bridge comes from the app's own `/sandbox/app-bridge.js`, and session tokens from
 * `/sandbox/id-token` — and none of that exists unless the sandbox is switched on.
 */
const SHOP = "demo-shell.myshopify.com";
let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdmin({
    shops: [SHOP],
    env: { STOCKGUARD_SANDBOX: "1", SHOPIFY_ADMIN_API_ORIGIN: "http://127.0.0.1:9" },
    tokenBinding: false,
    seed: async (prisma) => {
      const shop = await seedShop(prisma, { domain: SHOP, items: [{ sku: "DEMO-1", onHand: 9 }] });
      await addSalesConnection(prisma, shop, { name: "Second store" });
    },
  });
}, 300_000);

afterAll(async () => admin?.close());

describe("the sandbox shell", () => {
  it("signs in through /sandbox/admin and navigates with its own App Bridge", async () => {
    const { page } = admin;
    await page.goto(`${admin.baseUrl}/sandbox/admin?shop=${SHOP}`);
    await page.getByText("StockGuard (sandbox)").waitFor();
    await expect(page.getByText("Second store").first().isVisible()).resolves.toBe(true);
    await page.getByRole("link", { name: "Inventory" }).first().click();
    await page.getByText("DEMO-1").first().waitFor();
    expect(page.url()).toContain("/app/inventory");
    // Nothing was fetched from outside the app (App Bridge is the sandbox's own).
    expect(admin.blocked).toEqual([]);
  });

  it("serves a headless browser (the app library answers bots with 410 outside the sandbox)", async () => {
    const headless =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
    const response = await fetch(admin.embeddedUrl("/app/inventory", { shop: SHOP }), {
      headers: { "user-agent": headless },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("DEMO-1");
  });

  it("refuses unknown shops and malformed domains", async () => {
    expect(
      (
        await fetch(`${admin.baseUrl}/sandbox/admin?shop=nobody.myshopify.com`, {
          redirect: "manual",
        })
      ).status,
    ).toBe(404);
    expect((await fetch(`${admin.baseUrl}/sandbox/id-token?shop=not-a-shop`)).status).toBe(400);
  });
});
