/**
 * Bounded request bodies for every inbound route. A declared Content-Length above the limit is
 * refused before a byte is read; a body without one (chunked) is read chunk by chunk and refused
 * as soon as it passes the limit, so an anonymous request can never make the process buffer more
 * than the limit (signatures can only be checked over the whole body).
 */

import { env } from "../env.server";

export function tooLarge(): Response {
  return Response.json({ error: "payload too large" }, { status: 413 });
}

/** The body as text, or a 413 response. */
export async function readBoundedBody(
  request: Request,
  limit = env().WEBHOOK_MAX_BYTES,
): Promise<string | Response> {
  const declared = request.headers.get("content-length");
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > limit)) {
    await request.body?.cancel().catch(() => undefined);
    return tooLarge();
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
