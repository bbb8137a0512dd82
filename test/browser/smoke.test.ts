import { afterAll, beforeAll, expect, test } from "vitest";
import { addSalesConnection, seedShop } from "../factories/shop";
import { startAdmin, type AdminHarness } from "./harness";

let admin: AdminHarness;
beforeAll(async () => {
  admin = await startAdmin({
    shop: "smoke-shop.myshopify.com",
    seed: async (prisma) => {
      const shop = await seedShop(prisma, {
        domain: "smoke-shop.myshopify.com",
        items: [{ sku: "A", onHand: 3 }],
      });
      await addSalesConnection(prisma, shop, { name: "outlet" });
    },
  });
}, 300_000);
afterAll(async () => admin?.close());

test("overview", async () => {
  await admin.open("/app");
  await admin.screenshot("smoke");
  console.log(await admin.page.locator("body").innerText());
  console.log(admin.blocked, admin.pageErrors);
  expect(await admin.page.locator("body").innerText()).toContain("Test shop");
});
