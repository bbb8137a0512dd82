/**
 * `ShopifyAdminClient`, the Admin GraphQL client the Shopify adapter sends every sync call
 * through: it reports each response's cost (for the shared budget) and turns failures into the
 * closed channel error set, with the throttle wait taken from Retry-After or `throttleStatus`.
 */
import {
  ChannelAuthError,
  ChannelPermanentError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../errors";
import { adminGraphqlUrl } from "./admin-url.server";

/** `extensions.cost` of an Admin GraphQL response. */
export type ShopifyCost = {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
};

export type GraphqlResult<T> = { data: T; cost: ShopifyCost | null };

type GraphqlError = { message: string; extensions?: { code?: string }; path?: unknown[] };

export type ShopifyClientOptions = {
  shop: string;
  accessToken: string;
  /** SHOPIFY_ADMIN_API_ORIGIN, when the sandbox is in use. */
  origin?: string;
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Called with every response's cost (feeds the shared per-shop budget). */
  onCost?: (cost: ShopifyCost) => void | Promise<void>;
};

/**
 * A small Admin GraphQL client for the sync path. Unlike the library client it exposes
 * `extensions.cost` on every response and classifies failures into the closed channel error set:
 * GraphQL `THROTTLED` (HTTP 200) and HTTP 429 → `ChannelThrottledError` with the wait computed
 * from `throttleStatus`; 401/403 → auth; 5xx and network errors → retryable; anything else
 * (a query Shopify rejects) → permanent.
 */
export class ShopifyAdminClient {
  private readonly url: string;

  constructor(private readonly options: ShopifyClientOptions) {
    this.url = adminGraphqlUrl(options.shop, options.origin);
  }

  get shop(): string {
    return this.options.shop;
  }

  async request<T>(
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphqlResult<T>> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(this.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-Shopify-Access-Token": this.options.accessToken,
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (error) {
      throw new ChannelRetryableError(`Shopify request failed: ${(error as Error).message}`, {
        shop: this.options.shop,
      });
    }

    if (response.status === 429) {
      throw new ChannelThrottledError("Shopify HTTP 429", retryAfterMs(response.headers) ?? 1_000, {
        shop: this.options.shop,
      });
    }
    if (response.status === 401 || response.status === 403) {
      throw new ChannelAuthError(`Shopify rejected the access token (HTTP ${response.status})`, {
        shop: this.options.shop,
      });
    }
    if (response.status >= 500) {
      throw new ChannelRetryableError(`Shopify HTTP ${response.status}`, {
        shop: this.options.shop,
      });
    }
    let body: { data?: T; errors?: GraphqlError[] | string; extensions?: { cost?: ShopifyCost } };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new ChannelRetryableError(`Shopify HTTP ${response.status} with a non-JSON body`);
    }
    if (response.status >= 400) {
      throw new ChannelPermanentError(
        `Shopify HTTP ${response.status}: ${JSON.stringify(body.errors ?? body)}`,
      );
    }
    const cost = body.extensions?.cost ?? null;
    if (cost) await this.options.onCost?.(cost);

    if (body.errors && body.errors.length > 0) {
      const errors = typeof body.errors === "string" ? [{ message: body.errors }] : body.errors;
      if (errors.some((e) => e.extensions?.code === "THROTTLED")) {
        throw new ChannelThrottledError("Shopify THROTTLED", throttleWaitMs(cost), {
          shop: this.options.shop,
          cost,
        });
      }
      if (errors.some((e) => e.extensions?.code === "INTERNAL_SERVER_ERROR")) {
        throw new ChannelRetryableError(`Shopify internal error: ${errors[0]?.message ?? ""}`);
      }
      if (errors.some((e) => e.extensions?.code === "ACCESS_DENIED")) {
        throw new ChannelAuthError(`Shopify access denied: ${errors[0]?.message ?? ""}`);
      }
      throw new ChannelPermanentError(
        `Shopify GraphQL error: ${errors.map((e) => e.message).join("; ")}`,
        {
          codes: errors.map((e) => e.extensions?.code),
        },
      );
    }
    if (body.data === undefined) throw new ChannelRetryableError("Shopify response without data");
    return { data: body.data, cost };
  }
}

export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Wait until the bucket holds the requested cost: (requested − available) / restoreRate. */
export function throttleWaitMs(cost: ShopifyCost | null): number {
  if (!cost) return 1_000;
  const { currentlyAvailable, restoreRate } = cost.throttleStatus;
  const missing = Math.max(1, cost.requestedQueryCost - currentlyAvailable);
  return Math.ceil((missing / Math.max(1, restoreRate)) * 1000);
}
