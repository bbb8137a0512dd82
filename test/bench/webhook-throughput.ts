/**
 * Diagnostic: how many signed order webhooks per second the web process acknowledges on this
 * machine (receipt stored + job enqueued), sequentially and with concurrency.
 * `npx tsx test/bench/webhook-throughput.ts` — prints one JSON line.
 */
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { createTestDatabase, dropTestDatabase, REDIS_URL } from "../setup/services";
import { freePort, ROOT } from "../e2e/world";

const N = Number(process.env.N ?? 3000);
const CONCURRENCY = Number(process.env.C ?? 20);
const SECRET = "bench-secret";

async function main() {
  const database = await createTestDatabase("sg_t");
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: `sgwb-${randomUUID().slice(0, 6)}`,
    SHOPIFY_API_KEY: "k",
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_APP_URL: `http://127.0.0.1:${port}`,
    SCOPES: "read_orders",
    STOCKGUARD_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    LOG_LEVEL: "warn",
  };
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const shop = await client.query(
    "INSERT INTO shop (id, domain, updated_at) VALUES (gen_random_uuid(), 'bench.myshopify.com', now()) RETURNING id",
  );
  await client.query(
    "INSERT INTO connection (id, shop_id, kind, role, name, account_ref, updated_at) VALUES (gen_random_uuid(), $1, 'shopify', 'source', 'b', 'bench.myshopify.com', now())",
    [shop.rows[0].id],
  );
  await client.query(
    `INSERT INTO "Session" (id, shop, state, "accessToken") VALUES ('offline_bench.myshopify.com', 'bench.myshopify.com', '', 't')`,
  );
  const web = spawn(
    path.join(ROOT, "node_modules/.bin/tsx"),
    [
      ...(process.env.PROFILE ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []),
      "app/web-server.ts",
    ],
    { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] },
  );
  for (;;) {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const send = async (i: number) => {
    const body = JSON.stringify({
      id: 1000 + i,
      created_at: "2026-11-26T10:00:00Z",
      updated_at: "2026-11-26T10:00:00Z",
      line_items: [{ id: i, variant_id: 1, sku: "A", quantity: 1, current_quantity: 1 }],
      customer: { email: "x@example.com" },
    });
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/webhooks/orders`, {
      method: "POST",
      body,
      headers: {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "bench.myshopify.com",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": randomUUID(),
        "X-Shopify-Event-Id": randomUUID(),
        "X-Shopify-Hmac-Sha256": createHmac("sha256", SECRET).update(body).digest("base64"),
      },
    });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 200; i++) await send(i); // warm up
  const latencies: number[] = [];
  const started = performance.now();
  let next = 200;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N + 200) latencies.push(await send(next++));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  web.kill("SIGTERM");
  await client.end();
  await new Promise((r) => setTimeout(r, 500));
  await dropTestDatabase(database.name);
  console.log(
    JSON.stringify({
      webhooks: N,
      concurrency: CONCURRENCY,
      per_s: Math.round(N / seconds),
      p50_ms: Math.round(latencies[Math.floor(N * 0.5)]!),
      p99_ms: Math.round(latencies[Math.floor(N * 0.99)]!),
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
