/**
 * node:http helpers for the local eBay: JSON answers (`HttpResult` of the Shopify sandbox) plus
 * raw answers (HTML consent page, redirects, empty 204s), and a small outbound HTTP client used
 * for the endpoint challenge and push deliveries (fresh connection per request, hard deadlines).
 */
import http from "node:http";
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";

export { parseJson, readBody, sleep } from "../shopify/http-util";

export type EbayResult = {
  status: number;
  /** Serialised as JSON unless `raw` is given. Omitted (and no raw): empty body. */
  body?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
};

export function sendResult(res: ServerResponse, result: EbayResult): void {
  if (res.headersSent || res.destroyed) return;
  let text = "";
  let contentType = result.contentType;
  if (result.raw !== undefined) {
    text = result.raw;
    contentType ??= "text/plain; charset=utf-8";
  } else if (result.body !== undefined) {
    text = JSON.stringify(result.body);
    contentType ??= "application/json";
  }
  const headers: Record<string, string | number> = {
    "Content-Length": Buffer.byteLength(text),
    ...result.headers,
  };
  if (contentType && text !== "") headers["Content-Type"] = contentType;
  res.writeHead(result.status, headers);
  res.end(text);
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export type OutboundResult = {
  status: number | null;
  body: string;
  error: string | null;
  durationMs: number;
};

/** Outbound HTTP of one server (challenge GETs, push POSTs): fresh connection per request. */
export class OutboundClient {
  private readonly httpAgent = new http.Agent({ keepAlive: false });
  private readonly httpsAgent = new https.Agent({ keepAlive: false });
  private readonly inFlight = new Set<http.ClientRequest>();

  /** One HTTP request with a total deadline; never throws. */
  request(
    url: string,
    options: {
      method: "GET" | "POST";
      headers?: Record<string, string | number>;
      body?: string;
      timeoutMs: number;
    },
  ): Promise<OutboundResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      let settled = false;
      let request: http.ClientRequest | null = null;
      const finish = (status: number | null, body: string, error: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (request) this.inFlight.delete(request);
        resolve({ status, body, error, durationMs: Date.now() - started });
      };
      const timer = setTimeout(() => {
        finish(null, "", `timeout after ${options.timeoutMs} ms`);
        request?.destroy();
      }, options.timeoutMs);
      try {
        const target = new URL(url);
        const secure = target.protocol === "https:";
        request = (secure ? https.request : http.request)(target, {
          method: options.method,
          headers: options.headers,
          agent: secure ? this.httpsAgent : this.httpAgent,
        });
      } catch (error) {
        finish(null, "", (error as Error).message);
        return;
      }
      this.inFlight.add(request);
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 65_536) chunks.push(chunk);
        });
        response.on("error", (error) => finish(null, "", error.message));
        response.on("end", () =>
          finish(response.statusCode ?? null, Buffer.concat(chunks).toString("utf8"), null),
        );
      });
      request.on("error", (error: NodeJS.ErrnoException) =>
        finish(null, "", error.code ?? error.message),
      );
      request.end(options.body);
    });
  }

  /** Aborts every request in flight. */
  abortAll(): void {
    for (const request of this.inFlight) request.destroy();
    this.inFlight.clear();
  }

  close(): void {
    this.abortAll();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
