/**
 * The merchant-path pages (Overview set-up, Channels, Unmatched lines, Bundles, Settings) answer
 * every bad input with a 4xx and a message a merchant can read — never a 500 — and change
 * nothing: malformed forms, ids of another shop, expired, used and foreign link codes, a store
 * linking itself, a domain that is not *.myshopify.com. The loaders and actions are called as
 * Remix calls them, with a session-token request (as the embedded admin sends it).
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import * as overview from "../../app/routes/app._index";
import * as bundles from "../../app/routes/app.bundles";
import * as channels from "../../app/routes/app.channels";
import * as settings from "../../app/routes/app.settings";
import * as unmatched from "../../app/routes/app.unmatched";
import { mintSessionToken } from "../../app/sandbox/session-token.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";

type Answer = { status: number; body: Record<string, unknown> | string };
type Handler = (args: {
  request: Request;
  params: Record<string, string>;
  context: Record<string, unknown>;
}) => Promise<unknown>;

async function answer(handler: Handler, request: Request): Promise<Answer> {
  let result: unknown;
  try {
    result = await handler({ request, params: {}, context: {} });
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown;
    result = thrown;
  }
  if (result instanceof Response) return { status: result.status, body: await result.text() };
  if (result && typeof result === "object" && "init" in result && "data" in result) {
    const withInit = result as { init: { status?: number } | null; data: Record<string, unknown> };
    return { status: withInit.init?.status ?? 200, body: withInit.data };
  }
  return { status: 200, body: result as Record<string, unknown> };
}

let shop: SeededShop;
let other: SeededShop;
let outletId: string;
let otherOutletId: string;

function request(path: string, form?: Record<string, string>, domain = shop.domain): Request {
  const token = mintSessionToken({
    shop: domain,
    apiKey: process.env.SHOPIFY_API_KEY!,
    apiSecret: process.env.SHOPIFY_API_SECRET!,
  });
  return new Request(`https://stockguard.test${path}`, {
    method: form ? "POST" : "GET",
    headers: { Authorization: `Bearer ${token}` },
    body: form ? new URLSearchParams(form) : undefined,
  });
}

/** Everything these actions could change. */
async function state() {
  const [shops, connections, codes, components, lines, mappings] = await Promise.all([
    prisma.shop.findMany({
      orderBy: { domain: "asc" },
      select: { domain: true, syncEnabled: true, linkedToShopId: true, holdsReleasedAt: true },
    }),
    prisma.connection.findMany({
      orderBy: { id: "asc" },
      select: { id: true, status: true, statusReason: true, credentials: true },
    }),
    prisma.linkCode.findMany({ orderBy: { codeHash: "asc" } }),
    prisma.listingComponent.findMany({ orderBy: [{ listingId: "asc" }, { itemId: "asc" }] }),
    prisma.unmatchedLine.findMany({ orderBy: { id: "asc" }, select: { resolvedAt: true } }),
    prisma.lineMapping.count(),
  ]);
  return { shops, connections, codes, components, lines, mappings };
}

async function refused(status: number, call: () => Promise<Answer>): Promise<Answer> {
  const before = await state();
  const result = await call();
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(await state()).toEqual(before);
  return result;
}

const fieldErrors = (a: Answer) =>
  (a.body as { fieldErrors?: Record<string, string> }).fieldErrors ?? {};
const formError = (a: Answer) => (a.body as { formError?: string }).formError;

function expectReadable(message: string | undefined) {
  expect(message).toBeTruthy();
  expect(message).not.toMatch(
    /Invalid (option|input|string|discriminator)|expected one of|\/\^|Prisma|uuid|SQL/i,
  );
}

const codeHash = (code: string) =>
  createHash("sha256").update(code.replace(/[\s-]/g, "").toUpperCase()).digest("hex");

const post = (action: Handler, path: string, form: Record<string, string>, domain?: string) =>
  answer(action, request(path, form, domain));

beforeAll(async () => {
  shop = await seedShop(prisma, {
    domain: "merchant-input.myshopify.com",
    items: [
      { sku: "A-1", onHand: 5 },
      { sku: "B-1", onHand: 4 },
    ],
  });
  other = await seedShop(prisma, {
    domain: "other-input.myshopify.com",
    items: [{ sku: "Z-1", onHand: 1 }],
  });
  outletId = (await addSalesConnection(prisma, shop, { name: "outlet" })).connectionId;
  otherOutletId = (await addSalesConnection(prisma, other, { name: "other-outlet" })).connectionId;
  for (const domain of [shop.domain, other.domain]) {
    await prisma.session.create({
      data: {
        id: `offline_${domain}`,
        shop: domain,
        state: "",
        isOnline: false,
        scope: process.env.SCOPES,
        accessToken: "shpat_test",
      },
    });
  }
  await prisma.unmatchedLine.create({
    data: {
      shopId: shop.shopId,
      connectionId: outletId,
      orderId: "9001",
      lineId: "1",
      sku: "MYSTERY",
      quantity: 1,
    },
  });
});

describe("Channels", () => {
  it("refuses malformed forms with field messages (400)", async () => {
    const token = await refused(400, () =>
      post(channels.action, "/app/channels", {
        intent: "connect-token",
        store: "not-a-store.example.com",
        token: "",
        webhookSecret: " ",
      }),
    );
    expect(Object.keys(fieldErrors(token)).sort()).toEqual(["store", "token", "webhookSecret"]);
    for (const message of Object.values(fieldErrors(token))) expectReadable(message);

    const code = await refused(400, () =>
      post(channels.action, "/app/channels", { intent: "enter-link-code", code: "hello" }),
    );
    expect(fieldErrors(code).code).toBe("A link code looks like ABCD-2345");
    const stale = await refused(400, () =>
      post(channels.action, "/app/channels", { intent: "explode" }),
    );
    expectReadable(formError(stale));
    const badId = await refused(400, () =>
      post(channels.action, "/app/channels", { intent: "pause", connectionId: "1; DROP TABLE" }),
    );
    expectReadable(formError(badId));
  });

  it("refuses another shop's channel (422) and the source's disconnection", async () => {
    const foreign = await refused(422, () =>
      post(channels.action, "/app/channels", { intent: "disconnect", connectionId: otherOutletId }),
    );
    expect(formError(foreign)).toBe("Unknown channel for this shop");
    const source = await refused(422, () =>
      post(channels.action, "/app/channels", {
        intent: "disconnect",
        connectionId: shop.sourceConnectionId,
      }),
    );
    expect(formError(source)).toMatch(/source store cannot be disconnected/);
  });

  it("refuses expired, used, unknown and self-issued link codes, leaving codes as they were", async () => {
    const expired = "ABCD-2345";
    const used = "EFGH-6789";
    const own = "JKLM-2345";
    await prisma.linkCode.createMany({
      data: [
        {
          codeHash: codeHash(expired),
          shopId: shop.shopId,
          expiresAt: new Date(Date.now() - 1_000),
        },
        {
          codeHash: codeHash(used),
          shopId: shop.shopId,
          expiresAt: new Date(Date.now() + 600_000),
          usedAt: new Date(),
          usedBy: "someone.myshopify.com",
        },
        {
          codeHash: codeHash(own),
          shopId: other.shopId,
          expiresAt: new Date(Date.now() + 600_000),
        },
      ],
    });
    for (const code of [expired, used, "NPQR-7777"]) {
      const result = await refused(422, () =>
        post(channels.action, "/app/channels", { intent: "enter-link-code", code }, other.domain),
      );
      expect(formError(result)).toMatch(/unknown, already used or expired/);
    }
    // The other shop enters its own code: refused before the code is used.
    const self = await refused(422, () =>
      post(
        channels.action,
        "/app/channels",
        { intent: "enter-link-code", code: own },
        other.domain,
      ),
    );
    expect(formError(self)).toBe("A store cannot be a sales channel of itself");
    // A shop with sales channels of its own cannot become another store's channel.
    const hub = await refused(422, () =>
      post(channels.action, "/app/channels", { intent: "enter-link-code", code: own }, shop.domain),
    );
    expect(formError(hub)).toMatch(/has sales channels of its own \(outlet\)/);
    const code = await prisma.linkCode.findUniqueOrThrow({ where: { codeHash: codeHash(own) } });
    expect(code.usedAt).toBeNull();
  });

  it("refuses to connect the shop itself by token (422)", async () => {
    const self = await refused(422, () =>
      post(channels.action, "/app/channels", {
        intent: "connect-token",
        store: shop.domain,
        token: "shpat_x",
        webhookSecret: "secret",
      }),
    );
    expect(formError(self)).toBe("A store cannot be a sales channel of itself");
    const installed = await refused(422, () =>
      post(channels.action, "/app/channels", {
        intent: "connect-token",
        store: other.domain,
        token: "shpat_x",
        webhookSecret: "secret",
      }),
    );
    expect(formError(installed)).toMatch(/has installed StockGuard: link it with a link code/);
  });
});

describe("Channels: disconnecting a linked store", () => {
  it("frees the store: it is its own hub again (sync still off), and can be linked again", async () => {
    const linked = await seedShop(prisma, { domain: "linked-input.myshopify.com" });
    await prisma.shop.update({
      where: { id: linked.shopId },
      data: { linkedToShopId: shop.shopId, syncEnabled: false },
    });
    await prisma.connection.update({
      where: { id: linked.sourceConnectionId },
      data: { status: "disconnected", statusReason: "linked as a sales channel of another store" },
    });
    const channel = await prisma.connection.create({
      data: {
        shopId: shop.shopId,
        kind: "shopify",
        role: "sales",
        name: "linked-input",
        accountRef: linked.domain,
      },
    });
    const result = await post(channels.action, "/app/channels", {
      intent: "disconnect",
      connectionId: channel.id,
    });
    expect(result.status).toBe(200);
    expect((result.body as { message: string }).message).toBe("linked-input disconnected");
    const store = await prisma.shop.findUniqueOrThrow({ where: { id: linked.shopId } });
    expect(store.linkedToShopId).toBeNull();
    expect(store.syncEnabled).toBe(false);
    const source = await prisma.connection.findUniqueOrThrow({
      where: { id: linked.sourceConnectionId },
    });
    expect(source.status).toBe("active");
    expect((await prisma.connection.findUniqueOrThrow({ where: { id: channel.id } })).status).toBe(
      "disconnected",
    );
  });
});

describe("Overview, Unmatched lines, Bundles, Settings", () => {
  it("refuses a retry of another shop's import (404) and an unknown intent (400)", async () => {
    const foreign = await refused(404, () =>
      post(overview.action, "/app?index", { intent: "retry-import", connectionId: otherOutletId }),
    );
    expectReadable(formError(foreign));
    await refused(400, () => post(overview.action, "/app?index", { intent: "start-everything" }));
  });

  it("refuses mapping to a malformed, unknown or foreign item or line", async () => {
    const line = await prisma.unmatchedLine.findFirstOrThrow();
    const noItem = await refused(400, () =>
      post(unmatched.action, "/app/unmatched", {
        intent: "map",
        unmatchedId: String(line.id),
        itemId: "",
      }),
    );
    expect(fieldErrors(noItem).itemId).toBe("Choose the stock item this line sells");
    const foreignItem = await refused(404, () =>
      post(unmatched.action, "/app/unmatched", {
        intent: "map",
        unmatchedId: String(line.id),
        itemId: other.itemIds.get("Z-1")!,
      }),
    );
    expectReadable(fieldErrors(foreignItem).itemId);
    const unknownLine = await refused(422, () =>
      post(unmatched.action, "/app/unmatched", {
        intent: "map",
        unmatchedId: "987654321",
        itemId: shop.itemIds.get("A-1")!,
      }),
    );
    expect(formError(unknownLine)).toBe("Unknown unmatched line");
    const otherShopsLine = await refused(422, () =>
      post(
        unmatched.action,
        "/app/unmatched",
        { intent: "map", unmatchedId: String(line.id), itemId: other.itemIds.get("Z-1")! },
        other.domain,
      ),
    );
    expect(formError(otherShopsLine)).toBe("Unknown unmatched line");
  });

  it("lists only the shop's own unmatched lines and items", async () => {
    const page = await answer(
      unmatched.loader,
      request("/app/unmatched?pick=1&q=z", undefined, other.domain),
    );
    expect(page.status).toBe(200);
    const body = page.body as { lines: unknown[]; choices: { sku: string }[] };
    expect(body.lines).toEqual([]);
    expect(body.choices.map((c) => c.sku)).toEqual(["Z-1"]);
  });

  it("refuses bundles with missing, malformed or unknown parts", async () => {
    const empty = await refused(400, () =>
      post(bundles.action, "/app/bundles", { intent: "save", connectionId: outletId, sku: "" }),
    );
    expect(fieldErrors(empty).sku).toBe("Enter the listing's SKU on that channel");
    const noComponent = await refused(400, () =>
      post(bundles.action, "/app/bundles", { intent: "save", connectionId: outletId, sku: "A-1" }),
    );
    expect(fieldErrors(noComponent)["components.0.sku"]).toBe(
      "A bundle has at least one component",
    );
    const units = await refused(400, () =>
      post(bundles.action, "/app/bundles", {
        intent: "save",
        connectionId: outletId,
        sku: "A-1",
        "components.0.sku": "A-1",
        "components.0.units": "1.5",
      }),
    );
    expectReadable(fieldErrors(units)["components.0.units"]);
    const unknown = await refused(422, () =>
      post(bundles.action, "/app/bundles", {
        intent: "save",
        connectionId: outletId,
        sku: "A-1",
        "components.0.sku": "NOPE",
        "components.0.units": "2",
      }),
    );
    expect(formError(unknown)).toBe("Unknown SKU(s): NOPE");
    const noListing = await refused(422, () =>
      post(bundles.action, "/app/bundles", {
        intent: "save",
        connectionId: otherOutletId,
        sku: "A-1",
        "components.0.sku": "A-1",
        "components.0.units": "2",
      }),
    );
    expect(fieldErrors(noListing).sku).toBe("No listing with this SKU on that channel");
  });

  it("saves a multipack and answers what it publishes", async () => {
    const saved = await post(bundles.action, "/app/bundles", {
      intent: "save",
      connectionId: outletId,
      sku: "B-1",
      "components.0.sku": "B-1",
      "components.0.units": "2",
      "components.1.sku": "",
      "components.1.units": "1",
    });
    expect(saved.status).toBe(200);
    expect((saved.body as { message: string }).message).toBe("B-1 saved: publishes 2");
    const page = await answer(bundles.loader, request("/app/bundles"));
    const list = (page.body as { bundles: { sku: string; publishedQuantity: number }[] }).bundles;
    expect(list.map((b) => [b.sku, b.publishedQuantity])).toEqual([["B-1", 2]]);
  });

  it("refuses an unknown settings intent (400)", async () => {
    const result = await refused(400, () =>
      post(settings.action, "/app/settings", { intent: "uninstall" }),
    );
    expectReadable(formError(result));
  });
});
