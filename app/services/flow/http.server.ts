/**
 * The HTTP edge of a Flow action route: POST only, a bounded body read as raw text (the HMAC is
 * over the exact bytes Flow sent), the signature header, and the service's answer as JSON.
 */
import { MAX_FLOW_ACTION_BYTES, runFlowAction } from "./actions.server";
import type { FlowActionHandle } from "./definitions";

export async function flowActionResponse(
  handle: FlowActionHandle,
  request: Request,
): Promise<Response> {
  if (request.method !== "POST")
    return new Response(null, { status: 405, headers: { Allow: "POST" } });
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_FLOW_ACTION_BYTES)
    return Response.json({ message: "request too large" }, { status: 413 });
  const raw = await request.text();
  const result = await runFlowAction(handle, raw, request.headers.get("x-shopify-hmac-sha256"));
  return Response.json(result.body, { status: result.status });
}
