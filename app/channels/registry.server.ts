/**
 * The adapter registry: one adapter per channel kind, built once per process with what it needs
 * (credentials, the shared Redis rate budget, the sandbox origin). Services ask for an adapter by
 * connection kind here and never import a concrete channel.
 */
import { env } from "../env.server";
import { onShutdown } from "../lib/lifecycle.server";
import { sharedRedis } from "../lib/locks.server";
import { AmazonAdapter } from "./amazon/adapter.server";
import type { ChannelAdapter, ChannelKind } from "./channel-adapter";
import { EbayAdapter } from "./ebay/adapter.server";
import { ChannelPermanentError } from "./errors";
import { ShopifyAdapter } from "./shopify/adapter.server";
import { shopifyFlow, type FlowPort } from "./shopify/flow.server";
import { ShopifyBudget } from "./shopify/budget.server";
import { sealedCredentials } from "../repositories/connections.server";
import { forgetShopifyToken, shopifyToken } from "./shopify/tokens.server";
import { WalmartAdapter } from "./walmart/adapter.server";

type Factory = () => ChannelAdapter;

const FACTORIES: Partial<Record<ChannelKind, Factory>> = {
  shopify: () =>
    new ShopifyAdapter({
      tokens: shopifyToken,
      budget: new ShopifyBudget(sharedRedis(), env().QUEUE_PREFIX),
      origin: env().SHOPIFY_ADMIN_API_ORIGIN,
      forgetToken: forgetShopifyToken,
      hasOwnCredentials: async (conn) => (await sealedCredentials(conn.id)) !== null,
    }),
  amazon: () => new AmazonAdapter(),
  ebay: () => new EbayAdapter(),
  walmart: () => new WalmartAdapter(),
};

declare global {
  var stockguardAdapters: Map<ChannelKind, ChannelAdapter> | undefined;
}

export type { FlowPort };

/** Shopify Flow on the store that installed StockGuard (triggers, and lookups for actions). */
export function flowPort(): FlowPort {
  return shopifyFlow;
}

export function isSupportedKind(kind: ChannelKind): boolean {
  return FACTORIES[kind] !== undefined;
}

/** The adapter of a channel kind; a kind without one is a permanent failure for its jobs. */
export function adapterFor(kind: ChannelKind): ChannelAdapter {
  if (!globalThis.stockguardAdapters) {
    globalThis.stockguardAdapters = new Map();
    // Adapters hold the process's Redis budget connection: rebuild them after a shutdown.
    onShutdown("channel-adapters", () => {
      globalThis.stockguardAdapters = undefined;
    });
  }
  let adapter = globalThis.stockguardAdapters.get(kind);
  if (!adapter) {
    const factory = FACTORIES[kind];
    if (!factory) throw new ChannelPermanentError(`no adapter for ${kind} connections`);
    adapter = factory();
    globalThis.stockguardAdapters.set(kind, adapter);
  }
  return adapter;
}
