/**
 * Prometheus metrics of the web (webhook acks, receipts, enqueue failures; summed over the
 * cluster's processes when WEB_CONCURRENCY > 1), for a
 * scraper holding STOCKGUARD_METRICS_TOKEN; 404 when no token is configured, 401 without it.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { env } from "../env.server";
import { metricsAccess } from "../lib/metrics-auth.server";
import { webMetricsText } from "../lib/metrics.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const access = metricsAccess(
    request.headers.get("authorization"),
    env().STOCKGUARD_METRICS_TOKEN,
  );
  if (access === "disabled") return new Response("Not Found", { status: 404 });
  if (access === "missing")
    return new Response("Unauthorized", {
      status: 401,
      headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
    });
  const { text, contentType } = await webMetricsText();
  return new Response(text, { headers: { "Content-Type": contentType } });
};
