/**
 * The admin product block: its data route answers only with the admin's ID token (a bearer JWT
 * signed with the app secret), and per variant reports what each channel shows, what StockGuard
 * publishes, the buffer in force with its scope, the last write and open incidents; the block's
 * view turns that into the lines it shows (extensions/stockguard-product-block/src/view.ts).
 */
import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { adapterFor } from "../../app/channels/registry.server";
import { action, loader } from "../../app/routes/extensions.product-stock";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { productStock, type ProductStock } from "../../app/services/flow/product-block.server";
import { pushConnection } from "../../app/services/push/push-connection.server";
import { createRule } from "../../app/services/rules.server";
import { blockView } from "../../extensions/stockguard-product-block/src/view";
import { connectSalesStore, installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

const SOURCE = "block-source.myshopify.com";
const OTHER = "block-other.myshopify.com";
let local: LocalShopify;
let shopId: string;
let otherId: string;
let productGid: string;

beforeAll(async () => {
  local = await startLocalStores([
    {
      domain: SOURCE,
      products: [
        {
          title: "Tee",
          variants: [
            { sku: "TEE-S", title: "S", inventory: { Warehouse: 10 } },
            { sku: "TEE-M", title: "M", inventory: { Warehouse: 4 } },
            { sku: "", title: "L", inventory: { Warehouse: 1 } },
          ],
        },
      ],
    },
    {
      domain: OTHER,
      products: [
        {
          title: "Tee",
          variants: [
            { sku: "TEE-S", inventory: { Warehouse: 10 } },
            { sku: "TEE-M", inventory: { Warehouse: 4 } },
          ],
        },
      ],
    },
  ]);
  const installed = await installSource(SOURCE, "token-0");
  shopId = installed.shopId;
  const other = await connectSalesStore(shopId, OTHER, "token-1");
  otherId = other.id;
  await importCatalog(installed.source, adapterFor("shopify"));
  await importCatalog(other, adapterFor("shopify"));
  await createRule(shopId, {
    connectionId: otherId,
    sku: "TEE-S",
    kind: "reserve_units",
    value: 3,
  });
  await createRule(shopId, { kind: "max_shown", value: 50 });
  await pushConnection(otherId);
  const product = [...local.sandbox.shop(SOURCE).products.values()][0]!;
  productGid = `gid://shopify/Product/${product.id}`;
});

afterAll(async () => {
  await local?.close();
});

function idToken(shop: string, secret = process.env.SHOPIFY_API_SECRET!): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ alg: "HS256", typ: "JWT" });
  const payload = encode({
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: process.env.SHOPIFY_API_KEY,
    sub: "1",
    exp: now + 60,
    nbf: now - 5,
    iat: now - 5,
    jti: randomUUID(),
    sid: randomUUID(),
  });
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

async function get(query: string, token: string | null) {
  const request = new Request(`https://stockguard.test/extensions/product-stock?${query}`, {
    headers: {
      Origin: "https://admin.shopify.com",
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
  });
  try {
    return await loader({ request, params: {}, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

describe("the block's data route", () => {
  it("refuses a request without a valid ID token", async () => {
    const anonymous = await get(`product=${encodeURIComponent(productGid)}`, null);
    expect(anonymous.status).toBeGreaterThanOrEqual(300);
    expect(anonymous.headers.get("content-type") ?? "").not.toMatch(/json/);
    const forged = await get(`product=${encodeURIComponent(productGid)}`, idToken(SOURCE, "x"));
    expect(forged.status).toBe(401);
  });

  it("answers the product's stock to the store's admin, with CORS", async () => {
    const response = await get(`product=${encodeURIComponent(productGid)}`, idToken(SOURCE));
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const body = (await response.json()) as ProductStock;
    expect(body.variants.map((v) => v.sku)).toEqual(["TEE-S", "TEE-M"]);
    const bad = await get("product=42", idToken(SOURCE));
    expect(bad.status).toBe(400);
  });
});

describe("the block's preflight", () => {
  it("answers the admin's CORS preflight (OPTIONS) without a token", async () => {
    const request = new Request("https://stockguard.test/extensions/product-stock?product=x", {
      method: "OPTIONS",
      headers: {
        Origin: "https://admin.shopify.com",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    let response: Response;
    try {
      response = await action({ request, params: {}, context: {} });
    } catch (thrown) {
      if (!(thrown instanceof Response)) throw thrown;
      response = thrown;
    }
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-headers") ?? "").toMatch(/authorization/i);
  });
});

describe("the block's data", () => {
  it("per variant: ATS, each channel's shown and published quantity, buffers with scope, last write", async () => {
    const data = await productStock(SOURCE, productGid);
    expect(data.untracked).toHaveLength(1);
    const small = data.variants.find((v) => v.sku === "TEE-S")!;
    expect(small).toMatchObject({ title: "Tee - S", availableToSell: 10, openIncidents: 0 });
    expect(small.appPath).toMatch(/^\/app\/inventory\/[0-9a-f-]{36}$/);
    const other = small.channels.find((c) => c.channel === "Other")!;
    expect(other).toMatchObject({ publishes: 7, shows: 7, pending: false, status: "active" });
    expect(other.lastWrite).not.toBeNull();
    expect(other.buffers).toEqual([
      { kind: "reserve_units", value: 3, scope: "this SKU on this channel" },
      { kind: "max_shown", value: 50, scope: "every SKU on every channel" },
    ]);
    const medium = data.variants.find((v) => v.sku === "TEE-M")!;
    expect(medium.channels.find((c) => c.channel === "Other")!.buffers).toEqual([
      { kind: "max_shown", value: 50, scope: "every SKU on every channel" },
    ]);
  });

  it("the view: one line per channel, its state, buffer and last write; incidents flagged", async () => {
    const data = await productStock(SOURCE, productGid);
    // The other store is edited by hand and a confirmed incident is open for TEE-M.
    const small = data.variants.find((v) => v.sku === "TEE-S")!;
    small.channels.find((c) => c.channel === "Other")!.shows = 9;
    data.variants.find((v) => v.sku === "TEE-M")!.openIncidents = 2;
    const now =
      Date.parse(small.channels.find((c) => c.channel === "Other")!.lastWrite!) + 5 * 60_000;
    const view = blockView(data, now);
    expect(view.state).toBe("ready");
    if (view.state !== "ready") return;
    expect(view.variants[0]).toMatchObject({
      heading: "Tee - S · TEE-S",
      ats: "10 available to sell",
      incidents: null,
      link: small.appPath.replace(/^/, "app:"),
    });
    expect(view.variants[0]!.channels.find((c) => c.channel === "Other")).toEqual({
      channel: "Other",
      shows: "9",
      tone: "critical",
      note: "should show 7",
      buffer:
        "holds back 3 (this SKU on this channel); shows at most 50 (every SKU on every channel)",
      lastWrite: "written 5 min ago",
    });
    expect(view.variants[1]!.incidents).toEqual({ label: "2 open incidents", tone: "critical" });
    expect(view.footnote).toBe("1 variant is not tracked by StockGuard.");
    expect(blockView({ product: productGid, variants: [], untracked: ["x"] }, now).state).toBe(
      "empty",
    );
  });

  it("counts confirmed, unresolved incidents only", async () => {
    const item = await prisma.stockItem.findFirstOrThrow({ where: { shopId, sku: "TEE-M" } });
    const base = {
      shopId,
      itemId: item.id,
      sku: "TEE-M",
      movementId: 1n,
      shortfall: 1,
      atsBefore: 0,
      atsAfter: -1,
      snapshot: [],
    };
    await prisma.$executeRaw`INSERT INTO oversell_incident (shop_id, item_id, sku, movement_id, shortfall, ats_before, ats_after, snapshot, status)
      VALUES (${base.shopId}::uuid, ${base.itemId}::uuid, ${base.sku}, 1, 1, 0, -1, '[]'::jsonb, 'confirmed'),
             (${base.shopId}::uuid, ${base.itemId}::uuid, ${base.sku}, 2, 1, 0, -1, '[]'::jsonb, 'explained')`;
    const data = await productStock(SOURCE, productGid);
    expect(data.variants.find((v) => v.sku === "TEE-M")!.openIncidents).toBe(1);
  });
});
