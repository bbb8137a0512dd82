/**
 * `channel:connect`: another store or a marketplace account sells the shop's stock. Shopify
 * stores connect with an Admin API token (checked first) and optionally the secret their webhooks
 * are signed with; credentials are sealed at rest; the catalog is matched by SKU and the first
 * push is queued.
 */
import { z } from "zod";
import { adapterFor, isSupportedKind } from "../channels/registry.server";
import { env } from "../env.server";
import { seal } from "../lib/credentials.server";
import { enqueuePush, enqueueSafely } from "../queues/jobs.server";
import * as connections from "../repositories/connections.server";
import { shopByDomain } from "../repositories/shops.server";
import type { ImportSummary } from "./catalog/import-catalog.server";
import { importNow } from "./catalog/import-runs.server";
import { webhookUrl } from "./connect-marketplace.server";
import { ZShopDomain } from "./shop-connect.server";

/** What StockGuard does on another store: read orders and levels, write levels. */
export const REQUIRED_SCOPES = [
  "read_orders",
  "read_inventory",
  "write_inventory",
  "read_products",
  "read_locations",
];

/** Shopify's write scopes imply their read scope. */
function impliedBy(scope: string, granted: string[]): boolean {
  return scope.startsWith("read_") && granted.includes(scope.replace(/^read_/, "write_"));
}

/** A refusal the merchant can act on (nothing was changed). */
export class ConnectChannelError extends Error {}

export const ZConnectChannel = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("shopify"),
    shop: ZShopDomain,
    store: ZShopDomain,
    token: z.string().trim().min(1, "token is required"),
    // A custom app's webhooks are signed with that app's API secret key, not StockGuard's: without
    // it every webhook of the store would be refused and its sales would never reach the ledger.
    webhookSecret: z
      .string({ error: "webhook secret is required (the custom app's API secret key)" })
      .trim()
      .min(1, "webhook secret is required (the custom app's API secret key)"),
    locationId: z
      .string()
      .regex(/^gid:\/\/shopify\/Location\/\d+$/, "must be a Location GID")
      .optional(),
    name: z.string().trim().min(1).max(100).optional(),
  }),
  z.object({ kind: z.enum(["amazon", "ebay", "walmart"]), shop: ZShopDomain }),
]);

export async function connectChannel(
  input: z.input<typeof ZConnectChannel>,
): Promise<{ connectionId: string; import: ImportSummary }> {
  const data = ZConnectChannel.parse(input);
  if (data.kind !== "shopify" || !isSupportedKind(data.kind)) {
    throw new ConnectChannelError(
      `${data.kind} connections are not available yet: only Shopify stores can be connected in this version`,
    );
  }
  const shop = await shopByDomain(data.shop);
  if (!shop || shop.status !== "active")
    throw new ConnectChannelError(`shop ${data.shop} is not installed (run shop:connect first)`);
  if (data.store === data.shop)
    throw new ConnectChannelError("a store cannot be a sales channel of itself");
  const elsewhere = await connections.otherShopsConnection("shopify", data.store, shop.id);
  if (elsewhere)
    throw new ConnectChannelError(`${data.store} already sells for ${elsewhere.shopDomain}`);
  // A store that installed StockGuard gets the app's webhooks already: it is linked instead.
  const installed = await shopByDomain(data.store);
  if (installed?.status === "active")
    throw new ConnectChannelError(
      `${data.store} has installed StockGuard: link it with a link code entered in its own StockGuard admin instead of a token`,
    );
  const adapter = adapterFor("shopify");
  const account = await adapter.describeAccount(
    { accountRef: data.store, apiBaseUrl: env().SHOPIFY_ADMIN_API_ORIGIN ?? null },
    { accessToken: data.token },
  );
  const missing = REQUIRED_SCOPES.filter(
    (scope) => !account.scopes.includes(scope) && !impliedBy(scope, account.scopes),
  );
  if (missing.length > 0)
    throw new ConnectChannelError(
      `the token of ${data.store} lacks the scopes StockGuard needs: ${missing.join(", ")}`,
    );
  const connection = await connections.upsertSalesConnection({
    shopId: shop.id,
    kind: "shopify",
    accountRef: data.store,
    name: data.name ?? account.name,
    renamed: Boolean(data.name),
    credentials: seal({
      accessToken: data.token,
      webhookSecret: data.webhookSecret,
    }),
    ...(data.locationId ? { settings: { syncLocationId: data.locationId } } : {}),
  });
  adapter.forgetCredentials(connection.id);
  // The store never installs StockGuard: it gets the app's webhooks through the API.
  const row = (await connections.loadConnection(connection.id))!;
  await adapter.ensureSubscriptions?.(connections.toContext(row), {
    callbackUrl: webhookUrl("shopify", connection.id),
  });
  const summary = await importNow(connection.id, "connect");
  await enqueueSafely("push", () => enqueuePush(connection.id, 0));
  return { connectionId: connection.id, import: summary };
}
