/**
 * The local eBay HTTP server: one origin serving eBay's real paths (OAuth consent and token,
 * Sell Inventory, Sell Fulfillment, Post-Order, Commerce Notification) plus `/_control/…`.
 * `startLocalEbay(options)` returns `{ url, port, sandbox, close() }`.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { errorResult, handleApi, oauthErrorResult, type ApiModule } from "./api";
import { handleControl } from "./control";
import { ACCESS, ApiError, ControlError, OAuthError } from "./errors";
import { parseJson, readBody, sendResult, type EbayResult } from "./http";
import { identityApi } from "./identity-api";
import { inventoryApi } from "./inventory-api";
import type { EbaySeed } from "./model";
import { notificationApi } from "./notification-api";
import { handleConsent, handleToken } from "./oauth";
import { fulfillmentApi, postOrderApi } from "./orders-api";
import type { PushConfig } from "./push";
import { EbaySandbox, type Settings } from "./sandbox";

export type StartOptions = {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Multiplies push retry intervals (0.001: 1 h → 3.6 s). */
  timeScale?: number;
  /** Seed data, or the path of a JSON file holding it. */
  seed?: EbaySeed | string;
  /** Seeds ids, delays, duplicates and random faults. */
  rngSeed?: number;
  push?: Partial<PushConfig>;
  settings?: Partial<Settings>;
};

export type LocalEbay = {
  /** e.g. http://127.0.0.1:9200: the API origin (api.ebay.com) and the consent origin (auth.ebay.com). */
  url: string;
  port: number;
  sandbox: EbaySandbox;
  close(): Promise<void>;
};

const API_MODULES: ApiModule[] = [
  inventoryApi,
  fulfillmentApi,
  postOrderApi,
  notificationApi,
  identityApi,
];

export function loadSeed(seed: StartOptions["seed"]): EbaySeed | undefined {
  if (typeof seed !== "string") return seed;
  return JSON.parse(readFileSync(seed, "utf8")) as EbaySeed;
}

export async function startLocalEbay(options: StartOptions = {}): Promise<LocalEbay> {
  const seed = loadSeed(options.seed);
  const sandbox = new EbaySandbox({
    timeScale: options.timeScale ?? 1,
    ...(options.rngSeed === undefined ? {} : { rngSeed: options.rngSeed }),
    ...(seed === undefined ? {} : { seed }),
    ...(options.push === undefined ? {} : { push: options.push }),
    ...(options.settings === undefined ? {} : { settings: options.settings }),
  });
  const host = options.host ?? "127.0.0.1";
  let baseUrl = "";

  const server = http.createServer((req, res) => {
    route(sandbox, req, () => baseUrl)
      .then((result) => sendResult(res, result))
      .catch((error: unknown) => {
        if (error instanceof ControlError) {
          sendResult(res, {
            status: error.status,
            body: { error: error.code, message: error.message, ...error.extra },
          });
          return;
        }
        if (error instanceof ApiError) {
          sendResult(res, errorResult(error));
          return;
        }
        console.error("local ebay: unhandled error", error);
        sendResult(res, errorResult(ACCESS.internal()));
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

  return {
    url: baseUrl,
    port,
    sandbox,
    close: () =>
      new Promise<void>((resolve) => {
        sandbox.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(
  sandbox: EbaySandbox,
  req: http.IncomingMessage,
  baseUrl: () => string,
): Promise<EbayResult> {
  const url = new URL(req.url ?? "/", "http://local");
  const method = req.method ?? "GET";
  const path = url.pathname;

  if (path.startsWith("/_control/") || path === "/_control") {
    let input: unknown = {};
    if (method !== "GET" && method !== "DELETE") {
      const parsed = parseJson(await readBody(req));
      if (!parsed.ok) throw new ControlError(400, "invalid_json", "the body is not valid JSON");
      input = parsed.value;
    }
    return handleControl(
      sandbox,
      path.slice("/_control/".length),
      method,
      url.searchParams,
      input,
      baseUrl(),
    );
  }
  if (path === "/") {
    return {
      status: 200,
      body: {
        name: "local eBay (StockGuard sandbox)",
        consent: "/oauth2/authorize",
        token: "/identity/v1/oauth2/token",
        apis: API_MODULES.map((m) => m.prefix),
        control: "/_control/…",
      },
    };
  }
  if (path === "/oauth2/authorize" || path === "/oauth2/consent") {
    return handleConsent(sandbox, req, path, url.searchParams);
  }
  if (path === "/identity/v1/oauth2/token") {
    try {
      return await handleToken(sandbox, req);
    } catch (error) {
      if (error instanceof OAuthError) return oauthErrorResult(error);
      throw error;
    }
  }
  for (const module of API_MODULES) {
    if (path === module.prefix || path.startsWith(`${module.prefix}/`)) {
      return handleApi(
        sandbox,
        module,
        req,
        path.slice(module.prefix.length),
        url.searchParams,
        baseUrl(),
      );
    }
  }
  return errorResult(ACCESS.resourceNotFound());
}
