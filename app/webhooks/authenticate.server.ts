import { authenticate } from "../shopify.server";

/**
 * `authenticate.webhook` with the sandbox contract's status codes:
 * unsigned (no HMAC header) → 401, wrong signature → 401 (library), missing headers → 400
 * (library), signed but malformed JSON → 400. Nothing is stored before this returns.
 */
export async function authenticateWebhook(request: Request) {
  if (request.method !== "POST") throw new Response(null, { status: 405 });
  if (
    !request.headers.get("x-shopify-hmac-sha256") &&
    !request.headers.get("shopify-hmac-sha256")
  ) {
    throw new Response(null, { status: 401, statusText: "Unauthorized" });
  }
  try {
    return await authenticate.webhook(request);
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
