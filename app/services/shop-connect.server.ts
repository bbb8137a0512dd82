import { Session } from "@shopify/shopify-api";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import { z } from "zod";
import { ShopifyAdminClient } from "../channels/shopify/client.server";
import { SHOP_INFO } from "../channels/shopify/operations";
import prisma from "../db.server";
import { env } from "../env.server";
import { recordInstall } from "./shops.server";

export const ZShopDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, "must be a *.myshopify.com domain");

type ShopInfo = {
  shop: { name: string; myshopifyDomain: string };
  currentAppInstallation: { accessScopes: { handle: string }[] } | null;
};

/** Session id the Shopify library uses for a shop's offline (app-level) token. */
export function offlineSessionId(shop: string): string {
  return `offline_${shop}`;
}

/**
 * `shop:connect`: register a store with an Admin API access token (custom-app or self-hosted
 * install). The token is checked against the Admin API first, then stored as the shop's offline
 * session exactly where OAuth would store it, so web and workers use it the same way.
 */
export async function connectShopWithToken(input: { shop: string; token: string }) {
  const shop = ZShopDomain.parse(input.shop);
  const token = z.string().trim().min(1, "token is required").parse(input.token);
  const client = new ShopifyAdminClient({
    shop,
    accessToken: token,
    origin: env().SHOPIFY_ADMIN_API_ORIGIN,
  });
  const { data } = await client.request<ShopInfo>(SHOP_INFO);
  const scopes = data.currentAppInstallation?.accessScopes.map((s) => s.handle) ?? [];

  const storage = new PrismaSessionStorage(prisma, {
    connectionRetries: 1,
    connectionRetryIntervalMs: 100,
  });
  const session = new Session({
    id: offlineSessionId(shop),
    shop,
    state: "",
    isOnline: false,
    accessToken: token,
    scope: scopes.join(","),
  });
  await storage.storeSession(session);
  const installed = await recordInstall({ domain: shop, name: data.shop.name });
  return { shop, name: data.shop.name, scopes, ...installed };
}

/** `shop:connect` as the CLI runs it: connect, then import the catalog and source quantities. */
export async function connectShopAndImport(input: { shop: string; token: string }) {
  const connected = await connectShopWithToken(input);
  const { loadConnection } = await import("../repositories/push.server");
  const { db } = await import("../lib/sql.server");
  const { importCatalog } = await import("./catalog/import-catalog.server");
  const { shopifyAdapter, toContext, forgetToken } = await import("./channels.server");
  const { enqueuePush, enqueueSafely } = await import("../queues/jobs.server");
  forgetToken(connected.sourceConnectionId);
  const row = await loadConnection(db(), connected.sourceConnectionId);
  const summary = await importCatalog(toContext(row!), shopifyAdapter());
  await enqueueSafely("push", () => enqueuePush(connected.sourceConnectionId, 0));
  return { ...connected, import: summary };
}
