import { metrics } from "../lib/metrics.server";

/** Prometheus metrics of this web process (webhook acks, receipts, enqueue failures). */
export const loader = async () => {
  const registry = metrics().registry;
  return new Response(await registry.metrics(), {
    headers: { "Content-Type": registry.contentType },
  });
};
