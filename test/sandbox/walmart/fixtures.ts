/** Test helpers: a seller seed, HTTP receivers (webhook endpoint, OAuth token endpoint), polling. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { SellerSeed } from "./state";

export const PID = "10001234567";
export const CLIENT_ID = "test-client-id";
export const CLIENT_SECRET = "test-client-secret";
export const NODE_A = "234567";
export const NODE_B = "998877";

/** Two ship nodes (NODE_A default), four items. */
export function seedSeller(overrides: Partial<SellerSeed> = {}): SellerSeed {
  return {
    partnerId: PID,
    name: "Test Seller",
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    shipNodes: [NODE_A, { shipNode: NODE_B, name: "East DC" }],
    items: [
      { sku: "MUG-BLUE", productName: "Blue Mug", quantity: 10, price: 12.5 },
      { sku: "MUG-RED", productName: "Red Mug", quantity: 3 },
      { sku: "TEE-S", productName: "Tee S", inventory: { [NODE_A]: 1, [NODE_B]: 4 } },
      { sku: "OLD-1", productName: "Retired thing", quantity: 5, publishedStatus: "UNPUBLISHED" },
    ],
    ...overrides,
  };
}

export type Received = {
  at: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
};

export type Receiver = {
  url: string;
  requests: Received[];
  /** Status for the n-th request (0-based); default 200. */
  respond: (n: number, req: Received) => number | "hang" | { status: number; body: string };
  close(): Promise<void>;
};

export async function startReceiver(respond: Receiver["respond"] = () => 200): Promise<Receiver> {
  const receiver: Receiver = { url: "", requests: [], respond, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received: Received = {
        at: Date.now(),
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      const n = receiver.requests.length;
      receiver.requests.push(received);
      const action = receiver.respond(n, received);
      if (action === "hang") return;
      if (typeof action === "number") {
        res.writeHead(action);
        res.end("ok");
        return;
      }
      res.writeHead(action.status, { "Content-Type": "application/json" });
      res.end(action.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** A tiny OAuth client-credentials endpoint: checks Basic clientId:clientSecret, issues tokens. */
export async function startTokenEndpoint(clientId: string, clientSecret: string, expiresIn = 3600) {
  let issued = 0;
  const tokens: string[] = [];
  const receiver = await startReceiver((_n, req) => {
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`;
    if (req.headers.authorization !== expected || req.body !== "grant_type=client_credentials") {
      return { status: 401, body: JSON.stringify({ error: "invalid_client" }) };
    }
    issued += 1;
    const token = `local-token-${issued}`;
    tokens.push(token);
    return {
      status: 200,
      body: JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: expiresIn }),
    };
  });
  return { ...receiver, tokens, receiver };
}

/** A multipart/form-data body with one `file` part. */
export function multipart(
  content: string | Buffer,
  filename = "inventory.json",
  type = "application/json",
) {
  const boundary = "----sandboxBoundary7MA4YWxkTrZu0gW";
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
    ),
    Buffer.isBuffer(content) ? content : Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

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

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
