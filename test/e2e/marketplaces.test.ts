import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  amazonShows,
  amazonUnits,
  connectAmazon,
  prepareAmazon,
  type PreparedAmazon,
} from "./amazon-world";
import { ebayUnits, ebayWorldEnv, startEbayForWorld, type EbayWorld } from "./ebay-world";
import { startWalmart, WALMART_WORLD_ENV, walmartTotals, type WalmartWorld } from "./walmart-world";
import { availableAt, freePort, skuOf, startWorld, waitFor, type World } from "./world";

/**
 * Every channel at once: a Shopify source store, a second Shopify store, Amazon, eBay and Walmart
 * selling one pool, each connected the merchant's way (a custom app's token for the store, the
 * consent flows of Amazon and eBay, the seller's keys for Walmart). Buyers on all five channels
 * for a few seconds, with each marketplace's own delivery delays and duplicates; then every
 * channel must show what StockGuard publishes, and the ledger must hold exactly the units every
 * channel's own records commit, and the shelf the source store has.
 */
const SKUS = 10;
const BUY_MS = 8_000;
const stock = (i: number) => 3 + (i % 3);

describe("Shopify stores, Amazon, eBay and Walmart selling one pool", () => {
  let world: World;
  let amazon: PreparedAmazon;
  let ebay: EbayWorld;
  let walmart: WalmartWorld;

  /** Every active listing whose channel does not show its published quantity, or still moving. */
  const allMismatches = async (): Promise<string[]> => {
    const rows = await world.pg.query<{
      kind: string;
      account: string;
      sku: string;
      remoteRef: string;
      remoteLocationRef: string;
      published: number;
      dirty: boolean;
      pending: boolean;
    }>(`
      SELECT c.kind::text AS kind, c.account_ref AS account, l.sku, l.remote_ref AS "remoteRef",
             l.remote_location_ref AS "remoteLocationRef", l.published_quantity AS published,
             l.published_version > l.pushed_version AS dirty,
             l.pending_tracking_id IS NOT NULL AS pending
        FROM listing l JOIN connection c ON c.id = l.connection_id WHERE l.status = 'active'`);
    const out: string[] = [];
    for (const row of rows.rows) {
      const shows =
        row.kind === "amazon"
          ? (amazonShows(amazon, row.remoteRef) ?? Number.NaN)
          : row.kind === "ebay"
            ? ebay.shows(row.remoteRef)
            : row.kind === "walmart"
              ? walmart.local.sandbox.item(walmart.partnerId, row.remoteRef).availToSellQty
              : Math.max(0, availableAt(world, row.account, row.remoteRef, row.remoteLocationRef));
      if (shows !== row.published || row.dirty || row.pending)
        out.push(
          `${row.kind}:${row.account} ${row.sku} shows ${shows}, published ${row.published}${row.dirty ? " (dirty)" : ""}${row.pending ? " (pending)" : ""}`,
        );
    }
    return out;
  };

  beforeAll(async () => {
    const webPort = await freePort();
    amazon = await prepareAmazon({
      webPort,
      skus: SKUS,
      timeScale: 0.1,
      delivery: { delayMs: [100, 800], duplicateProbability: 0.1, reorder: true },
    });
    world = await startWorld({
      skus: SKUS,
      stock,
      secondaryStores: 1,
      port: webPort,
      delivery: { delayMs: [0, 300], duplicateProbability: 0.2, reorder: true, concurrency: 50 },
      env: {
        PUSH_COALESCE_MS: "100",
        PUSH_SETTLE_MS: "3000",
        ...amazon.env,
        ...ebayWorldEnv(),
        ...WALMART_WORLD_ENV,
      },
    });
    await connectAmazon(world, amazon);
    ebay = await startEbayForWorld(world, { skus: SKUS, push: { delayMs: [100, 800] } });
    walmart = await startWalmart(world, { delivery: { delayMs: [100, 800] } });
    await waitFor(
      async () => (await allMismatches()).length === 0,
      90_000,
      "initial convergence",
      world.output,
    );
  }, 300_000);

  afterAll(async () => {
    await walmart?.close();
    await ebay?.close();
    await world?.close();
    await amazon?.local.close();
  });

  it(
    "converges on every channel with the ledger equal to every channel's own records",
    { timeout: 180_000 },
    async () => {
      const shopify = world.shopify.sandbox;
      const stores = [world.source, ...world.stores];
      const channels = [...stores, "amazon", "ebay", "walmart"];
      const sold = new Map<string, number>(channels.map((c) => [c, 0]));
      let refused = 0;
      let seed = 99;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const until = Date.now() + BUY_MS;
      while (Date.now() < until) {
        const channel = channels[Math.floor(random() * channels.length)]!;
        const sku = skuOf(Math.floor(random() * SKUS));
        try {
          if (channel === "amazon")
            amazon.local.sandbox.purchase(amazon.sellerId, {
              sku,
              quantity: 1,
              status: "Unshipped",
            });
          else if (channel === "ebay")
            ebay.ebay.sandbox.checkout(ebay.seller, { lines: [{ sku, quantity: 1 }] });
          else if (channel === "walmart")
            walmart.local.sandbox.placeOrder(walmart.partnerId, { lines: [{ sku, qty: 1 }] });
          else shopify.checkout(channel, { lines: [{ sku, quantity: 1 }] });
          sold.set(channel, sold.get(channel)! + 1);
        } catch {
          refused++;
        }
        await new Promise((r) => setTimeout(r, 80 + random() * 120));
      }
      const started = Date.now();
      let last: string[] = [];
      await waitFor(
        async () => {
          if (!(await shopify.waitForWebhooksIdle(1_000))) return false;
          last = await allMismatches();
          return last.length === 0;
        },
        120_000,
        "convergence on every channel",
        () => `${last.join("\n")}\n${world.output().slice(-3_000)}`,
      );
      console.log(
        `marketplaces e2e: sold ${JSON.stringify(Object.fromEntries(sold))}, ${refused} refused; ` +
          `every channel shows what StockGuard publishes ${Date.now() - started} ms after the last sale`,
      );
      for (const channel of channels)
        expect({ channel, sold: sold.get(channel)! > 0 }).toEqual({
          channel,
          sold: true,
        });

      // The ledger holds exactly what every channel's own records commit, and the shelf.
      const ledger = await world.pg.query<{ sku: string; onHand: number; committed: number }>(`
        SELECT i.sku, s.on_hand AS "onHand", s.committed
          FROM stock_item i JOIN stock_level s ON s.item_id = i.id`);
      const level = (store: string, sku: string) => {
        const shop = shopify.shop(store);
        const variant = shop.variantBySku(sku)!;
        return shop.items.get(variant.inventoryItemId)!.levels.values().next().value!;
      };
      const onAmazon = amazonUnits(amazon);
      const onEbay = ebayUnits(ebay);
      const onWalmart = walmartTotals(walmart);
      const problems: string[] = [];
      for (const row of ledger.rows) {
        const committed =
          stores.reduce((n, store) => n + level(store, row.sku).quantities.committed, 0) +
          (onAmazon.get(row.sku)?.committed ?? 0) +
          (onEbay.get(row.sku)?.open ?? 0) +
          (onWalmart.get(row.sku)?.open ?? 0);
        if (row.committed !== committed)
          problems.push(`${row.sku} committed: ledger ${row.committed}, channels ${committed}`);
        const source = level(world.source, row.sku).quantities;
        const shelf =
          source.available +
          source.committed +
          source.reserved +
          source.damaged +
          source.safety_stock +
          source.quality_control;
        if (row.onHand !== shelf)
          problems.push(`${row.sku} on_hand: ledger ${row.onHand}, source shelf ${shelf}`);
      }
      expect(problems).toEqual([]);
    },
  );
});
