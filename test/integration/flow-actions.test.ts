/**
 * Shopify Flow actions through their routes, with requests signed the way Flow signs them
 * (base64 HMAC-SHA256 of the raw body under the app's client secret in X-Shopify-Hmac-Sha256):
 * each applies once per action_run_id, a forged, tampered or replayed request changes nothing,
 * and invalid properties are answered with a 4xx JSON message naming the field.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { action as pauseAction } from "../../app/routes/flow.actions.pause-channel";
import { action as bufferAction } from "../../app/routes/flow.actions.set-buffer";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { adapterFor } from "../../app/channels/registry.server";
import { createRule } from "../../app/services/rules.server";
import { connectSalesStore, installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

const SOURCE = "flow-actions.myshopify.com";
const OTHER = "flow-actions-other.myshopify.com";
const SECRET = process.env.SHOPIFY_API_SECRET!;
let local: LocalShopify;
let shopId: string;
let otherId: string;

beforeAll(async () => {
  local = await startLocalStores(
    [SOURCE, OTHER].map((domain) => ({
      domain,
      products: [
        {
          title: "Tee",
          variants: [
            { sku: "TEE-S", inventory: { Warehouse: 10 } },
            { sku: "TEE-M", inventory: { Warehouse: 10 } },
          ],
        },
        { title: "Mug", variants: [{ sku: "MUG", inventory: { Warehouse: 5 } }] },
      ],
    })),
  );
  const installed = await installSource(SOURCE, "token-0");
  shopId = installed.shopId;
  const other = await connectSalesStore(shopId, OTHER, "token-1");
  otherId = other.id;
  await importCatalog(installed.source, adapterFor("shopify"));
  await importCatalog(other, adapterFor("shopify"));
});

afterAll(async () => {
  await local?.close();
});

/** The built app behind Express, as `npm run start` serves it (raw body, routing, status codes). */
async function startBuiltApp(): Promise<{ url: string; close: () => Promise<void> }> {
  const build = (await import(
    /* @vite-ignore */ path.join(process.cwd(), "build/server/index.js")
  )) as ServerBuild;
  const app = express();
  app.all("*", createRequestHandler({ build, mode: "production" }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type Handle = "set-stockguard-buffer" | "pause-channel-sync";

function body(handle: Handle, properties: Record<string, unknown>, runId = randomUUID()) {
  return JSON.stringify({
    shop_id: 1,
    shopify_domain: SOURCE,
    action_run_id: runId,
    action_definition_id: handle,
    handle,
    properties,
  });
}

const sign = (raw: string, secret = SECRET) =>
  createHmac("sha256", secret).update(raw, "utf8").digest("base64");

async function call(handle: Handle, raw: string, signature: string | null = sign(raw)) {
  const url =
    handle === "set-stockguard-buffer"
      ? "https://stockguard.test/flow/actions/set-buffer"
      : "https://stockguard.test/flow/actions/pause-channel";
  const request = new Request(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(signature === null ? {} : { "X-Shopify-Hmac-Sha256": signature }),
    },
    body: raw,
  });
  const route = handle === "set-stockguard-buffer" ? bufferAction : pauseAction;
  const response = await route({ request, params: {}, context: {} });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const rules = () =>
  prisma.bufferRule.findMany({ where: { shopId }, orderBy: [{ sku: "asc" }, { kind: "asc" }] });

function variantNumber(sku: string): number {
  return [...local.sandbox.shop(SOURCE).variants.values()].find((v) => v.sku === sku)!.id;
}
function productNumber(sku: string): number {
  return [...local.sandbox.shop(SOURCE).variants.values()].find((v) => v.sku === sku)!.productId;
}

describe("Set StockGuard buffer", () => {
  it("refuses a request without a valid signature and changes nothing", async () => {
    const raw = body("set-stockguard-buffer", { sku: "MUG", kind: "reserve_units", value: 2 });
    expect((await call("set-stockguard-buffer", raw, null)).status).toBe(401);
    expect((await call("set-stockguard-buffer", raw, sign(raw, "not-the-secret"))).status).toBe(
      401,
    );
    // A signed body with one property changed (tampered in transit).
    const tampered = raw.replace('"value":2', '"value":200');
    expect((await call("set-stockguard-buffer", tampered, sign(raw))).status).toBe(401);
    expect(await rules()).toEqual([]);
    expect(await prisma.flowActionRun.count()).toBe(0);
  });

  it("applies a SKU rule on a channel once; a replay of the same run changes nothing", async () => {
    const raw = body("set-stockguard-buffer", {
      sku: "mug",
      channel: "other",
      kind: "reserve_units",
      value: 2,
    });
    const first = await call("set-stockguard-buffer", raw);
    expect(first).toEqual({
      status: 200,
      json: { status: "applied", skus: ["MUG"], channel: "Other", kind: "reserve_units", value: 2 },
    });
    expect((await rules()).map((r) => [r.sku, r.connectionId, r.kind, r.value])).toEqual([
      ["MUG", otherId, "reserve_units", 2],
    ]);
    // The merchant changes the rule in StockGuard; Flow (or anyone) sends the same run again.
    await createRule(
      shopId,
      { connectionId: otherId, sku: "MUG", kind: "reserve_units", value: 5 },
      { replace: true },
    );
    const replay = await call("set-stockguard-buffer", raw);
    expect(replay.status).toBe(200);
    expect(replay.json).toMatchObject({ status: "applied", replayed: true });
    expect((await rules()).map((r) => r.value)).toEqual([5]);
    // The same run id with another body is refused.
    const other = raw.replace('"value":2', '"value":9');
    expect((await call("set-stockguard-buffer", other)).status).toBe(409);
    expect((await rules()).map((r) => r.value)).toEqual([5]);
  });

  it("applies to a variant (numeric id) and to every variant of a product", async () => {
    const byVariant = await call(
      "set-stockguard-buffer",
      body("set-stockguard-buffer", {
        variant_id: String(variantNumber("TEE-S")),
        kind: "max_shown",
        value: 4,
      }),
    );
    expect(byVariant.json).toMatchObject({ skus: ["TEE-S"], channel: "all channels" });
    const byProduct = await call(
      "set-stockguard-buffer",
      body("set-stockguard-buffer", {
        product_id: `gid://shopify/Product/${productNumber("TEE-M")}`,
        kind: "zero_at_or_below",
        value: 1,
      }),
    );
    expect(byProduct.json).toMatchObject({ skus: ["TEE-M", "TEE-S"] });
    const tee = (await rules()).filter((r) => r.sku?.startsWith("TEE"));
    expect(tee.map((r) => [r.sku, r.kind, r.value])).toEqual([
      ["TEE-M", "zero_at_or_below", 1],
      ["TEE-S", "max_shown", 4],
      ["TEE-S", "zero_at_or_below", 1],
    ]);
  });

  it("answers invalid properties with 4xx and a message naming the field, changing nothing", async () => {
    const before = await rules();
    const badKind = await call(
      "set-stockguard-buffer",
      body("set-stockguard-buffer", { sku: "MUG", kind: "half", value: 1 }),
    );
    expect(badKind.status).toBe(400);
    expect(badKind.json.errors).toEqual([
      { field: "properties.kind", message: expect.stringContaining("reserve_units") },
    ]);
    const badValue = await call(
      "set-stockguard-buffer",
      body("set-stockguard-buffer", { sku: "MUG", kind: "percent_of_ats", value: 150 }),
    );
    expect(badValue.status).toBe(422);
    expect(badValue.json.message).toMatch(/percent/);
    const unknownChannel = await call(
      "set-stockguard-buffer",
      body("set-stockguard-buffer", { sku: "MUG", channel: "eBay", kind: "max_shown", value: 1 }),
    );
    expect(unknownChannel).toMatchObject({
      status: 400,
      json: { message: 'no channel named "eBay"' },
    });
    const unknownSku = await call(
      "set-stockguard-buffer",
      body("set-stockguard-buffer", { sku: "NOPE", kind: "max_shown", value: 1 }),
    );
    expect(unknownSku.status).toBe(422);
    const nothing = await call(
      "set-stockguard-buffer",
      body("set-stockguard-buffer", { kind: "max_shown", value: 1 }),
    );
    expect(nothing.status).toBe(400);
    expect(await rules()).toEqual(before);
  });

  it("refuses a shop that has not installed StockGuard and a request for another action", async () => {
    const raw = body("set-stockguard-buffer", { sku: "MUG", kind: "max_shown", value: 1 }).replace(
      SOURCE,
      "someone-else.myshopify.com",
    );
    expect((await call("set-stockguard-buffer", raw)).status).toBe(404);
    const wrongHandle = body("pause-channel-sync", { channel: "Other" });
    expect((await call("set-stockguard-buffer", wrongHandle)).status).toBe(400);
  });
});

describe("Pause channel sync", () => {
  it("pauses the channel with Flow's reason, once", async () => {
    const raw = body("pause-channel-sync", { channel: OTHER, reason: "flash sale" });
    const first = await call("pause-channel-sync", raw);
    expect(first).toEqual({
      status: 200,
      json: { status: "applied", channel: "Other", reason: "paused by Shopify Flow: flash sale" },
    });
    const row = await prisma.connection.findUniqueOrThrow({ where: { id: otherId } });
    expect([row.status, row.statusReason]).toEqual([
      "paused",
      "paused by Shopify Flow: flash sale",
    ]);
    // The merchant resumes it; the same run arriving again does not pause it a second time.
    await prisma.connection.update({ where: { id: otherId }, data: { status: "active" } });
    expect((await call("pause-channel-sync", raw)).json).toMatchObject({ replayed: true });
    expect((await prisma.connection.findUniqueOrThrow({ where: { id: otherId } })).status).toBe(
      "active",
    );
  });

  it("requires a channel", async () => {
    const response = await call("pause-channel-sync", body("pause-channel-sync", { channel: " " }));
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([{ field: "properties.channel", message: "is required" }]);
  });
});

describe("over HTTP, through the built app", () => {
  it("routes runtime_url paths, verifies the exact bytes sent, and answers JSON", async () => {
    const web = await startBuiltApp();
    try {
      // Key order and spacing as Flow may send them: the signature is over these bytes.
      const raw = `{ "handle": "pause-channel-sync", "shopify_domain": "${SOURCE}",
        "action_run_id": "${randomUUID()}", "properties": { "channel": "Other" } }`;
      const post = (signature: string) =>
        fetch(`${web.url}/flow/actions/pause-channel`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Shopify-Hmac-Sha256": signature },
          body: raw,
        });
      const forged = await post(sign(raw, "wrong"));
      expect(forged.status).toBe(401);
      expect(await forged.json()).toEqual({
        message: "invalid or missing X-Shopify-Hmac-Sha256 signature",
      });
      const signed = await post(sign(raw));
      expect(signed.status).toBe(200);
      expect(await signed.json()).toMatchObject({ status: "applied", channel: "Other" });
      const get = await fetch(`${web.url}/flow/actions/set-buffer`);
      expect(get.status).toBe(405);
    } finally {
      await web.close();
    }
  });
});
