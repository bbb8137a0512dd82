/** Test helpers: seeds, a webhook receiver, polling. Not a test file itself. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ProductSeed, ShopSeed } from "./state";

export const SHOP = "sandbox-test.myshopify.com";
export const TOKEN = "shpat_sandbox_test";
export const SECRET = "test-api-secret";

/** Two locations (WH first, then Store), one two-variant product, plus `extra` products. */
export function seedShop(overrides: Partial<ShopSeed> = {}): ShopSeed {
  return {
    domain: SHOP,
    name: "Sandbox Test",
    accessToken: TOKEN,
    locations: [{ name: "WH" }, { name: "Store" }],
    products: [
      {
        title: "Shirt",
        variants: [
          {
            sku: "SHIRT-S",
            title: "S",
            price: "20.00",
            inventory: { WH: 10, Store: { available: 4, damaged: 1 } },
          },
          { sku: "SHIRT-M", title: "M", price: "20.00", inventory: { WH: 3 } },
        ],
      },
    ],
    ...overrides,
  };
}

/** A seed with `count` single-variant products SKU-0001…, each stocked at WH with `available`. */
export function manyProducts(count: number, available = 5): ProductSeed[] {
  return Array.from({ length: count }, (_, i) => ({
    title: `Product ${i + 1}`,
    variants: [{ sku: `SKU-${String(i + 1).padStart(4, "0")}`, inventory: { WH: available } }],
  }));
}

export type Received = {
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
};

export type Receiver = {
  url: string;
  requests: Received[];
  /** Status for the n-th request (0-based) to reply with; default 200. */
  respond: (n: number, req: Received) => number | "hang" | "destroy";
  close(): Promise<void>;
};

export async function startReceiver(respond: Receiver["respond"] = () => 200): Promise<Receiver> {
  const receiver: Receiver = {
    url: "",
    requests: [],
    respond,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received: Received = {
        at: Date.now(),
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      const n = receiver.requests.length;
      receiver.requests.push(received);
      const action = receiver.respond(n, received);
      if (action === "hang") return;
      if (action === "destroy") {
        req.socket.destroy();
        return;
      }
      res.writeHead(action, action >= 300 && action < 400 ? { Location: "/elsewhere" } : {});
      res.end("ok");
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

/** A fresh v4-looking UUID for idempotency keys (the adapter accepts only [0-9a-f-]{36}). */
let keyCounter = 0;
export function key(): string {
  keyCounter += 1;
  const hex = keyCounter.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}
