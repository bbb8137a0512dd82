/**
 * `npm run start`: the web process (embedded admin + every inbound route) on PORT.
 *
 * Builds the Remix app first when `build/` is missing or older than the sources, so the sandbox
 * contract's single command works on a fresh clone; production images run `npm run build` at
 * image build time and this check is a no-op.
 */
import cluster, { type Worker } from "node:cluster";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequestHandler } from "@remix-run/express";
import type { ServerBuild } from "@remix-run/node";
import compression from "compression";
import express from "express";
import client from "prom-client";
import { env, shopifyEnv } from "./env.server";
import { Admission } from "./lib/admission";
import { ensureBuild } from "./lib/build.server";
import { runShutdown } from "./lib/lifecycle.server";
import { inFlightSettled } from "./lib/in-flight.server";
import { metrics } from "./lib/metrics.server";
import { logger } from "./logger.server";
import { sandboxEnabled } from "./sandbox/sandbox.server";
import type { warmOrderPath } from "./services/warm-up.server";

process.env.STOCKGUARD_PROCESS ??= "web";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const serverBuildPath = path.join(root, "build", "server", "index.js");

async function main(): Promise<void> {
  // Validate configuration before anything else: a missing variable exits here with its name.
  const config = env();
  shopifyEnv();
  if (cluster.isPrimary) {
    if (process.env.STOCKGUARD_SKIP_BUILD !== "1") {
      if (!ensureBuild(root, (line) => logger().info(line))) {
        logger().fatal("remix vite:build failed");
        process.exit(1);
      }
    }
    if (config.WEB_CONCURRENCY > 1) {
      runPrimary(config.WEB_CONCURRENCY);
      return;
    }
  }
  await serve(config);
}

/**
 * WEB_CONCURRENCY > 1: this process only supervises. It forks the web processes (they share
 * PORT, the kernel spreads connections), starts another when one dies, stops them all on
 * SIGTERM/SIGINT, and answers their metrics asks with the whole cluster's registries summed.
 */
function runPrimary(processes: number): void {
  const aggregator = new client.AggregatorRegistry();
  const live = new Set<Worker>();
  let stopping = false;
  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on("message", (message: unknown) => {
      const ask = (message as { stockguardMetricsAsk?: unknown } | null)?.stockguardMetricsAsk;
      if (typeof ask !== "number") return;
      aggregator.clusterMetrics().then(
        (text) => worker.send({ stockguardMetricsReply: ask, text }),
        (error: unknown) =>
          worker.send({ stockguardMetricsReply: ask, error: (error as Error).message }),
      );
    });
  };
  cluster.on("exit", (worker, code, signal) => {
    live.delete(worker);
    if (stopping) {
      if (live.size === 0) process.exit(0);
      return;
    }
    logger().error(
      { pid: worker.process.pid, code, signal },
      "web process exited; starting another",
    );
    setTimeout(fork, 500).unref();
  });
  for (let i = 0; i < processes; i++) fork();
  logger().info({ processes }, "web cluster started");
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger().info({ signal }, "web cluster shutting down");
    for (const worker of live) worker.process.kill(signal);
    if (live.size === 0) process.exit(0);
    setTimeout(() => process.exit(0), 20_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** One web process: the Express app with the Remix build on PORT. */
async function serve(config: ReturnType<typeof env>): Promise<void> {
  // In a cluster, every process must answer the primary's metrics collection from the start.
  if (cluster.isWorker) metrics();
  const build = (await import(pathToFileURL(serverBuildPath).href)) as ServerBuild;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", true);
  // A declared body over the webhook limit is refused before Remix or any handler runs; bodies
  // without a length are bounded while they are read (app/webhooks/body.server.ts).
  app.use("/webhooks", (req, res, next) => {
    if (!refusedAsTooLarge(req, res, config.WEBHOOK_MAX_BYTES)) next();
  });
  // Webhooks go straight to their routes: no compression (small bodies, empty 200s) and no
  // static-file lookup on the way (a file-system stat per delivery under a flood).
  const remix = createRequestHandler({ build, mode: config.NODE_ENV });
  app.use("/webhooks", (req, res, next) => void remix(req, res, next));
  app.use(compression());
  app.use(
    "/assets",
    express.static(path.join(root, "build", "client", "assets"), { immutable: true, maxAge: "1y" }),
  );
  app.use(express.static(path.join(root, "build", "client"), { maxAge: "1h" }));
  if (sandboxEnabled()) {
    // Sandbox only (never in production, loopback Admin API origin): the app library answers
    // self-identifying bots with 410, which would shut a headless browser (a demo recording,
    // a screenshot run) out of the demo's admin. The real admin path keeps the check.
    app.use((req, _res, next) => {
      const agent = req.headers["user-agent"];
      if (agent?.includes("HeadlessChrome"))
        req.headers["user-agent"] = agent.replace("HeadlessChrome", "Chrome");
      next();
    });
  }
  app.all("*", remix);

  await warmUp(build, config.WEB_WARM_UP_ORDERS);

  const direct = directWebhooks(
    build,
    config.WEBHOOK_MAX_BYTES,
    new Admission(config.WEB_WEBHOOK_CONCURRENCY, { maxBypassMs: LEVELS_YIELD_MS }),
  );
  let stopping = false;
  const server = http.createServer((req, res) => {
    // Connections are kept alive (Shopify's deliveries reuse theirs): once stopping, every answer
    // closes its connection, or a busy kept-alive connection would hold `server.close` open.
    if (stopping) res.setHeader("Connection", "close");
    if (!direct(req, res)) app(req, res);
  });
  server.listen(config.PORT, () => {
    logger().info(
      { port: config.PORT },
      `StockGuard web listening on http://127.0.0.1:${config.PORT}`,
    );
  });
  server.keepAliveTimeout = 65_000;

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger().info({ signal }, "web shutting down");
    server.close(() => {
      // Receipts the web was applying finish first (decision 0011), then the pools close.
      void inFlightSettled(5_000)
        .then(() => runShutdown())
        .then((failures) => {
          if (failures.length) logger().warn({ failures }, "some resources did not close cleanly");
          process.exit(0);
        });
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 15_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/**
 * Before listening: the order path (Shopify port, ledger event) runs `orders` synthetic orders in
 * transactions that roll back, through the build's own copy of the code (decision 0022). A
 * database unreachable at start only means the process serves cold.
 */
async function warmUp(build: ServerBuild, orders: number): Promise<void> {
  const warm = (build.entry.module as { warmOrderPath?: typeof warmOrderPath }).warmOrderPath;
  if (!warm || orders === 0) return;
  try {
    const result = await warm({ orders, parallel: 4, budgetMs: 10_000 });
    if (result.stopped) logger().warn(result, "order path warmed only in part");
    else logger().info(result, "order path warmed");
  } catch (error) {
    logger().warn({ err: (error as Error).message }, "order path not warmed");
  }
}

/**
 * The Shopify topics that arrive by the hundred per second (orders, levels, refunds,
 * fulfillments) are answered by their route module's action directly, from the HTTP server's own
 * request event: same module, same code path, but without Express's middleware stack and router
 * (its request/response prototypes, query parsing and path matching were ~15 % of the web's CPU
 * per delivery under a flood) and without Remix matching the whole route tree and its
 * loader/action pipeline (a sixth or so more). Every other path, and any route missing from the
 * build, goes through Express and Remix as before.
 */
/**
 * Waiting for a place, orders, refunds and fulfilments (`urgent`) go before level updates (the
 * sale the other channels wait for, against mostly echoes of our own writes), but a level update
 * waits behind them for at most LEVELS_YIELD_MS: it is evidence too (a drop before its order, a
 * merchant's edit), and Shopify gives every delivery 5 s.
 */
const DIRECT_WEBHOOKS = [
  { topicPath: "orders", urgent: true },
  { topicPath: "inventory_levels/update", urgent: false },
  { topicPath: "refunds", urgent: true },
  { topicPath: "fulfillments", urgent: true },
] as const;
const LEVELS_YIELD_MS = 2_000;

/**
 * The dispatcher of the flood topics: returns false for a request it does not take (not a POST to
 * one of their paths), which then goes to Express.
 */
function directWebhooks(
  build: ServerBuild,
  limit: number,
  admission: Admission,
): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  type Action = NonNullable<ServerBuild["routes"][string]["module"]["action"]>;
  const actions = new Map<string, { action: Action; urgent: boolean }>();
  for (const { topicPath, urgent } of DIRECT_WEBHOOKS) {
    const action = build.routes[`routes/webhooks.${topicPath.replace("/", ".")}`]?.module.action;
    if (action) actions.set(`/webhooks/${topicPath}`, { action, urgent });
  }
  return (req, res) => {
    if (req.method !== "POST" || !req.url) return false;
    const query = req.url.indexOf("?");
    const path = query === -1 ? req.url : req.url.slice(0, query);
    const direct = actions.get(path);
    if (!direct) return false;
    const { action, urgent } = direct;
    // A body without a length is bounded while it is read.
    if (refusedAsTooLarge(req, res, limit)) return true;
    const arrived = performance.now();
    void admission.run(async () => {
      metrics().webhookAdmissionWaitSeconds.observe(
        { class: urgent ? "orders" : "levels" },
        (performance.now() - arrived) / 1000,
      );
      try {
        const request = await webRequest(req, res, limit);
        const response = (await action({ request, params: {}, context: {} })) as Response;
        res.statusCode = response.status;
        response.headers.forEach((value, key) => res.setHeader(key, value));
        res.end(Buffer.from(await response.arrayBuffer()));
      } catch (error) {
        logger().error({ err: error, path: req.url }, "webhook handler failed");
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else res.destroy();
      }
    }, urgent);
    return true;
  };
}

/**
 * A webhook whose declared body is over the limit is answered 413 before a byte of it is read,
 * whichever way it is dispatched. Returns whether it was.
 */
function refusedAsTooLarge(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  limit: number,
): boolean {
  if (Number(req.headers["content-length"] ?? 0) <= limit) return false;
  res.writeHead(413, { "Content-Type": "application/json; charset=utf-8", Connection: "close" });
  res.end(JSON.stringify({ error: "payload too large" }));
  return true;
}

/**
 * The delivery's body, read from the socket up to one byte past `limit` (the route refuses
 * anything larger with its own 413 and metric; the rest of such a body is never read). A sender
 * that goes away mid-body leaves what came, which no signature matches.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      req.off("data", onData).off("end", done).off("close", done).off("error", reject);
      const body = new Uint8Array(size);
      let at = 0;
      for (const chunk of chunks) {
        body.set(chunk, at);
        at += chunk.byteLength;
      }
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size > limit) {
        req.pause();
        done();
      }
    };
    req.on("data", onData).once("end", done).once("close", done).once("error", reject);
  });
}

/**
 * The delivery as a Fetch Request with its body already read: a webhook body is small and read
 * whole by its route anyway, and streamed through `Readable.toWeb` it cost the web 6-9 % of its
 * CPU under a flood (web-stream adapters, undici's body extraction; profiles in decision 0016).
 * The URL is built as Express builds it behind a proxy (`trust proxy`: the first
 * X-Forwarded-Proto), from the Host header.
 */
async function webRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  limit: number,
): Promise<Request> {
  const body = await readBody(req, limit);
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else if (value !== undefined) headers.set(key, value);
  }
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const forwarded = req.headers["x-forwarded-proto"];
  const proto =
    (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim() ||
    ("encrypted" in req.socket && req.socket.encrypted ? "https" : "http");
  return new Request(`${proto}://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: req.method,
    headers,
    body,
    signal: controller.signal,
  });
}

main().catch((error: unknown) => {
  logger().fatal({ err: error }, "web failed to start");
  process.exit(1);
});
