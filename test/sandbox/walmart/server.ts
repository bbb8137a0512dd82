/**
 * The local Walmart Marketplace (US) HTTP server: the Marketplace API under `/v3/…` and the
 * control API under `/_control/…`, on one origin (use it as the Walmart API base URL).
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { handleApi } from "./api";
import { handleControl } from "./control";
import { ControlError } from "./errors";
import { lazyBody, parseJson, send, type HttpResult } from "./http";
import { Sandbox, type SandboxOptions, type SandboxSeed } from "./sandbox";
import type { SellerSeed } from "./state";

export type StartOptions = Omit<SandboxOptions, "seed"> & {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Seed data, or the path of a JSON file holding it. */
  seed?: SandboxSeed | SellerSeed | SellerSeed[] | string;
};

export type WalmartCall = {
  status: number;
  headers: Headers;
  body: unknown;
};

export type LocalWalmart = {
  /** e.g. http://127.0.0.1:9200 (the Walmart API base URL: `${url}/v3/…`). */
  url: string;
  port: number;
  /** Every state and control function, in process. */
  sandbox: Sandbox;
  /** POST /v3/token with the seller's keys; returns the access token. */
  token(partnerId: string): Promise<string>;
  /** Calls /v3 with the required WM_* headers (token fetched for `partnerId` unless given). */
  call(
    partnerId: string,
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<WalmartCall>;
  close(): Promise<void>;
};

export function loadSeed(
  seed: StartOptions["seed"],
): SandboxSeed | SellerSeed | SellerSeed[] | undefined {
  if (typeof seed !== "string") return seed;
  return JSON.parse(readFileSync(seed, "utf8")) as SandboxSeed | SellerSeed | SellerSeed[];
}

export async function startLocalWalmart(options: StartOptions = {}): Promise<LocalWalmart> {
  const { port: wantedPort, host: wantedHost, seed, ...sandboxOptions } = options;
  const sandbox = new Sandbox({
    ...sandboxOptions,
    ...(seed === undefined ? {} : { seed: loadSeed(seed) }),
  });
  const host = wantedHost ?? "127.0.0.1";
  let baseUrl = "";

  const server = http.createServer((req, res) => {
    const body = lazyBody(req);
    route(sandbox, req, body, () => baseUrl)
      .then((result) => {
        req.resume();
        send(res, result);
      })
      .catch((error: unknown) => {
        req.resume();
        if (error instanceof ControlError) {
          send(res, {
            status: error.status,
            body: { error: error.code, message: error.message, ...error.extra },
          });
          return;
        }
        console.error("local walmart: unhandled error", error);
        send(res, { status: 500, body: { error: "internal", message: String(error) } });
      });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wantedPort ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  baseUrl = `http://${urlHost === "0.0.0.0" ? "127.0.0.1" : urlHost}:${port}`;

  const token = async (partnerId: string): Promise<string> => {
    const seller = sandbox.seller(partnerId);
    const response = await fetch(`${baseUrl}/v3/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${seller.clientId}:${seller.clientSecret}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
        "WM_QOS.CORRELATION_ID": randomUUID(),
        "WM_SVC.NAME": "Walmart Marketplace",
      },
      body: "grant_type=client_credentials",
    });
    const json = (await response.json()) as { access_token?: string };
    if (!response.ok || !json.access_token) {
      throw new Error(`token call failed: HTTP ${response.status} ${JSON.stringify(json)}`);
    }
    return json.access_token;
  };

  return {
    url: baseUrl,
    port,
    sandbox,
    token,
    async call(partnerId, method, path, callOptions = {}) {
      const accessToken = callOptions.token ?? (await token(partnerId));
      const headers: Record<string, string> = {
        "WM_SEC.ACCESS_TOKEN": accessToken,
        "WM_QOS.CORRELATION_ID": randomUUID(),
        "WM_SVC.NAME": "Walmart Marketplace",
        Accept: "application/json",
        ...(callOptions.body === undefined ? {} : { "Content-Type": "application/json" }),
        ...callOptions.headers,
      };
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(callOptions.body === undefined
          ? {}
          : {
              body:
                typeof callOptions.body === "string"
                  ? callOptions.body
                  : JSON.stringify(callOptions.body),
            }),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: text ? (JSON.parse(text) as unknown) : null,
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
  body: () => Promise<Buffer>,
  baseUrl: () => string,
): Promise<HttpResult> {
  const url = new URL(req.url ?? "/", "http://local");
  const method = req.method ?? "GET";
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const [first] = segments;

  if (first === "_control") {
    let parsed: unknown = undefined;
    if (method !== "GET" && method !== "DELETE") {
      const json = parseJson((await body()).toString("utf8"));
      if (!json.ok) throw new ControlError(400, "invalid_json", "the body is not valid JSON");
      parsed = json.value;
    }
    return handleControl(
      sandbox,
      segments.slice(1).join("/"),
      method,
      url.searchParams,
      parsed,
      baseUrl(),
    );
  }
  if (first === "v3") {
    return handleApi(sandbox, {
      method,
      path: url.pathname.replace(/\/+$/, ""),
      query: url.searchParams,
      headers: req.headers,
      body,
    });
  }
  if (first === undefined) {
    return {
      status: 200,
      body: {
        name: "local Walmart Marketplace US (StockGuard sandbox)",
        api: "/v3/…",
        control: "/_control/…",
        sellers: [...sandbox.sellers.keys()],
      },
    };
  }
  return { status: 404, body: { error: "not_found", message: `no route ${url.pathname}` } };
}
