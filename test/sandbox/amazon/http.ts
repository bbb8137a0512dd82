/**
 * node:http helpers for the local Amazon: raw request bodies (SigV4 hashes the exact bytes),
 * replies with any content type, form parsing and SP-API style error bodies.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest } from "../shopify/errors";
import { parseJson } from "../shopify/http-util";

/** One answer: `json` is serialised; `raw` is sent as is with `contentType`. */
export type Reply = {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: string | Buffer;
  contentType?: string;
};

const MAX_BODY_BYTES = 30 * 1024 * 1024;

export function readRaw(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
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

export function sendReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  let body: Buffer;
  let contentType: string;
  if (reply.raw !== undefined) {
    body = typeof reply.raw === "string" ? Buffer.from(reply.raw, "utf8") : reply.raw;
    contentType = reply.contentType ?? "application/octet-stream";
  } else if (reply.json !== undefined) {
    body = Buffer.from(JSON.stringify(reply.json), "utf8");
    contentType = reply.contentType ?? "application/json";
  } else {
    body = Buffer.alloc(0);
    contentType = reply.contentType ?? "application/json";
  }
  const headers: Record<string, string | number> = {
    "Content-Length": body.length,
    ...reply.headers,
  };
  if (body.length > 0 || reply.contentType) headers["Content-Type"] = contentType;
  res.writeHead(reply.status, headers);
  res.end(body);
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status, json: body, headers } : { status, json: body };
}

/** The SP-API error body: `{ errors: [{ code, message, details }] }`. */
export function spErrors(code: string, message: string, details = ""): { errors: unknown[] } {
  return { errors: [{ code, message, details }] };
}

/** Parses `application/x-www-form-urlencoded` text. */
export function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) out[key] = value;
  return out;
}

/** A form or JSON body as a flat string map (LWA accepts both). */
export function parseFormOrJson(
  body: Buffer,
  contentType: string | undefined,
): Record<string, string> | null {
  const text = body.toString("utf8");
  if ((contentType ?? "").includes("json")) {
    const parsed = parseJson(text);
    if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return null;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed.value as Record<string, unknown>)) {
      if (v !== undefined && v !== null) out[k] = String(v);
    }
    return out;
  }
  return parseForm(text);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : value;
}

/** A JSON object body (undefined/null: `{}`); anything else is a 400 ControlError. */
export function objectBody(input: unknown): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw badRequest("expected a JSON object");
  }
  return input as Record<string, unknown>;
}
