/**
 * node:http helpers: the JSON `send` / `parseJson` of the local Shopify, plus a body reader that
 * keeps raw bytes (feed uploads are multipart/form-data).
 */
import type { IncomingMessage } from "node:http";

export { parseJson, send, type HttpResult } from "../shopify/http-util";

/** Hard cap on any request body (a feed file is limited to 5 MB by default). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function readBuffer(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Reads the body once, on first call. */
export function lazyBody(req: IncomingMessage): () => Promise<Buffer> {
  let promise: Promise<Buffer> | null = null;
  return () => (promise ??= readBuffer(req));
}
