/**
 * The local Amazon HTTP server (plain node:http, one origin): Login with Amazon under `/auth/o2/…`
 * and `/apps/authorize/…`, the SP-API paths (`/listings/…`, `/orders/…`, `/feeds/…`,
 * `/notifications/…`), the pre-signed feed-document store under `/feed-documents/…`, SQS
 * (`POST` with `X-Amz-Target: AmazonSQS.*`) and the control API under `/_control/…`.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ControlError } from "../shopify/errors";
import { parseJson } from "../shopify/http-util";
import { handleControl } from "./control";
import { handleDocument } from "./feeds";
import { json, readRaw, sendReply, spErrors, type Reply } from "./http";
import { handleConsent, handleToken } from "./lwa";
import type { UsagePlan } from "./rate-limits";
import { AmazonSandbox, type AmazonSeed, type Behaviour, type DeliveryConfig } from "./sandbox";
import { handleSpApi, isSpApiPath } from "./spapi";
import type { SqsBehaviour } from "./sqs";
import { handleSqs } from "./sqs-api";

export type StartOptions = {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Multiplies simulated delays (patch application, feed steps, deliveries, Pending orders). */
  timeScale?: number;
  /** Seed data, or the path of a JSON file holding it. */
  seed?: AmazonSeed | string;
  /** Seeds the RNG for reproducible ids, delays, duplicates and random faults. */
  rngSeed?: number;
  behaviour?: Partial<Behaviour>;
  delivery?: Partial<DeliveryConfig>;
  sqs?: Partial<SqsBehaviour>;
  /** Usage-plan overrides by operation name, e.g. `{ patchListingsItem: { rate: 50, burst: 50 } }`. */
  rateLimits?: Partial<Record<string, UsagePlan>>;
};

export type LocalAmazon = {
  /** e.g. http://127.0.0.1:9200: the SP-API endpoint, the LWA host and the SQS endpoint at once. */
  url: string;
  port: number;
  /** Every state and control function, in process. */
  sandbox: AmazonSandbox;
  /** `${url}/auth/o2/token`. */
  lwaTokenUrl: string;
  close(): Promise<void>;
};

export function loadSeed(seed: StartOptions["seed"]): AmazonSeed | undefined {
  if (typeof seed !== "string") return seed;
  return JSON.parse(readFileSync(seed, "utf8")) as AmazonSeed;
}

export async function startLocalAmazon(options: StartOptions = {}): Promise<LocalAmazon> {
  const seed = loadSeed(options.seed);
  const sandbox = new AmazonSandbox({
    timeScale: options.timeScale ?? 1,
    ...(options.rngSeed === undefined ? {} : { rngSeed: options.rngSeed }),
    ...(options.behaviour ? { behaviour: options.behaviour } : {}),
    ...(options.delivery ? { delivery: options.delivery } : {}),
    ...(options.sqs ? { sqs: options.sqs } : {}),
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
  });
  const host = options.host ?? "127.0.0.1";

  const server = http.createServer((req, res) => {
    route(sandbox, req)
      .then((reply) => sendReply(res, reply))
      .catch((error: unknown) => {
        if (error instanceof ControlError) {
          sendReply(
            res,
            json(error.status, { error: error.code, message: error.message, ...error.extra }),
          );
          return;
        }
        console.error("local amazon: unhandled error", error);
        sendReply(res, json(500, { error: "internal", message: String(error) }));
      });
  });
  server.keepAliveTimeout = 5_000;
  // Long polls last up to 20 s.
  server.requestTimeout = 120_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${urlHost === "0.0.0.0" ? "127.0.0.1" : urlHost}:${port}`;
  sandbox.baseUrl = url;
  // Seed after the URL is known (queue URLs embed it).
  if (seed) sandbox.setStartupSeed(seed);

  return {
    url,
    port,
    sandbox,
    lwaTokenUrl: `${url}/auth/o2/token`,
    close: () =>
      new Promise<void>((resolve) => {
        sandbox.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(sb: AmazonSandbox, req: http.IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? "/", "http://local");
  const method = req.method ?? "GET";
  const path = url.pathname;
  const body = await readRaw(req);
  const target = req.headers["x-amz-target"];

  if (path.startsWith("/_control/") || path === "/_control") {
    let parsed: unknown = {};
    if (method !== "GET" && method !== "DELETE") {
      const result = parseJson(body.toString("utf8"));
      if (!result.ok) throw new ControlError(400, "invalid_json", "the body is not valid JSON");
      parsed = result.value;
    }
    return handleControl(sb, path.slice("/_control/".length), method, url.searchParams, parsed);
  }
  if (method === "POST" && typeof target === "string" && target.startsWith("AmazonSQS.")) {
    return handleSqs(sb, req, body);
  }
  if (path === "/auth/o2/token") return handleToken(sb, method, req.headers["content-type"], body);
  if (path === "/apps/authorize/consent" || path === "/apps/authorize/confirm") {
    return handleConsent(sb, req, path, url.searchParams, body);
  }
  if (path.startsWith("/feed-documents/")) {
    const id = decodeURIComponent(path.slice("/feed-documents/".length));
    const reply = handleDocument(
      sb,
      method,
      id,
      url.searchParams,
      req.headers["content-type"],
      body,
    );
    sb.logRequest({
      api: "documents",
      operation: method === "PUT" ? "upload" : "download",
      method,
      path,
      status: reply.status,
      sellerId: sb.documents.get(id)?.sellerId ?? null,
      requestId: sb.random.uuid(),
      outcome: reply.status < 400 ? "ok" : "error",
      rateLimit: null,
    });
    return reply;
  }
  if (isSpApiPath(path)) return handleSpApi(sb, req, path, url.searchParams, body, sb.baseUrl);
  if (path === "/" && method === "GET") {
    return json(200, {
      name: "local Amazon (StockGuard sandbox)",
      lwaToken: "/auth/o2/token",
      consent: "/apps/authorize/consent?application_id=…&state=…&version=beta",
      spApi: [
        "/listings/2021-08-01/…",
        "/orders/v0/…",
        "/feeds/2021-06-30/…",
        "/notifications/v1/…",
      ],
      sqs: "POST / with X-Amz-Target: AmazonSQS.<Action>",
      control: "/_control/…",
      sellers: [...sb.sellers.keys()],
    });
  }
  return json(404, spErrors("NotFound", "Resource not found"));
}
