/**
 * Test helpers for the local eBay: a seed, a small HTTP client speaking eBay's auth headers, the
 * OAuth code flow through the consent page, and a notification endpoint that answers eBay's
 * challenge the way the official SDK does and records every POST. Not a test file itself.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { EbaySeed } from "./model";
import type { LocalEbay } from "./server";
import { challengeResponse } from "./signing";

export const CLIENT_ID = "StockGua-StockGua-PRD-a1b2c3d4e-5f6a7b8c";
export const CLIENT_SECRET = "PRD-1b2c3d4e5f6a-7b8c-9d0e-1f2a-3b4c";
export const RU_NAME = "StockGuard_Inc-StockGua-StockG-abcdefghi";
export const ACCEPT_URL = "https://stockguard.test/ebay/accept";
export const SELLER = "mugs_and_more";
export const SELLER_ID = "ma8vp1jySJC";
export const OTHER_SELLER = "teapot_palace";
export const VERIFICATION_TOKEN = "stockguard-verification-token-0123456789abcdef";
export const SCOPE = {
  base: "https://api.ebay.com/oauth/api_scope",
  inventory: "https://api.ebay.com/oauth/api_scope/sell.inventory",
  fulfillment: "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
  subscription: "https://api.ebay.com/oauth/api_scope/commerce.notification.subscription",
};
export const ALL_SCOPES = [SCOPE.base, SCOPE.inventory, SCOPE.fulfillment, SCOPE.subscription];

/** One app; SELLER with MUG-BLUE (10), MUG-RED (4, offer capped at 3), TEAPOT (unpublished
 * offer), a Trading-API listing OLD-VASE (5); OTHER_SELLER with one item. */
export function seed(): EbaySeed {
  return {
    apps: [
      {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        ruName: RU_NAME,
        acceptUrl: ACCEPT_URL,
        declineUrl: "https://stockguard.test/ebay/declined",
      },
    ],
    sellers: [
      {
        username: SELLER,
        userId: SELLER_ID,
        eiasToken: "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ==",
        inventory: [
          { sku: "MUG-BLUE", title: "Blue mug", quantity: 10, offers: [{ price: "12.50" }] },
          {
            sku: "MUG-RED",
            title: "Red mug",
            quantity: 4,
            offers: [{ price: "12.50", availableQuantity: 3 }],
          },
          { sku: "TEAPOT", title: "Teapot", quantity: 2, offers: [{ published: false }] },
        ],
        tradingListings: [{ sku: "OLD-VASE", title: "Old vase", quantity: 5, price: "30.00" }],
      },
      {
        username: OTHER_SELLER,
        inventory: [{ sku: "POT-1", title: "Pot", quantity: 6 }],
      },
    ],
  };
}

export type Answer<T = unknown> = { status: number; headers: Headers; body: T; text: string };

/** A fetch wrapper: `token` goes out as `Bearer` (or `scheme`), JSON bodies by default. */
export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: {
    token?: string;
    scheme?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined)
    headers.Authorization = `${options.scheme ?? "Bearer"} ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["Content-Type"] ??= "application/json";
  }
  const response = await fetch(`${base}${path}`, { method, headers, body, redirect: "manual" });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export function basic(clientId = CLIENT_ID, secret = CLIENT_SECRET): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`;
}

/** POST /identity/v1/oauth2/token with a form body. */
export function tokenCall<T = Record<string, unknown>>(
  base: string,
  form: Record<string, string>,
  authorization = basic(),
): Promise<Answer<T>> {
  return call<T>(base, "POST", "/identity/v1/oauth2/token", {
    body: new URLSearchParams(form).toString(),
    headers: { Authorization: authorization, "Content-Type": "application/x-www-form-urlencoded" },
  });
}

export type UserTokens = {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  token_type: string;
};

/** The consent flow through the page's form, then the code exchange. */
export async function codeFlow(
  local: LocalEbay,
  username = SELLER,
  scopes = ALL_SCOPES,
): Promise<UserTokens> {
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: RU_NAME,
    response_type: "code",
    scope: scopes.join(" "),
    state: "st-1",
  });
  const page = await fetch(`${local.url}/oauth2/authorize?${query.toString()}`);
  const html = await page.text();
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(
      match[1] ?? "",
      (match[2] ?? "").replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))),
    );
  }
  form.set("username", username);
  form.set("decision", "agree");
  const consent = await fetch(`${local.url}/oauth2/consent`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form.toString(),
    redirect: "manual",
  });
  const location = new URL(consent.headers.get("location") ?? "");
  const code = location.searchParams.get("code") ?? "";
  const answer = await tokenCall<UserTokens>(local.url, {
    grant_type: "authorization_code",
    code,
    redirect_uri: RU_NAME,
  });
  if (answer.status !== 200) throw new Error(`code exchange failed: ${answer.text}`);
  return answer.body;
}

export async function appToken(base: string): Promise<string> {
  const answer = await tokenCall<{ access_token: string }>(base, {
    grant_type: "client_credentials",
    scope: SCOPE.base,
  });
  return answer.body.access_token;
}

export type Received = {
  at: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
};

export type Endpoint = {
  /** The URL to register as deliveryConfig.endpoint. */
  url: string;
  /** POSTed notifications, in arrival order. */
  posts: Received[];
  challenges: Received[];
  /** Status for the n-th POST (0-based). Default 204, like the SDK on a valid message. */
  respond: (n: number, req: Received) => number;
  /** Override the challenge answer (default: the SDK's algorithm with the right token). */
  challenge: (code: string) => { status: number; body: string };
  close(): Promise<void>;
};

export async function startEndpoint(
  verificationToken = VERIFICATION_TOKEN,
  path = "/ebay/notifications",
): Promise<Endpoint> {
  const endpoint: Endpoint = {
    url: "",
    posts: [],
    challenges: [],
    respond: () => 204,
    challenge: (code) => ({
      status: 200,
      body: JSON.stringify({
        challengeResponse: challengeResponse(code, verificationToken, endpoint.url),
      }),
    }),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received: Received = {
        at: Date.now(),
        method: req.method ?? "",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      const url = new URL(received.path, "http://x");
      if (req.method === "GET") {
        endpoint.challenges.push(received);
        const answer = endpoint.challenge(url.searchParams.get("challenge_code") ?? "");
        res.writeHead(answer.status, { "Content-Type": "application/json" });
        res.end(answer.body);
        return;
      }
      const n = endpoint.posts.length;
      endpoint.posts.push(received);
      res.writeHead(endpoint.respond(n, received));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  endpoint.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return endpoint;
}

/** Alert config + destination + subscription over HTTP; returns the ids. */
export async function subscribe(
  local: LocalEbay,
  endpoint: Endpoint,
  topicId: "ORDER_CONFIRMATION" | "MARKETPLACE_ACCOUNT_DELETION",
  token: string,
  app: string,
): Promise<{ destinationId: string; subscriptionId: string }> {
  const base = local.url;
  const NOTIF = "/commerce/notification/v1";
  await call(base, "PUT", `${NOTIF}/config`, {
    token: app,
    body: { alertEmail: "ops@stockguard.test" },
  });
  const destination = await call(base, "POST", `${NOTIF}/destination`, {
    token: app,
    body: {
      name: "stockguard",
      status: "ENABLED",
      deliveryConfig: { endpoint: endpoint.url, verificationToken: VERIFICATION_TOKEN },
    },
  });
  if (destination.status !== 201) throw new Error(`createDestination: ${destination.text}`);
  const destinationId = (destination.headers.get("location") ?? "").split("/").pop() ?? "";
  const subscription = await call(base, "POST", `${NOTIF}/subscription`, {
    token,
    body: {
      topicId,
      status: "ENABLED",
      destinationId,
      payload: { format: "JSON", schemaVersion: "1.0", deliveryProtocol: "HTTPS" },
    },
  });
  if (subscription.status !== 201) throw new Error(`createSubscription: ${subscription.text}`);
  const subscriptionId = (subscription.headers.get("location") ?? "").split("/").pop() ?? "";
  return { destinationId, subscriptionId };
}

/** Polls `condition` until true or throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
