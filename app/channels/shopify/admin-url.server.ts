/**
 * Where Admin API requests go: the pinned API version, a shop's GraphQL URL, and the sandbox's
 * rewrite of `https://{shop}/admin/…` to SHOPIFY_ADMIN_API_ORIGIN, for our own client and for
 * `@shopify/shopify-api` (installed once by shopify.server.ts).
 */
import { setAbstractFetchFunc } from "@shopify/shopify-api/runtime";

/** The Admin API version StockGuard is written against (`shopify.app.toml` uses the same). */
export const SHOPIFY_API_VERSION = "2026-10";

/**
 * Sandbox contract: with `SHOPIFY_ADMIN_API_ORIGIN` set, `https://{shop}/admin/…` becomes
 * `{origin}/{shop}/admin/…` (same method, headers and body). Other URLs are left alone.
 */
export function rewriteAdminUrl(url: string, origin: string | undefined): string {
  if (!origin) return url;
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" || !parsed.pathname.startsWith("/admin/")) return url;
  const base = origin.replace(/\/+$/, "");
  return `${base}/${parsed.host}${parsed.pathname}${parsed.search}`;
}

export function adminGraphqlUrl(shop: string, origin: string | undefined): string {
  return rewriteAdminUrl(`https://${shop}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`, origin);
}

type Fetch = typeof globalThis.fetch;

export function rewritingFetch(origin: string, inner: Fetch = globalThis.fetch): Fetch {
  return (input, init) => {
    if (input instanceof Request) {
      const target = rewriteAdminUrl(input.url, origin);
      return inner(target === input.url ? input : new Request(target, input), init);
    }
    const url = input instanceof URL ? input.toString() : input;
    return inner(rewriteAdminUrl(url, origin), init);
  };
}

/**
 * Points every Admin API request made by `@shopify/shopify-api` (token exchange, OAuth, the
 * library's GraphQL client) at the origin. Our own Shopify client uses `adminGraphqlUrl`.
 */
export function installAdminApiOriginRewrite(origin: string | undefined): void {
  if (!origin) return;
  setAbstractFetchFunc(rewritingFetch(origin));
}
