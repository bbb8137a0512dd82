/**
 * The local Shopify HTTP server: Admin GraphQL under `/{shop}/admin/…`, the token endpoint at
 * `/{shop}/admin/oauth/access_token`, the storefront under `/{shop}/storefront/…`, the control API
 * under `/_control/…`.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdminRequest } from "./admin-api";
import { handleControl } from "./control";
import { ControlError } from "./errors";
import { parseJson, readBody, send, type HttpResult } from "./http-util";
import { handleAccessTokenRequest } from "./oauth";
import { Sandbox, type SandboxSeed } from "./sandbox";
import type { ShopSeed } from "./state";
import { handleStorefront } from "./storefront";
import type { DeliveryConfig } from "./webhooks";

export type StartOptions = {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Scales webhook retry intervals and idempotency-key retention (0.001: 4 h → ~14 s). */
  timeScale?: number;
  /** Seed data, or the path of a JSON file holding it. */
  seed?: SandboxSeed | ShopSeed | ShopSeed[] | string;
  /** Seeds the RNG for reproducible webhook ids, delays, duplicates and random faults. */
  rngSeed?: number;
  /** Global webhook delivery behaviour. */
  delivery?: Partial<DeliveryConfig>;
};

export type LocalShopify = {
  /** e.g. http://127.0.0.1:9100 (use as SHOPIFY_ADMIN_API_ORIGIN). */
  url: string;
  port: number;
  /** Every state and control function, in process. */
  sandbox: Sandbox;
  graphqlUrl(shop: string): string;
  /** POSTs a GraphQL document to a shop over HTTP (token defaults to the shop's). */
  graphql<T = unknown>(
    shop: string,
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string },
  ): Promise<{ status: number; body: GraphqlResponse<T> }>;
  close(): Promise<void>;
};

export type GraphqlResponse<T> = {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[];
  extensions?: {
    cost: {
      requestedQueryCost: number;
      actualQueryCost: number | null;
      throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
    };
  };
};

export function loadSeed(
  seed: StartOptions["seed"],
): SandboxSeed | ShopSeed | ShopSeed[] | undefined {
  if (typeof seed !== "string") return seed;
  return JSON.parse(readFileSync(seed, "utf8")) as SandboxSeed | ShopSeed | ShopSeed[];
}

export async function startLocalShopify(options: StartOptions = {}): Promise<LocalShopify> {
  const sandbox = new Sandbox({
    timeScale: options.timeScale ?? 1,
    ...(options.rngSeed === undefined ? {} : { rngSeed: options.rngSeed }),
    ...(options.seed === undefined ? {} : { seed: loadSeed(options.seed) }),
    ...(options.delivery === undefined ? {} : { delivery: options.delivery }),
  });
  const host = options.host ?? "127.0.0.1";
  let baseUrl = "";

  const server = http.createServer((req, res) => {
    route(sandbox, req, () => baseUrl)
      .then((result) => send(res, result))
      .catch((error: unknown) => {
        if (error instanceof ControlError) {
          send(res, {
            status: error.status,
            body: { error: error.code, message: error.message, ...error.extra },
          });
          return;
        }
        console.error("local shopify: unhandled error", error);
        send(res, { status: 500, body: { error: "internal", message: String(error) } });
      });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  baseUrl = `http://${urlHost === "0.0.0.0" ? "127.0.0.1" : urlHost}:${port}`;

  const graphqlUrl = (shop: string): string => `${baseUrl}/${shop}/admin/api/2026-10/graphql.json`;
  return {
    url: baseUrl,
    port,
    sandbox,
    graphqlUrl,
    async graphql<T>(
      shop: string,
      query: string,
      variables: Record<string, unknown> = {},
      opts: { token?: string } = {},
    ) {
      const token = opts.token ?? sandbox.shops.get(shop)?.accessToken ?? "";
      const response = await fetch(graphqlUrl(shop), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: (text ? JSON.parse(text) : {}) as GraphqlResponse<T>,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        sandbox.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(
  sandbox: Sandbox,
  req: http.IncomingMessage,
  baseUrl: () => string,
): Promise<HttpResult> {
  const url = new URL(req.url ?? "/", "http://local");
  const method = req.method ?? "GET";
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const [first, second] = segments;

  const jsonBody = async (): Promise<unknown> => {
    const parsed = parseJson(await readBody(req));
    if (!parsed.ok) throw new ControlError(400, "invalid_json", "the body is not valid JSON");
    return parsed.value;
  };

  if (first === "_control") {
    const body = method === "GET" || method === "DELETE" ? {} : await jsonBody();
    return handleControl(
      sandbox,
      segments.slice(1).join("/"),
      method,
      url.searchParams,
      body,
      baseUrl(),
    );
  }
  if (first === undefined) {
    return {
      status: 200,
      body: {
        name: "local Shopify (StockGuard sandbox)",
        adminGraphql: "/{shop}/admin/api/2026-10/graphql.json",
        tokenEndpoint: "/{shop}/admin/oauth/access_token",
        storefront: "/{shop}/storefront/checkout",
        control: "/_control/…",
        shops: [...sandbox.shops.keys()],
      },
    };
  }
  const shop = decodeURIComponent(first);
  if (second === "admin") {
    const headers: Record<string, string | string[] | undefined> = req.headers;
    const subPath = segments.slice(2).join("/");
    if (subPath === "oauth/access_token") {
      return handleAccessTokenRequest(sandbox, shop, method, headers, url.searchParams, () =>
        readBody(req),
      );
    }
    return handleAdminRequest(sandbox, shop, subPath, method, headers, () => readBody(req));
  }
  if (second === "storefront") {
    const body = method === "GET" ? {} : await jsonBody();
    return handleStorefront(sandbox, shop, segments.slice(2).join("/"), method, body);
  }
  return { status: 404, body: { errors: "Not Found" } };
}
