/**
 * A Walmart Marketplace seller joining a world (test/e2e/world.ts): the local Walmart started with
 * the world's SKUs (and one SKU the shop does not sell), connected through the product's own path
 * (`channel:connect --kind walmart` with the seller's keys; StockGuard creates its webhook
 * subscriptions itself), and what the end-of-run checks need: what Walmart shows now and over
 * time, its orders, and the ledger checks of world.ts with Walmart's orders counted.
 * `startWalmartForDemo` is the same for `npm run demo`.
 */
import { startLocalWalmart, type LocalWalmart, type StartOptions } from "../sandbox/walmart/server";
import type { OrderRec } from "../sandbox/walmart/state";
import type { DeliveryConfig } from "../sandbox/walmart/webhooks";
import type { ShownValue } from "../helpers/sale-latency";
import { availableAt, describeSourceSku, type World } from "./world";

export const WALMART_PARTNER = "10005550123";
export const WALMART_KEYS = {
  clientId: "5b1c6a2e-walmart-e2e",
  clientSecret: "wm-e2e-secret-4f0d9a",
};
/** The name sales latency reports give the Walmart channel. */
export const WALMART = "walmart";
/** A SKU listed on Walmart that the shop does not sell (its orders become unmatched lines). */
export const WALMART_ONLY_SKU = "WM-ONLY-1";

/** Environment the world's processes need for Walmart (polls every 2 s instead of a minute). */
export const WALMART_WORLD_ENV = { WALMART_POLL_INTERVAL_MS: "2000" };

export type WalmartWorld = {
  local: LocalWalmart;
  partnerId: string;
  connectionId: string;
  /** Every change of what Walmart offers buyers (sum of availToSell), per SKU, since start. */
  history: ShownValue[];
  /** What buyers can buy now, per SKU. */
  shown(): Map<string, number>;
  orders(): OrderRec[];
  close(): Promise<void>;
};

/** SKUs the world's source store sells. */
export function worldSkus(world: World): string[] {
  const shop = world.shopify.sandbox.shop(world.source);
  return [...shop.variants.values()].flatMap((v) => (v.sku ? [v.sku] : [])).sort();
}

export async function startWalmart(
  world: World,
  options: {
    delivery?: Partial<DeliveryConfig>;
    port?: number;
    rngSeed?: number;
    sandbox?: Omit<StartOptions, "seed" | "port" | "delivery" | "rngSeed">;
  } = {},
): Promise<WalmartWorld> {
  const skus = worldSkus(world);
  const local = await startLocalWalmart({
    port: options.port ?? 0,
    timeScale: 0.0005,
    rngSeed: options.rngSeed ?? 11,
    ...options.sandbox,
    ...(options.delivery ? { delivery: options.delivery } : {}),
    seed: {
      sellers: [
        {
          partnerId: WALMART_PARTNER,
          name: "StockGuard Demo Seller",
          ...WALMART_KEYS,
          items: [
            // Walmart shows nothing until StockGuard's first write.
            ...skus.map((sku, i) => ({ sku, productName: `Product ${i}`, quantity: 0 })),
            { sku: WALMART_ONLY_SKU, productName: "Sold on Walmart only", quantity: 5 },
          ],
        },
      ],
    },
  });
  const history: ShownValue[] = [];
  const sandbox = local.sandbox;
  const last = new Map<string, number>();
  const record = (sku: string) => {
    const available = sandbox.item(WALMART_PARTNER, sku).availToSellQty;
    if (last.get(sku) === available) return;
    last.set(sku, available);
    history.push({ store: WALMART, sku, at: Date.now(), available });
  };
  for (const sku of skus) last.set(sku, 0);
  // Every way Walmart's availToSell changes goes through these; record after each (exact times).
  const wrap = <K extends "setInventory" | "placeOrder" | "cancelLines" | "shipLine">(
    name: K,
    skusOf: (
      args: Parameters<(typeof sandbox)[K]>,
      result: ReturnType<(typeof sandbox)[K]>,
    ) => string[],
  ) => {
    const original = (sandbox[name] as (...a: unknown[]) => unknown).bind(sandbox);
    (sandbox as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const result = original(...args);
      for (const sku of skusOf(
        args as Parameters<(typeof sandbox)[K]>,
        result as ReturnType<(typeof sandbox)[K]>,
      ))
        record(sku);
      return result;
    };
  };
  const orderSkus = (partnerId: string, po: string) =>
    sandbox.orderRec(partnerId, po).lines.map((l) => l.sku);
  wrap("setInventory", ([, input]) => [input.sku]);
  wrap("placeOrder", ([, input]) => input.lines.map((l) => l.sku));
  wrap("cancelLines", ([partnerId, po]) => orderSkus(partnerId, po));
  wrap("shipLine", ([partnerId, po]) => orderSkus(partnerId, po));

  const connectionId = await world.cli(
    [
      "channel:connect",
      "--shop",
      world.source,
      "--kind",
      "walmart",
      "--client-id",
      WALMART_KEYS.clientId,
      "--api-base-url",
      local.url,
    ],
    WALMART_KEYS.clientSecret,
  );
  return {
    local,
    partnerId: WALMART_PARTNER,
    connectionId,
    history,
    shown: () =>
      new Map(skus.map((sku) => [sku, sandbox.item(WALMART_PARTNER, sku).availToSellQty])),
    orders: () => [...sandbox.seller(WALMART_PARTNER).orders.values()],
    close: () => local.close(),
  };
}

/**
 * What every channel offers now against what StockGuard publishes for it, Walmart included (a
 * Walmart listing offers the SKU's availToSell summed over ship nodes).
 */
export async function mismatchesWithWalmart(
  world: World,
  walmart: WalmartWorld,
): Promise<{ channel: string; sku: string; shows: number; published: number; dirty: boolean }[]> {
  const rows = await world.pg.query<{
    kind: string;
    account: string;
    sku: string;
    remoteRef: string;
    remoteLocationRef: string;
    published: number;
    dirty: boolean;
  }>(`
    SELECT c.kind::text AS kind, c.account_ref AS account, l.sku, l.remote_ref AS "remoteRef",
           l.remote_location_ref AS "remoteLocationRef", l.published_quantity AS published,
           l.published_version > l.pushed_version AS dirty
      FROM listing l JOIN connection c ON c.id = l.connection_id WHERE l.status = 'active'`);
  const wm = walmart.local.sandbox;
  const out = [];
  for (const row of rows.rows) {
    const shows =
      row.kind === "walmart"
        ? wm.item(walmart.partnerId, row.remoteRef).availToSellQty
        : Math.max(0, availableAt(world, row.account, row.remoteRef, row.remoteLocationRef));
    if (shows !== row.published || row.dirty)
      out.push({
        channel: row.kind === "walmart" ? WALMART : row.account,
        sku: row.sku,
        shows,
        published: row.published,
        dirty: row.dirty,
      });
  }
  return out;
}

/** Per SKU, Walmart's own record: units ordered, still open (reserved), shipped, cancelled. */
export function walmartTotals(
  walmart: WalmartWorld,
): Map<string, { ordered: number; open: number; shipped: number; cancelled: number }> {
  const out = new Map<
    string,
    { ordered: number; open: number; shipped: number; cancelled: number }
  >();
  for (const order of walmart.orders()) {
    for (const line of order.lines) {
      const t = out.get(line.sku) ?? { ordered: 0, open: 0, shipped: 0, cancelled: 0 };
      t.ordered += line.quantity;
      t.shipped += line.shipped;
      t.cancelled += line.cancelled;
      t.open += line.quantity - line.shipped - line.cancelled;
      out.set(line.sku, t);
    }
  }
  return out;
}

const ON_HAND_STATES = [
  "available",
  "committed",
  "reserved",
  "damaged",
  "safety_stock",
  "quality_control",
] as const;

/**
 * world.ts's `ledgerChecks` with Walmart counted: per SKU the ledger's committed equals the
 * Shopify stores' committed plus Walmart's open units, shipped equals their fulfilments plus
 * Walmart's shipped units, the source's on_hand is the shelf and the ledger's, on_hand + shipped =
 * the opening stock, and units sold elsewhere and not shipped (Walmart's included) sit in the
 * source's `reserved` (as many as exist). Returns the discrepancies.
 */
export async function ledgerChecksWithWalmart(
  world: World,
  walmart: WalmartWorld,
  options: { stock: (sku: string) => number },
): Promise<string[]> {
  const sandbox = world.shopify.sandbox;
  const stores = [world.source, ...world.stores];
  const wm = walmartTotals(walmart);
  const ledger = await world.pg.query<{
    sku: string;
    onHand: number;
    committed: number;
    shipped: number;
  }>(`
      SELECT i.sku, s.on_hand AS "onHand", s.committed,
             COALESCE((SELECT -sum(m.d_on_hand)::int FROM movement m WHERE m.item_id = i.id AND m.kind = 'shipped'), 0) AS shipped
        FROM stock_item i JOIN stock_level s ON s.item_id = i.id`);
  const storeLevel = (store: string, sku: string) => {
    const shop = sandbox.shop(store);
    const variant = shop.variantBySku(sku)!;
    return shop.items.get(variant.inventoryItemId)!.levels.values().next().value!;
  };
  const shippedAt = new Map<string, number>();
  for (const store of stores) {
    for (const order of sandbox.shop(store).orders.values()) {
      for (const line of order.lineItems) {
        if (line.sku) shippedAt.set(line.sku, (shippedAt.get(line.sku) ?? 0) + line.fulfilled);
      }
    }
  }
  const problems: string[] = [];
  for (const row of ledger.rows) {
    const w = wm.get(row.sku) ?? { open: 0, shipped: 0 };
    const committed =
      stores.reduce((s, store) => s + storeLevel(store, row.sku).quantities.committed, 0) + w.open;
    const shipped = (shippedAt.get(row.sku) ?? 0) + w.shipped;
    if (row.committed !== committed)
      problems.push(`${row.sku} committed: ledger ${row.committed}, channels ${committed}`);
    if (row.shipped !== shipped)
      problems.push(`${row.sku} shipped: ledger ${row.shipped}, channels ${shipped}`);
    const source = storeLevel(world.source, row.sku);
    const onHand = ON_HAND_STATES.reduce((s, name) => s + source.quantities[name], 0);
    if (row.onHand !== onHand)
      problems.push(
        `${row.sku} on_hand: ledger ${row.onHand}, source ${onHand}\n  ${await describeSourceSku(world, row.sku)}`,
      );
    if (row.onHand + row.shipped !== options.stock(row.sku))
      problems.push(
        `${row.sku} on_hand + shipped: ledger ${row.onHand} + ${row.shipped}, opening ${options.stock(row.sku)}`,
      );
    const others =
      world.stores.reduce((s, store) => s + storeLevel(store, row.sku).quantities.committed, 0) +
      w.open;
    const reservable = Math.min(others, Math.max(0, onHand - source.quantities.committed));
    if (source.quantities.reserved !== reservable)
      problems.push(
        `${row.sku} reserved at the source: ${source.quantities.reserved}, expected ${reservable}`,
      );
  }
  return problems;
}

/**
 * `npm run demo`: a Walmart seller selling the world's SKUs beside the Shopify stores (the world
 * needs WALMART_WORLD_ENV in its env for 2-second polls). Returns what the demo prints and a
 * buyer it can call.
 */
export async function startWalmartForDemo(
  world: World,
  options: { port?: number } = {},
): Promise<
  WalmartWorld & {
    url: string;
    buy(sku: string, quantity: number): boolean;
    describe(): string[];
  }
> {
  const walmart = await startWalmart(world, {
    port: options.port ?? Number(process.env.DEMO_WALMART_PORT ?? 9200),
    delivery: { delayMs: [100, 900], concurrency: 10 },
  });
  return {
    ...walmart,
    url: walmart.local.url,
    buy(sku, quantity) {
      try {
        walmart.local.sandbox.placeOrder(walmart.partnerId, { lines: [{ sku, qty: quantity }] });
        return true;
      } catch {
        return false;
      }
    },
    describe: () => [
      `  Local Walmart:   ${walmart.local.url}  (seller ${walmart.partnerId}; control API: ${walmart.local.url}/_control/sellers/${walmart.partnerId}/items)`,
      `  Buy on Walmart:  curl -s -X POST ${walmart.local.url}/_control/sellers/${walmart.partnerId}/orders -H 'content-type: application/json' -d '{"lines":[{"sku":"SKU-00001","qty":1}]}'`,
    ],
  };
}
