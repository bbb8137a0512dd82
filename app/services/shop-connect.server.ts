/**
 * `shop:connect`: register a store with an Admin API access token (custom-app or self-hosted
 * install). The token is checked against the Admin API first, then stored (sealed) as the shop's
 * offline session exactly where OAuth would store it, so web and workers use it the same way;
 * then the catalog and the source quantities are imported.
 */
import { z } from "zod";
import { adapterFor } from "../channels/registry.server";
import { env } from "../env.server";
import { enqueuePush, enqueueSafely } from "../queues/jobs.server";
import { storeOfflineToken } from "../repositories/sessions.server";
import { importNow } from "./catalog/import-runs.server";
import { recordInstall } from "./shops.server";

export const ZShopDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, "must be a *.myshopify.com domain");

export async function connectShopWithToken(input: { shop: string; token: string }) {
  const shop = ZShopDomain.parse(input.shop);
  const token = z.string().trim().min(1, "token is required").parse(input.token);
  const adapter = adapterFor("shopify");
  const account = await adapter.describeAccount(
    { accountRef: shop, apiBaseUrl: env().SHOPIFY_ADMIN_API_ORIGIN ?? null },
    { accessToken: token },
  );
  await storeOfflineToken({ shop, accessToken: token, scopes: account.scopes });
  const installed = await recordInstall({ domain: shop, name: account.name, startSync: true });
  adapter.forgetCredentials(installed.sourceConnectionId);
  return { shop, name: account.name, scopes: account.scopes, ...installed };
}

/** `shop:connect` as the CLI runs it: connect, then import the catalog and source quantities. */
export async function connectShopAndImport(input: { shop: string; token: string }) {
  const connected = await connectShopWithToken(input);
  const summary = await importNow(connected.sourceConnectionId, "connect");
  await enqueueSafely("push", () => enqueuePush(connected.sourceConnectionId, 0));
  return { ...connected, import: summary };
}
