/**
 * `npm run demo` — the whole product on this machine: a local Shopify with a source store and two
 * other stores selling the same stock, the web process and a worker, connected through the CLI,
 * and (unless DEMO_BUYERS=0) simulated buyers and a packer so there is something to watch.
 *
 * Env: PORT (web, default 3000), DEMO_SHOPIFY_PORT (local Shopify, default 9100),
 * DEMO_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/stockguard_demo, recreated on
 * every start), REDIS_URL. Stop with Ctrl-C.
 */
import pg from "pg";
import { skuOf, startWorld } from "../e2e/world";

const PORT = Number(process.env.PORT ?? 3000);
const SHOPIFY_PORT = Number(process.env.DEMO_SHOPIFY_PORT ?? 9100);
const DATABASE_URL =
  process.env.DEMO_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/stockguard_demo";
const SKUS = 30;

async function recreate(url: string): Promise<void> {
  const admin = new URL(url);
  const name = admin.pathname.slice(1);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
}

async function main(): Promise<void> {
  const say = (line = "") => process.stdout.write(`${line}\n`);
  say("Starting the StockGuard demo (local Shopify, web, worker)…");
  await recreate(DATABASE_URL);
  const world = await startWorld({
    skus: SKUS,
    stock: (i) => 3 + (i % 8),
    secondaryStores: 2,
    port: PORT,
    shopifyPort: SHOPIFY_PORT,
    databaseUrl: DATABASE_URL,
    delivery: { delayMs: [100, 900], concurrency: 20 },
    env: { STOCKGUARD_SANDBOX: "1", PUSH_COALESCE_MS: "200", WORKER_METRICS_PORT: "9464" },
  });
  const sandbox = world.shopify.sandbox;
  const stores = [world.source, ...world.stores];
  say();
  say("StockGuard demo is running.");
  say(
    `  Admin (embedded app, sandbox sign-in): ${world.webUrl}/sandbox/admin?shop=${world.source}`,
  );
  say(
    `  Metrics:         ${world.webUrl}/metrics and http://127.0.0.1:9464/metrics (Authorization: Bearer ${world.metricsToken})`,
  );
  say(
    `  Local Shopify:   ${world.shopify.url}  (control API: ${world.shopify.url}/_control/shops)`,
  );
  say(
    `  Stores:          ${world.source} (stock source), ${world.stores.join(", ")} — ${SKUS} products each`,
  );
  say();
  say("  Buy on a storefront:");
  say(
    `    curl -s -X POST ${world.shopify.url}/${world.stores[0]}/storefront/checkout -H 'content-type: application/json' -d '{"lines":[{"sku":"${skuOf(1)}","quantity":1}]}'`,
  );
  say("  See what every channel shows and what is pending:");
  say(`    DATABASE_URL=${DATABASE_URL} npm run cli -- status --shop ${world.source}`);
  say("  Hold back 2 units on every other store:");
  say(
    `    DATABASE_URL=${DATABASE_URL} npm run cli -- rule:set --shop ${world.source} --kind reserve_units --value 2`,
  );
  say();

  let stopping = false;
  const buyers = process.env.DEMO_BUYERS !== "0";
  say(
    buyers
      ? "Simulated buyers and a packer are on (DEMO_BUYERS=0 turns them off). Ctrl-C to stop."
      : "Ctrl-C to stop.",
  );
  let orders = 0;
  let refused = 0;
  const loop = async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    while (!stopping && buyers) {
      const store = stores[Math.floor(random() * stores.length)]!;
      try {
        sandbox.checkout(store, {
          lines: [{ sku: skuOf(Math.floor(random() * SKUS)), quantity: 1 }],
        });
        orders++;
      } catch {
        refused++;
      }
      if (random() < 0.2) {
        const open = [...sandbox.shop(store).orders.values()].filter((o) =>
          o.lineItems.some((l) => l.fulfilled === 0),
        );
        const order = open[Math.floor(random() * open.length)];
        if (order) sandbox.fulfillOrder(store, String(order.id));
      }
      await new Promise((r) => setTimeout(r, 500 + random() * 1500));
    }
  };
  const status = setInterval(
    () => buyers && say(`  … ${orders} orders placed, ${refused} refused (sold out)`),
    30_000,
  );
  const done = loop();
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  stopping = true;
  clearInterval(status);
  say("\nStopping…");
  await done;
  await world.close();
  say("Stopped.");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
