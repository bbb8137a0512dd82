/**
 * The worker's Prometheus endpoint: queue depth per state (read from Redis at scrape time),
 * push latency, channel writes, throttle waits and failures recorded by the processors. It
 * listens on loopback unless WORKER_METRICS_HOST says otherwise, and asks for the bearer token
 * when STOCKGUARD_METRICS_TOKEN is set.
 */
import { createServer, type Server } from "node:http";
import { metricsAccess } from "../app/lib/metrics-auth.server";
import { metrics } from "../app/lib/metrics.server";
import { logger } from "../app/logger.server";
import { QUEUES } from "../app/queues/definitions";
import { queue } from "../app/queues/queues.server";

export function startMetricsServer(
  port: number,
  host = "127.0.0.1",
  token: string | undefined = undefined,
): Server | null {
  if (port === 0) return null;
  const m = metrics();
  m.queueDepth.reset();
  const collect = async () => {
    for (const name of Object.values(QUEUES)) {
      const counts = await queue(name).getJobCounts(
        "waiting",
        "active",
        "delayed",
        "failed",
        "prioritized",
      );
      for (const [state, n] of Object.entries(counts)) m.queueDepth.set({ queue: name, state }, n);
    }
  };
  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
      return;
    }
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    if (token && metricsAccess(req.headers.authorization, token) !== "allowed") {
      res.writeHead(401, { "WWW-Authenticate": 'Bearer realm="metrics"' }).end();
      return;
    }
    collect()
      .catch(() => undefined)
      .then(() => m.registry.metrics())
      .then((body) => res.writeHead(200, { "Content-Type": m.registry.contentType }).end(body))
      .catch(() => res.writeHead(500).end());
  });
  server.on("error", (error) =>
    logger().warn({ err: error.message, port }, "worker metrics server not started"),
  );
  server.listen(port, host);
  return server;
}
