/**
 * eBay in a world (test/e2e/world.ts): a local eBay whose seller lists the world's SKUs, connected
 * to the world's shop through the product's own path — `channel:connect --kind ebay
 * --follow-consent` against the local consent page, which sends the seller back to the web
 * process's `/connect/ebay/callback`; the CLI then sets up the notification destination (the
 * local eBay runs its endpoint challenge against the web process) and the subscriptions, and
 * imports the catalog. Nothing is inserted behind the app's back.
 *
 * The world's web and worker processes need the eBay application's configuration:
 * `startWorld({ env: { ...ebayWorldEnv() } })`. Also here: what eBay shows, the ledger checks and
 * the ground truth of a world where eBay sells too (the world's own helpers know Shopify only).
 */
import { startLocalEbay, type LocalEbay, type StartOptions } from "../sandbox/ebay/server";
import type { OrderRec } from "../sandbox/ebay/model";
import type { PushConfig } from "../sandbox/ebay/push";
import type { Sale, ShownValue, StockChange } from "../helpers/sale-latency";
import { availableAt, skuOf, type World } from "./world";

/** The eBay developer application of the worlds (a local one: nothing here is a real secret). */
export const EBAY_WORLD_APP = {
  clientId: "StockGua-StockGua-PRD-5a6b7c8d9-0e1f2a3b",
  clientSecret: "PRD-5a6b7c8d9e0f-1a2b-3c4d-5e6f-7a8b",
  ruName: "StockGuard_Inc-StockGua-StockG-worldrunm",
  verificationToken: "stockguard-world-verification-token-abcdef012345",
  alertEmail: "ops@stockguard.test",
};
export const EBAY_SELLER = { username: "world_mugs", userId: "wOrLdMuGs01" };
/** The name eBay goes by in the latency reports (a "store" of the pool). */
export const EBAY_STORE = "ebay";

/** `EBAY_*` for the world's web, worker and CLI processes. */
export function ebayWorldEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    EBAY_CLIENT_ID: EBAY_WORLD_APP.clientId,
    EBAY_CLIENT_SECRET: EBAY_WORLD_APP.clientSecret,
    EBAY_RU_NAME: EBAY_WORLD_APP.ruName,
    EBAY_VERIFICATION_TOKEN: EBAY_WORLD_APP.verificationToken,
    EBAY_ALERT_EMAIL: EBAY_WORLD_APP.alertEmail,
    EBAY_POLL_INTERVAL_MS: "2000",
    ...extra,
  };
}

export type EbayWorld = {
  ebay: LocalEbay;
  connectionId: string;
  seller: string;
  /** What a buyer on eBay can buy of a SKU now. */
  shows(sku: string): number;
  close(): Promise<void>;
};

export async function startEbayForWorld(
  world: World,
  options: {
    skus: number;
    /** eBay's listing quantity of SKU i before StockGuard writes (default 0). */
    initial?: (i: number) => number;
    push?: Partial<PushConfig>;
    port?: number;
    rngSeed?: number;
    settings?: StartOptions["settings"];
  },
): Promise<EbayWorld> {
  const ebay = await startLocalEbay({
    port: options.port ?? 0,
    rngSeed: options.rngSeed ?? 17,
    // eBay's retry schedule (60 s, 120 s, …) in milliseconds.
    timeScale: 0.001,
    push: options.push,
    settings: options.settings,
    seed: {
      apps: [
        {
          clientId: EBAY_WORLD_APP.clientId,
          clientSecret: EBAY_WORLD_APP.clientSecret,
          ruName: EBAY_WORLD_APP.ruName,
          acceptUrl: `${world.webUrl}/connect/ebay/callback`,
        },
      ],
      sellers: [
        {
          username: EBAY_SELLER.username,
          userId: EBAY_SELLER.userId,
          inventory: Array.from({ length: options.skus }, (_, i) => ({
            sku: skuOf(i),
            title: `Product ${i}`,
            quantity: options.initial?.(i) ?? 0,
          })),
        },
      ],
      consent: { autoApprove: true, seller: EBAY_SELLER.username },
    },
  });
  let connectionId: string;
  try {
    const out = await world.cli([
      "channel:connect",
      "--shop",
      world.source,
      "--kind",
      "ebay",
      "--api-base-url",
      ebay.url,
      "--follow-consent",
    ]);
    // The id is the last line (logs may come before it on stdout at LOG_LEVEL=debug).
    connectionId = out.trim().split("\n").pop()!.trim();
  } catch (error) {
    await ebay.close();
    throw error;
  }
  world.connectionIds.set(EBAY_STORE, connectionId);
  return {
    ebay,
    connectionId,
    seller: EBAY_SELLER.username,
    shows: (sku) => ebay.sandbox.listing(EBAY_SELLER.username, sku).quantity,
    close: () => ebay.close(),
  };
}

/** The demo's eBay: a fixed port, a gentle delivery, eBay's listings as the source has them. */
export function startEbayForDemo(
  world: World,
  options: { skus: number; port?: number; stock?: (i: number) => number },
): Promise<EbayWorld> {
  return startEbayForWorld(world, {
    skus: options.skus,
    initial: options.stock,
    port: options.port ?? Number(process.env.DEMO_EBAY_PORT ?? 9200),
    push: { delayMs: [100, 900] },
  });
}

// --- checks of a world with eBay ------------------------------------------------------------

/**
 * Every active listing whose channel does not show its published quantity, or is still dirty:
 * Shopify stores by their `available` (max 0), eBay by what a buyer can buy.
 */
export async function mismatchesWithEbay(
  world: World,
  e: EbayWorld,
): Promise<{ store: string; sku: string; shows: number; published: number; dirty: boolean }[]> {
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
  const out = [];
  for (const row of rows.rows) {
    const ebay = row.kind === "ebay";
    const shows = ebay
      ? e.shows(row.remoteRef)
      : Math.max(0, availableAt(world, row.account, row.remoteRef, row.remoteLocationRef));
    if (shows !== row.published || row.dirty)
      out.push({
        store: ebay ? EBAY_STORE : row.account,
        sku: row.sku,
        shows,
        published: row.published,
        dirty: row.dirty,
      });
  }
  return out;
}

/** eBay's orders as units per SKU: sold, still open (committed), shipped, cancelled. */
export function ebayUnits(e: EbayWorld): Map<string, { open: number; shipped: number }> {
  const out = new Map<string, { open: number; shipped: number }>();
  for (const order of e.ebay.sandbox.orders.values()) {
    const cancelled = order.cancel?.state === "COMPLETED";
    const shipped = order.fulfillmentStatus === "FULFILLED";
    for (const line of order.lines) {
      const u = out.get(line.sku) ?? { open: 0, shipped: 0 };
      if (!cancelled && shipped) u.shipped += line.quantity;
      if (!cancelled && !shipped) u.open += line.quantity;
      out.set(line.sku, u);
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
 * `ledgerChecks` of world.ts with eBay in the pool: per SKU the ledger's committed units equal the
 * Shopify stores' committed plus eBay's open order units, its shipped units the stores'
 * fulfilled plus eBay's shipped units; the source's on_hand is the shelf and the ledger's; on_hand
 * + shipped = the opening stock; units sold elsewhere (other stores, eBay) and not shipped sit in
 * the source's `reserved`. Returns the discrepancies (lost or doubled units show up here).
 */
export async function ledgerChecksWithEbay(
  world: World,
  e: EbayWorld,
  options: { stock: (index: number) => number },
): Promise<string[]> {
  const sandbox = world.shopify.sandbox;
  const stores = [world.source, ...world.stores];
  const ledger = await world.pg.query<{
    sku: string;
    onHand: number;
    committed: number;
    shipped: number;
  }>(`
      SELECT i.sku, s.on_hand AS "onHand", s.committed,
             COALESCE((SELECT -sum(m.d_on_hand)::int FROM movement m WHERE m.item_id = i.id AND m.kind = 'shipped'), 0) AS shipped
        FROM stock_item i JOIN stock_level s ON s.item_id = i.id`);
  const level = (store: string, sku: string) => {
    const shop = sandbox.shop(store);
    const variant = shop.variantBySku(sku)!;
    return shop.items.get(variant.inventoryItemId)!.levels.values().next().value!;
  };
  const shippedAtStores = new Map<string, number>();
  for (const store of stores)
    for (const order of sandbox.shop(store).orders.values())
      for (const line of order.lineItems)
        if (line.sku)
          shippedAtStores.set(line.sku, (shippedAtStores.get(line.sku) ?? 0) + line.fulfilled);
  const onEbay = ebayUnits(e);
  const problems: string[] = [];
  for (const row of ledger.rows) {
    const ebay = onEbay.get(row.sku) ?? { open: 0, shipped: 0 };
    const committed =
      stores.reduce((s, store) => s + level(store, row.sku).quantities.committed, 0) + ebay.open;
    const shipped = (shippedAtStores.get(row.sku) ?? 0) + ebay.shipped;
    if (row.committed !== committed)
      problems.push(`${row.sku} committed: ledger ${row.committed}, stores + eBay ${committed}`);
    if (row.shipped !== shipped)
      problems.push(`${row.sku} shipped: ledger ${row.shipped}, stores + eBay ${shipped}`);
    const source = level(world.source, row.sku);
    const onHand = ON_HAND_STATES.reduce((s, name) => s + source.quantities[name], 0);
    if (row.onHand !== onHand)
      problems.push(`${row.sku} on_hand: ledger ${row.onHand}, source ${onHand}`);
    const opening = options.stock(Number(row.sku.slice(4)));
    if (row.onHand + row.shipped !== opening)
      problems.push(
        `${row.sku} on_hand + shipped: ${row.onHand} + ${row.shipped}, opening ${opening}`,
      );
    const others =
      world.stores.reduce((s, store) => s + level(store, row.sku).quantities.committed, 0) +
      ebay.open;
    const reservable = Math.min(others, Math.max(0, onHand - source.quantities.committed));
    if (source.quantities.reserved !== reservable)
      problems.push(
        `${row.sku} reserved at the source: ${source.quantities.reserved}, expected ${reservable}`,
      );
  }
  return problems;
}

/**
 * eBay's part of the ground truth since `since`: its sales (order lines at their creation time),
 * its completed cancellations as pool changes (the units come back when eBay restocks them), and
 * the history of what a buyer could buy there (our writes from the revision log, its own sales
 * and restocks), for `saleLatency` / `oversoldUnits`.
 */
export function observeEbay(
  e: EbayWorld,
  since: number,
  shownAtStart: Map<string, number>,
): { sales: Sale[]; changes: StockChange[]; history: ShownValue[] } {
  const sb = e.ebay.sandbox;
  const sales: Sale[] = [];
  const changes: StockChange[] = [];
  type Event = { at: number; order: number; sku: string; set?: number; delta?: number };
  const events: Event[] = [];
  let order = 0;
  const orders = [...sb.orders.values()] as OrderRec[];
  for (const o of orders) {
    const at = Date.parse(o.creationDate);
    if (at < since) continue;
    for (const line of o.lines) {
      sales.push({
        id: `ebay#${o.orderId}`,
        store: EBAY_STORE,
        sku: line.sku,
        units: line.quantity,
        at,
      });
      events.push({ at, order: order++, sku: line.sku, delta: -line.quantity });
    }
    if (o.cancel?.state === "COMPLETED" && o.cancel.closedAt) {
      const closed = Date.parse(o.cancel.closedAt);
      for (const line of o.lines) {
        changes.push({
          store: EBAY_STORE,
          sku: line.sku,
          delta: line.quantity,
          at: closed,
          kind: "cancel",
        });
        if (o.cancel.restocked)
          events.push({ at: closed, order: order++, sku: line.sku, delta: line.quantity });
      }
    }
  }
  for (const r of sb.revisionLog({ seller: e.seller })) {
    const at = Date.parse(r.at);
    if (at < since || r.refused) continue;
    events.push({ at, order: order++, sku: r.sku, set: r.quantityAfter });
  }
  events.sort((a, b) => a.at - b.at || a.order - b.order);
  const value = new Map(shownAtStart);
  const history: ShownValue[] = [];
  for (const ev of events) {
    const next =
      ev.set !== undefined ? ev.set : Math.max(0, (value.get(ev.sku) ?? 0) + (ev.delta ?? 0));
    value.set(ev.sku, next);
    history.push({ store: EBAY_STORE, sku: ev.sku, at: ev.at, available: next });
  }
  return { sales, changes, history };
}

/** What a buyer could buy on eBay per SKU now. */
export function ebayShownNow(e: EbayWorld, skus: number): Map<string, number> {
  return new Map(Array.from({ length: skus }, (_, i) => [skuOf(i), e.shows(skuOf(i))]));
}

/** Diagnosis of eBay SKUs that do not show what is published: listing, writes, orders, receipts. */
export async function describeEbaySkus(
  world: World,
  e: EbayWorld,
  skus: string[],
): Promise<string> {
  const sb = e.ebay.sandbox;
  const out: string[] = [];
  for (const sku of skus.slice(0, 3)) {
    const listing = await world.pg.query(
      `SELECT published_quantity, pushed_quantity, remote_quantity, remote_source, remote_observed_at,
              last_pushed_at, published_version, pushed_version, last_error
         FROM listing WHERE connection_id = $1 AND sku = $2`,
      [e.connectionId, sku],
    );
    const receipts = await world.pg.query(
      `SELECT topic, event_id, status, error, received_at, applied_at FROM receipt
        WHERE connection_id = $1 AND (resource_id = $2 OR topic = 'inventory_level' AND resource_id = $2)
        ORDER BY id`,
      [e.connectionId, sku],
    );
    const orders = [...sb.orders.values()]
      .filter((o) => o.lines.some((l) => l.sku === sku))
      .map((o) => ({
        id: o.orderId,
        created: o.creationDate,
        qty: o.lines.find((l) => l.sku === sku)!.quantity,
        cancel: o.cancel && {
          state: o.cancel.state,
          closed: o.cancel.closedAt,
          restocked: o.cancel.restocked,
        },
        shipped: o.fulfillmentStatus,
      }));
    out.push(
      `${sku}: eBay shows ${e.shows(sku)}; listing ${JSON.stringify(listing.rows[0])}\n` +
        `  writes ${JSON.stringify(sb.revisionLog({ sku }).map((r) => [r.at, r.quantityBefore, r.quantityAfter, r.refused]))}\n` +
        `  orders ${JSON.stringify(orders)}\n  level receipts ${JSON.stringify(receipts.rows.filter((r) => r.topic === "inventory_level"))}`,
    );
  }
  return out.join("\n");
}
