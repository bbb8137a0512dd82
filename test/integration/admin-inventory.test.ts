/**
 * Inventory at scale (issue 17): the list's filters (channel shows another number, write
 * pending, low stock, on no sales channel), its order by ATS with numbered pages, and the CSV
 * export of the same selection, with spreadsheet formulas defused. Against Postgres, through the
 * admin services the routes call.
 */
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import * as exportRoute from "../../app/routes/app.inventory.export";
import { mintSessionToken } from "../../app/sandbox/session-token.server";
import { exportInventoryCsv, listInventory } from "../../app/services/admin/inventory.server";
import { republishShop } from "../../app/services/ledger/republish.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";

let shop: SeededShop;

const skus = (page: { items: { sku: string }[] }) => page.items.map((i) => i.sku);

beforeAll(async () => {
  shop = await seedShop(prisma, {
    items: [
      { sku: "A-PLENTY", onHand: 50 },
      { sku: "B-LOW", onHand: 3 },
      { sku: "C-OUT", onHand: 0 },
      { sku: "D-MID", onHand: 9, safetyStock: 2 },
      { sku: "E-SOLO", onHand: 4 },
    ],
  });
  await prisma.stockItem.update({
    where: { id: shop.itemIds.get("A-PLENTY")! },
    data: { title: '=HYPERLINK("http://evil.example","click")' },
  });
  // The outlet sells every item but E-SOLO.
  await addSalesConnection(prisma, shop, {
    name: "Outlet",
    listings: ["A-PLENTY", "B-LOW", "C-OUT", "D-MID"].map((sku) => ({ sku })),
  });
  await republishShop(shop.shopId);
  // Everything pushed and seen, except: the outlet shows 9 of A-PLENTY (drift), and D-MID's
  // listings wait for a write.
  await prisma.$executeRaw`
    UPDATE listing SET pushed_version = published_version, pushed_quantity = published_quantity,
           remote_quantity = published_quantity, dirty_since = NULL
     WHERE shop_id = ${shop.shopId}::uuid`;
  const outlet = await prisma.listing.findFirstOrThrow({
    where: { shopId: shop.shopId, sku: "A-PLENTY", connection: { role: "sales" } },
  });
  await prisma.listing.update({ where: { id: outlet.id }, data: { remoteQuantity: 9 } });
  await prisma.listing.updateMany({
    where: { shopId: shop.shopId, sku: "D-MID" },
    data: { publishedVersion: { increment: 1 } },
  });
});

describe("inventory filters", () => {
  const list = (
    options: Parameters<typeof listInventory>[0] extends infer T ? Partial<T> : never,
  ) => listInventory({ shopDomain: shop.domain, ...options });

  it("narrows to what needs a look, each on its own", async () => {
    expect(skus(await list({ filter: "mismatch" }))).toEqual(["A-PLENTY"]);
    expect(skus(await list({ filter: "pending" }))).toEqual(["D-MID"]);
    // ATS 5 or less: B-LOW 3, C-OUT 0, E-SOLO 4 (D-MID: 9 − 2 safety = 7).
    expect(skus(await list({ filter: "low" }))).toEqual(["B-LOW", "C-OUT", "E-SOLO"]);
    expect(skus(await list({ filter: "unlisted" }))).toEqual(["E-SOLO"]);
    const all = await list({});
    expect(all.total).toBe(5);
    expect(skus(all)).toEqual(["A-PLENTY", "B-LOW", "C-OUT", "D-MID", "E-SOLO"]);
  });

  it("combines a filter with the search", async () => {
    const page = await list({ filter: "low", query: "out" });
    expect(skus(page)).toEqual(["C-OUT"]);
    expect(page.total).toBe(1);
  });

  it("orders by ATS in numbered pages", async () => {
    const first = await list({ sort: "ats", pageSize: 2 });
    expect(skus(first)).toEqual(["C-OUT", "B-LOW"]);
    expect(first.pageInfo).toMatchObject({ page: 1, hasPrevious: false, hasNext: true });
    const last = await list({ sort: "ats", pageSize: 2, page: 3 });
    expect(skus(last)).toEqual(["A-PLENTY"]);
    expect(last.pageInfo).toMatchObject({ page: 3, hasPrevious: true, hasNext: false });
    // A page past the end shows the last one rather than nothing.
    expect((await list({ sort: "ats_desc", pageSize: 2, page: 99 })).pageInfo.page).toBe(3);
    expect(skus(await list({ sort: "ats_desc", pageSize: 2 }))).toEqual(["A-PLENTY", "D-MID"]);
  });
});

describe("CSV export", () => {
  it("writes the selection with balances and per-channel numbers, formulas defused", async () => {
    const { csv, rows, truncated } = await exportInventoryCsv({ shopDomain: shop.domain });
    expect(rows).toBe(5);
    expect(truncated).toBe(false);
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      `sku,title,on_hand,committed,held,damaged,safety_stock,available_to_sell,${shop.domain} published,${shop.domain} shows,Outlet published,Outlet shows`,
    );
    // A title that starts with "=" is text in a spreadsheet, quoted because of its commas.
    expect(lines[1]).toBe(
      `A-PLENTY,"'=HYPERLINK(""http://evil.example"",""click"")",50,0,0,0,0,50,50,50,50,9`,
    );
    expect(lines.find((l) => l.startsWith("E-SOLO,"))).toBe("E-SOLO,,4,0,0,0,0,4,4,4,,");
  });

  it("answers the route with a download, and a bad filter with a readable 400", async () => {
    const request = (query: string) =>
      new Request(`https://stockguard.test/app/inventory/export?${query}`, {
        headers: {
          Authorization: `Bearer ${mintSessionToken({
            shop: shop.domain,
            apiKey: process.env.SHOPIFY_API_KEY!,
            apiSecret: process.env.SHOPIFY_API_SECRET!,
          })}`,
        },
      });
    await prisma.session.upsert({
      where: { id: `offline_${shop.domain}` },
      update: {},
      create: {
        id: `offline_${shop.domain}`,
        shop: shop.domain,
        state: "",
        isOnline: false,
        scope: process.env.SCOPES,
        accessToken: "shpat_test",
      },
    });
    const ok = (await exportRoute.loader({
      request: request("filter=low&sort=ats"),
      params: {},
      context: {},
    })) as Response;
    expect(ok.status).toBe(200);
    expect(ok.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(ok.headers.get("Content-Disposition")).toMatch(
      /^attachment; filename="stockguard-inventory-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const body = (await ok.text())
      .replace(/^\uFEFF/, "")
      .trimEnd()
      .split("\r\n");
    expect(body.slice(1).map((l) => l.split(",")[0])).toEqual(["C-OUT", "B-LOW", "E-SOLO"]);

    const bad = (await exportRoute.loader({
      request: request("filter=everything"),
      params: {},
      context: {},
    })) as Response;
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe("Unknown filter: choose one from the list");
  });
});
