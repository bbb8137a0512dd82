/**
 * The HTTP edge of marketplace deliveries (`/webhooks/<kind>/<connection id>`): bounded body,
 * then the channel-neutral service; the status, and any handshake body, as the service decides.
 * A database outage answers 503 so the marketplace retries.
 */
import { metrics } from "../lib/metrics.server";
import { log } from "../logger.server";
import { receiveMarketplaceDelivery } from "../services/inbound/marketplace-deliveries.server";
import { readBoundedBody } from "./body.server";

const KINDS = new Set(["amazon", "ebay", "walmart"]);

export async function handleMarketplaceDelivery(
  request: Request,
  params: { kind?: string; connectionId?: string },
): Promise<Response> {
  const started = performance.now();
  const kind = params.kind ?? "";
  const label = KINDS.has(kind) ? kind : "other";
  const body = request.method === "GET" ? "" : await readBoundedBody(request);
  if (body instanceof Response) return body;
  try {
    const answer = await receiveMarketplaceDelivery(kind, params.connectionId ?? "", {
      method: request.method,
      url: request.url,
      headers: request.headers,
      body,
    });
    metrics().receipts.inc({ channel: label, outcome: answer.outcome });
    metrics().webhookAckSeconds.observe(
      { topic: label, outcome: answer.outcome },
      (performance.now() - started) / 1000,
    );
    return new Response(answer.body ?? null, {
      status: answer.status,
      headers: answer.contentType ? { "Content-Type": answer.contentType } : undefined,
    });
  } catch (error) {
    log({ channel: label }).error(
      { err: (error as Error).message },
      "delivery not stored; asking the marketplace to retry",
    );
    metrics().receipts.inc({ channel: label, outcome: "error" });
    return new Response(null, { status: 503 });
  }
}
