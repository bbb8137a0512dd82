/**
 * `npm run demo` — the whole product on this machine: a local Shopify with a source store and two
 * other stores selling the same stock, a local Amazon, eBay and Walmart selling it too, the web
 * process and a worker, every channel connected the way a merchant connects it (CLI for the
 * stores, the marketplaces' own consent or key flows), and (unless DEMO_BUYERS=0) simulated
 * buyers on every channel and a packer so there is something to watch.
 *
 * Env: PORT (web, default 3000), DEMO_SHOPIFY_PORT (local Shopify, default 9100),
 * DEMO_AMAZON_PORT / DEMO_EBAY_PORT / DEMO_WALMART_PORT (9200 / 9201 / 9202),
 * DEMO_MARKETPLACES (default "amazon,ebay,walmart"; empty for Shopify stores only),
 * DEMO_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/stockguard_demo, recreated on
 * every start), REDIS_URL. Stop with Ctrl-C.
 */
import pg from "pg";
import { startAmazonForDemo } from "../e2e/amazon-world";
import { ebayWorldEnv, startEbayForDemo, type EbayWorld } from "../e2e/ebay-world";
import { startWalmartForDemo, WALMART_WORLD_ENV } from "../e2e/walmart-world";
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
  const marketplaces = new Set(
    (process.env.DEMO_MARKETPLACES ?? "amazon,ebay,walmart")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean),
  );
  for (const m of marketplaces)
    if (!["amazon", "ebay", "walmart"].includes(m))
      throw new Error(`DEMO_MARKETPLACES: unknown marketplace ${m} (amazon, ebay, walmart)`);
  // Amazon's app (LWA client, SQS queue) is configuration the web and worker start with.
  const amazon = marketplaces.has("amazon")
    ? await startAmazonForDemo({
        webPort: PORT,
        skus: SKUS,
        port: Number(process.env.DEMO_AMAZON_PORT ?? 9200),
      })
    : null;
  const world = await startWorld({
    skus: SKUS,
    stock: (i) => 3 + (i % 8),
    secondaryStores: 2,
    port: PORT,
    shopifyPort: SHOPIFY_PORT,
    databaseUrl: DATABASE_URL,
    delivery: { delayMs: [100, 900], concurrency: 20 },
    env: {
      STOCKGUARD_SANDBOX: "1",
      PUSH_COALESCE_MS: "200",
      WORKER_METRICS_PORT: "9464",
      ...(amazon?.env ?? {}),
      ...(marketplaces.has("ebay") ? ebayWorldEnv() : {}),
      ...(marketplaces.has("walmart") ? WALMART_WORLD_ENV : {}),
    },
  });
  say("Connecting the marketplaces…");
  if (amazon) await amazon.connect(world);
  const ebay: EbayWorld | null = marketplaces.has("ebay")
    ? await startEbayForDemo(world, {
        skus: SKUS,
        port: Number(process.env.DEMO_EBAY_PORT ?? 9201),
      })
    : null;
  const walmart = marketplaces.has("walmart")
    ? await startWalmartForDemo(world, { port: Number(process.env.DEMO_WALMART_PORT ?? 9202) })
    : null;
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
  if (amazon)
    say(`  Local Amazon:    ${amazon.amazon.local.url} (seller ${amazon.amazon.sellerId})`);
  if (ebay) say(`  Local eBay:      ${ebay.ebay.url} (seller ${ebay.seller})`);
  if (walmart) say(`  Local Walmart:   ${walmart.url}`);
  say();
  say("  Buy on a storefront:");
  say(
    `    curl -s -X POST ${world.shopify.url}/${world.stores[0]}/storefront/checkout -H 'content-type: application/json' -d '{"lines":[{"sku":"${skuOf(1)}","quantity":1}]}'`,
  );
  say("  See what every channel shows and what is pending:");
  say(`    DATABASE_URL=${DATABASE_URL} npm run cli -- status --shop ${world.source}`);
  say("  In the admin, try: Inventory → an item → adjust on hand (previewed, confirmed); Buffer");
  say("  rules → hold back units and watch every channel follow; Incidents → oversells by cause;");
  say("  Counts → count a shelf; Recommendations → buffers from demand and measured sync delay.");
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
    const channels = [
      ...stores,
      ...(amazon ? ["amazon"] : []),
      ...(ebay ? ["ebay"] : []),
      ...(walmart ? ["walmart"] : []),
    ];
    while (!stopping && buyers) {
      const store = channels[Math.floor(random() * channels.length)]!;
      const sku = skuOf(Math.floor(random() * SKUS));
      try {
        // Each marketplace refuses a purchase it shows no stock for, as a storefront does.
        if (store === "amazon")
          amazon!.amazon.local.sandbox.purchase(amazon!.amazon.sellerId, {
            sku,
            quantity: 1,
            status: "Unshipped",
          });
        else if (store === "ebay")
          ebay!.ebay.sandbox.checkout(ebay!.seller, { lines: [{ sku, quantity: 1 }] });
        else if (store === "walmart") {
          if (!walmart!.buy(sku, 1)) throw new Error("sold out");
        } else sandbox.checkout(store, { lines: [{ sku, quantity: 1 }] });
        orders++;
      } catch {
        refused++;
      }
      if (stores.includes(store) && random() < 0.2) {
        const open = [...sandbox.shop(store).orders.values()].filter((o) =>
          o.lineItems.some((l) => l.fulfilled === 0),
        );
        const order = open[Math.floor(random() * open.length)];
        if (order) sandbox.fulfillOrder(store, String(order.id));
      }
      await new Promise((r) => setTimeout(r, 500 + random() * 1500));
    }
  };
  // A delivery reaches the warehouse every minute: sold-out SKUs at the source get 5–9 units, so
  // the demo keeps selling (each is a receipt StockGuard counts and spreads to every channel).
  let restocked = 0;
  const restock = setInterval(() => {
    if (!buyers) return;
    const shop = sandbox.shop(world.source);
    for (let i = 0; i < SKUS; i++) {
      const variant = shop.variantBySku(skuOf(i));
      const level =
        variant && shop.items.get(variant.inventoryItemId)?.levels.values().next().value;
      if (!level || level.quantities.available > 1) continue;
      const units = 5 + (i % 5);
      try {
        sandbox.adjustInventory(world.source, {
          sku: skuOf(i),
          location: "Warehouse",
          name: "available",
          delta: units,
        });
        restocked += units;
      } catch {
        // A level the store does not stock: skip it.
      }
    }
  }, 60_000);
  const status = setInterval(
    () =>
      buyers &&
      say(
        `  … ${orders} orders placed, ${refused} refused (sold out), ${restocked} units restocked`,
      ),
    30_000,
  );
  const done = loop();
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  stopping = true;
  clearInterval(status);
  clearInterval(restock);
  say("\nStopping…");
  await done;
  await walmart?.close();
  await ebay?.close();
  await world.close();
  await amazon?.amazon.local.close();
  say("Stopped.");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
