/**
 * Connecting a marketplace account, through the marketplace's own authorisation: a consent
 * redirect StockGuard starts (single-use `state`, 15 minutes) and a callback that exchanges the
 * code for credentials (Amazon's website workflow, eBay OAuth), or keys the seller pastes
 * (Walmart). Either way the credentials are checked by the marketplace, sealed at rest, the
 * notifications StockGuard needs are subscribed, the catalog is matched by SKU and the first push
 * is queued. Used by the admin's "Connect a channel" and by `channel:connect`.
 */
import { randomBytes } from "node:crypto";
import type { AuthorizedAccount, ChannelKind } from "../channels/channel-adapter";
import { adapterFor, isSupportedKind } from "../channels/registry.server";
import { shopifyEnv } from "../env.server";
import { seal } from "../lib/credentials.server";
import { enqueuePush, enqueueSafely } from "../queues/jobs.server";
import { consumeConnectState, createConnectState } from "../repositories/connect-states.server";
import * as connections from "../repositories/connections.server";
import { shopByDomain } from "../repositories/shops.server";
import type { ImportSummary } from "./catalog/import-catalog.server";
import { importNow } from "./catalog/import-runs.server";

export const MARKETPLACES = ["amazon", "ebay", "walmart"] as const;
export type MarketplaceKind = (typeof MARKETPLACES)[number];

const STATE_TTL_MS = 15 * 60_000;

export class ConnectError extends Error {}

function marketplace(kind: string): MarketplaceKind {
  if (!(MARKETPLACES as readonly string[]).includes(kind))
    throw new ConnectError(`unknown marketplace ${kind}`);
  if (!isSupportedKind(kind as ChannelKind))
    throw new ConnectError(`${kind} connections are not available in this version`);
  return kind as MarketplaceKind;
}

async function activeShop(domain: string): Promise<{ id: string }> {
  const shop = await shopByDomain(domain);
  if (!shop || shop.status !== "active") throw new ConnectError(`shop ${domain} is not installed`);
  return shop;
}

/** Where the marketplace sends the seller back after consent. */
export function callbackUrl(kind: MarketplaceKind): string {
  return new URL(`/connect/${kind}/callback`, shopifyEnv().SHOPIFY_APP_URL).toString();
}

export function webhookUrl(kind: ChannelKind, connectionId: string): string {
  return new URL(`/webhooks/${kind}/${connectionId}`, shopifyEnv().SHOPIFY_APP_URL).toString();
}

/** Starts a consent redirect; returns the marketplace URL to send the seller to. */
export async function startAuthorization(input: {
  shopDomain: string;
  kind: string;
  apiBaseUrl?: string | null;
  /** Connection settings to keep (marketplace id, notification queue, …). */
  settings?: Record<string, unknown>;
}): Promise<{ consentUrl: string; state: string }> {
  const kind = marketplace(input.kind);
  const flow = adapterFor(kind).authorization;
  if (flow?.kind !== "redirect")
    throw new ConnectError(`${kind} is connected with its API keys, not a consent page`);
  const shop = await activeShop(input.shopDomain);
  const state = randomBytes(24).toString("base64url");
  const redirectUri = callbackUrl(kind);
  await createConnectState({
    state,
    shopId: shop.id,
    kind,
    apiBaseUrl: input.apiBaseUrl ?? null,
    redirectUri,
    settings: input.settings ?? {},
    ttlMs: STATE_TTL_MS,
  });
  return {
    consentUrl: flow.consentUrl({ state, redirectUri, apiBaseUrl: input.apiBaseUrl ?? null }),
    state,
  };
}

export type ConnectedMarketplace = {
  connectionId: string;
  shopId: string;
  accountRef: string;
  name: string;
  import: ImportSummary;
};

/** The marketplace's callback: the state must be ours, unused and fresh. */
export async function completeAuthorization(input: {
  kind: string;
  params: URLSearchParams;
}): Promise<ConnectedMarketplace> {
  const kind = marketplace(input.kind);
  const flow = adapterFor(kind).authorization;
  if (flow?.kind !== "redirect") throw new ConnectError(`${kind} has no consent redirect`);
  const error = input.params.get("error");
  if (error) throw new ConnectError(`the marketplace refused the authorisation: ${error}`);
  const started = await consumeConnectState(input.params.get("state") ?? "", kind);
  if (!started)
    throw new ConnectError("this authorisation link is unknown, already used or expired");
  const account = await flow.complete({
    params: input.params,
    redirectUri: started.redirectUri,
    apiBaseUrl: started.apiBaseUrl,
  });
  return finish(kind, started.shopId, started.apiBaseUrl, {
    ...account,
    settings: { ...started.settings, ...account.settings },
  });
}

/** Keys the seller pastes (Walmart's client id and secret), checked by the marketplace. */
export async function connectWithKeys(input: {
  shopDomain: string;
  kind: string;
  keys: Record<string, string>;
  apiBaseUrl?: string | null;
  settings?: Record<string, unknown>;
}): Promise<ConnectedMarketplace> {
  const kind = marketplace(input.kind);
  const flow = adapterFor(kind).authorization;
  if (flow?.kind !== "keys")
    throw new ConnectError(`${kind} is connected through its consent page`);
  const missing = flow.fields.filter((f) => !input.keys[f.name]?.trim()).map((f) => f.label);
  if (missing.length > 0) throw new ConnectError(`missing: ${missing.join(", ")}`);
  const shop = await activeShop(input.shopDomain);
  const account = await flow.complete({ keys: input.keys, apiBaseUrl: input.apiBaseUrl ?? null });
  return finish(kind, shop.id, input.apiBaseUrl ?? null, {
    ...account,
    settings: { ...input.settings, ...account.settings },
  });
}

async function finish(
  kind: MarketplaceKind,
  shopId: string,
  apiBaseUrl: string | null,
  account: AuthorizedAccount,
): Promise<ConnectedMarketplace> {
  const adapter = adapterFor(kind);
  const connection = await connections.upsertSalesConnection({
    shopId,
    kind,
    accountRef: account.accountRef,
    name: account.name,
    renamed: true,
    credentials: seal(account.credentials),
    apiBaseUrl,
    settings: account.settings ?? {},
  });
  adapter.forgetCredentials(connection.id);
  const row = (await connections.loadConnection(connection.id))!;
  const conn = connections.toContext(row);
  if (adapter.ensureSubscriptions)
    await adapter.ensureSubscriptions(conn, { callbackUrl: webhookUrl(kind, connection.id) });
  const summary = await importNow(connection.id, "connect");
  await enqueueSafely("push", () => enqueuePush(connection.id, 0));
  return {
    connectionId: connection.id,
    shopId,
    accountRef: account.accountRef,
    name: account.name,
    import: summary,
  };
}
