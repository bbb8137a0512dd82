/**
 * `authenticate.webhook` (the Shopify library: app/uninstalled, app/scopes_update, compliance)
 * with the sandbox contract's status codes: unsigned (no HMAC header) → 401, wrong signature →
 * 401 (library), missing headers → 400 (library), signed but malformed JSON → 400, body over the
 * limit → 413 before it is buffered. Nothing is stored before this returns.
 */
import { authenticate } from "../shopify.server";
import { readBoundedBody } from "./body.server";

export async function authenticateWebhook(request: Request) {
  if (request.method !== "POST") throw new Response(null, { status: 405 });
  if (
    !request.headers.get("x-shopify-hmac-sha256") &&
    !request.headers.get("shopify-hmac-sha256")
  ) {
    throw new Response(null, { status: 401, statusText: "Unauthorized" });
  }
  const body = await readBoundedBody(request);
  if (body instanceof Response) throw body;
  const bounded = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
  });
  try {
    return await authenticate.webhook(bounded);
  } catch (error) {
    if (error instanceof Response) throw error;
    if (error instanceof SyntaxError) {
      throw Response.json({ error: "malformed JSON body" }, { status: 400 });
    }
    throw error;
  }
}

/** A 400 answer for a signed payload that fails schema validation. */
export function badPayload(reason: string): Response {
  return Response.json({ error: "invalid payload", reason }, { status: 400 });
}

/** The shop a payload names must be the shop its header names (headers are not signed). */
export function sameShop(header: string, named: string | null | undefined): boolean {
  return typeof named === "string" && named.trim().toLowerCase() === header.trim().toLowerCase();
}
