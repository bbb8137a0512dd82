/**
 * Amazon in the end-to-end world (and the demo): a local Amazon (LWA, SP-API, SQS in one origin)
 * seeded with a seller who lists the world's SKUs (plus an FBA-only listing, a listing with FBA
 * stock beside its merchant-fulfilled quantity and a SKU the shop does not have), the channel's
 * `AMAZON_*` configuration for the web and worker processes, and the connection made the
 * product's own way: `channel:connect --kind amazon --follow-consent` through the local consent
 * page. Also what the e2e checks need: what Amazon shows, its sales, cancels and quantity
 * history, and the ledger against every channel's own records.
 *
 * Order of use (the consent callback names the web's port, so Amazon starts first):
 *
 *   const amazon = await prepareAmazon({ webPort, skus });
 *   const world = await startWorld({ port: webPort, …, env: { ...amazon.env } });
 *   await connectAmazon(world, amazon);
 *
 * `startAmazonForDemo` wraps the first and last steps for `npm run demo`.
 */
import type { Sale, ShownValue, StockChange } from "../helpers/sale-latency";
import { AMAZON_SENDER_ID } from "../sandbox/amazon/notifications";
import {
  DEFAULT_APP,
  DEFAULT_AWS,
  type Behaviour,
  type DeliveryConfig,
  type ListingSeed,
} from "../sandbox/amazon/sandbox";
import { startLocalAmazon, type LocalAmazon } from "../sandbox/amazon/server";
import type { SqsBehaviour } from "../sandbox/amazon/sqs";
import { availableAt, skuOf, type World } from "./world";

export const AMAZON_SELLER = "A1STOCKGUARDE2E";
export const AMAZON_MARKETPLACE = "ATVPDKIKX0DER";
export const ORDERS_QUEUE_NAME = "sp-api-notifications";
/** Listed on Amazon only: FBA-only (reported, never synced) and unknown to the shop. */
export const FBA_ONLY_SKU = "FBA-ONLY-1";
export const AMAZON_ONLY_SKU = "AMZ-EXTRA-1";
/** A world SKU that also has FBA stock on Amazon (its FBA quantity must never change). */
export const MIXED_SKU_INDEX = 1;
export const MIXED_FBA_UNITS = 10;

export type AmazonWorldOptions = {
  /** The web's port (the consent callback is registered for it). */
  webPort: number;
  skus: number;
  /** MFN units Amazon shows for SKU i before StockGuard writes (default 0). */
  amazonQuantity?: (i: number) => number;
  /** Local Amazon's port (0: a free one). */
  port?: number;
  /** Scales Amazon's delays: patch application, notification delays and redeliveries. */
  timeScale?: number;
  rngSeed?: number;
  delivery?: Partial<DeliveryConfig>;
  sqs?: Partial<SqsBehaviour>;
  behaviour?: Partial<Behaviour>;
};

export type PreparedAmazon = {
  local: LocalAmazon;
  sellerId: string;
  marketplaceId: string;
  timeScale: number;
  /** The `AMAZON_*` variables for web and worker (pass to `startWorld({ env })`). */
  env: Record<string, string>;
  connectionId: string | null;
};

export async function prepareAmazon(options: AmazonWorldOptions): Promise<PreparedAmazon> {
  const timeScale = options.timeScale ?? 0.1;
  const callback = `http://127.0.0.1:${options.webPort}/connect/amazon/callback`;
  const listings: ListingSeed[] = Array.from({ length: options.skus }, (_, i) => ({
    sku: skuOf(i),
    productType: "PRODUCT",
    itemName: `Product ${i}`,
    quantity: options.amazonQuantity?.(i) ?? 0,
    leadTimeToShipMaxDays: 2,
    ...(i === MIXED_SKU_INDEX ? { fbaQuantity: MIXED_FBA_UNITS } : {}),
  }));
  listings.push(
    { sku: FBA_ONLY_SKU, productType: "PRODUCT", itemName: "FBA only", fbaQuantity: 25 },
    { sku: AMAZON_ONLY_SKU, productType: "PRODUCT", itemName: "Amazon only", quantity: 3 },
  );
  const local = await startLocalAmazon({
    port: options.port ?? 0,
    timeScale,
    rngSeed: options.rngSeed ?? 17,
    behaviour: { pendingOrderMs: null, ...options.behaviour },
    ...(options.delivery ? { delivery: options.delivery } : {}),
    ...(options.sqs ? { sqs: options.sqs } : {}),
    seed: {
      app: { redirectUris: [callback], draft: true },
      // One queue for both: the EventBridge rule (MFN quantity changes) targets the queue
      // ORDER_CHANGE is sent to, so one long poll picks up either at once.
      queues: [{ name: ORDERS_QUEUE_NAME, allowAmazon: true }],
      eventBridgeTarget: ORDERS_QUEUE_NAME,
      // The seller is signed in to Seller Central: the consent page approves at once.
      consent: { mode: "auto", sellerId: AMAZON_SELLER },
      sellers: [
        {
          sellerId: AMAZON_SELLER,
          name: "StockGuard e2e seller",
          marketplaceIds: [AMAZON_MARKETPLACE],
          listings,
        },
      ],
    },
  });
  const aws = DEFAULT_AWS.credentials[0]!;
  return {
    local,
    sellerId: AMAZON_SELLER,
    marketplaceId: AMAZON_MARKETPLACE,
    timeScale,
    connectionId: null,
    env: {
      AMAZON_LWA_CLIENT_ID: DEFAULT_APP.clientId,
      AMAZON_LWA_CLIENT_SECRET: DEFAULT_APP.clientSecret,
      AMAZON_LWA_SECRET_ROTATED_AT: new Date().toISOString(),
      AMAZON_APPLICATION_ID: DEFAULT_APP.applicationId,
      AMAZON_APPLICATION_DRAFT: "1",
      AMAZON_SQS_QUEUE_URL: local.sandbox.queueUrl(DEFAULT_AWS.accountId, ORDERS_QUEUE_NAME),
      AMAZON_SQS_REGION: DEFAULT_AWS.region,
      AMAZON_SQS_ENDPOINT: local.url,
      AMAZON_SQS_WAIT_SECONDS: "1",
      AMAZON_AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AMAZON_AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      AMAZON_SQS_ALLOWED_SENDER_IDS: AMAZON_SENDER_ID,
      AMAZON_EVENTBRIDGE_ACCOUNT_ID: DEFAULT_AWS.accountId,
      AMAZON_EVENTBRIDGE_REGION: DEFAULT_AWS.region,
    },
  };
}

/**
 * `channel:connect --kind amazon` through the CLI: the consent URL on the local Seller Central,
 * followed to the callback, the code exchanged, subscriptions created, the catalog imported.
 */
export async function connectAmazon(world: World, amazon: PreparedAmazon): Promise<string> {
  // The local Orders API's "two minutes before now" rule is scaled like every other delay.
  const lagMs = Math.ceil(120_000 * amazon.timeScale) + 100;
  const out = await world.cli([
    "channel:connect",
    "--shop",
    world.source,
    "--kind",
    "amazon",
    "--api-base-url",
    amazon.local.url,
    "--follow-consent",
    "--setting",
    `marketplaceId=${amazon.marketplaceId}`,
    "--setting",
    `ordersApiLagMs=${lagMs}`,
    "--json",
  ]);
  const connected = JSON.parse(out) as { connectionId: string };
  amazon.connectionId = connected.connectionId;
  world.connectionIds.set(amazon.sellerId, connected.connectionId);
  return connected.connectionId;
}

/** For `npm run demo`: a local Amazon on `port` for the web on `webPort`, and how to connect it. */
export async function startAmazonForDemo(options: {
  webPort: number;
  skus: number;
  port?: number;
  amazonQuantity?: (i: number) => number;
}): Promise<{
  amazon: PreparedAmazon;
  env: Record<string, string>;
  connect: (world: World) => Promise<string>;
}> {
  const amazon = await prepareAmazon({
    webPort: options.webPort,
    skus: options.skus,
    port: options.port ?? 9200,
    amazonQuantity: options.amazonQuantity,
    timeScale: 0.5,
    delivery: { delayMs: [200, 1_000] },
  });
  return { amazon, env: amazon.env, connect: (world) => connectAmazon(world, amazon) };
}

// --- what Amazon shows and did ----------------------------------------------------------------

/** The live merchant-fulfilled quantity of a SKU (what buyers can order), null if none. */
export function amazonShows(amazon: PreparedAmazon, sku: string): number | null {
  const listing = amazon.local.sandbox.seller(amazon.sellerId).listings.get(sku);
  return listing?.available.DEFAULT ?? null;
}

/** SKU → MFN quantity now, for every world SKU. */
export function amazonShownNow(amazon: PreparedAmazon, skus: string[]): Map<string, number> {
  return new Map(skus.map((sku) => [sku, amazonShows(amazon, sku) ?? 0]));
}

/**
 * Every listing (Shopify stores and Amazon) that does not show its published quantity yet, is
 * still dirty, or waits for an accepted Amazon write to be confirmed.
 */
export async function mismatchesWithAmazon(
  world: World,
  amazon: PreparedAmazon,
): Promise<
  {
    store: string;
    sku: string;
    shows: number;
    published: number;
    dirty: boolean;
    pending: boolean;
  }[]
> {
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
           l.published_version > l.pushed_version AS dirty, l.pending_tracking_id IS NOT NULL AS pending
      FROM listing l JOIN connection c ON c.id = l.connection_id WHERE l.status = 'active'`);
  const out = [];
  for (const row of rows.rows) {
    const shows =
      row.kind === "amazon"
        ? (amazonShows(amazon, row.remoteRef) ?? Number.NaN)
        : Math.max(0, availableAt(world, row.account, row.remoteRef, row.remoteLocationRef));
    if (shows !== row.published || row.dirty || row.pending)
      out.push({
        store: row.account,
        sku: row.sku,
        shows,
        published: row.published,
        dirty: row.dirty,
        pending: row.pending,
      });
  }
  return out;
}

/**
 * Provisional holds still open (a channel's drop waiting for its order, released after
 * PUSH_SETTLE_MS when nothing explains it): work that will still change what is published.
 */
export async function openHolds(world: World): Promise<number> {
  const rows = await world.pg.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM provisional_hold",
  );
  return rows.rows[0]?.n ?? 0;
}

/** Messages waiting in the app's notification queues (not yet received and deleted). */
export function queuedMessages(amazon: PreparedAmazon): number {
  const sb = amazon.local.sandbox;
  return sb.queueList().reduce((n, q) => n + sb.queueContents(q.name).messages.length, 0);
}

/**
 * Amazon's side for the sale-latency and oversell ground truth (test/helpers/sale-latency.ts):
 * every merchant-fulfilled order item as a sale at its purchase time, every cancellation as the
 * units coming back at the cancel time (Amazon restocks the listing, and the pool gets them back),
 * and every change of the live MFN quantity (each emits LISTINGS_ITEM_MFN_QUANTITY_CHANGE).
 */
export function observeAmazon(
  amazon: PreparedAmazon,
  since: number,
): { sales: Sale[]; changes: StockChange[]; history: ShownValue[] } {
  const sb = amazon.local.sandbox;
  const store = amazon.sellerId;
  const sales: Sale[] = [];
  const changes: StockChange[] = [];
  for (const order of sb.orders.values()) {
    if (order.sellerId !== store || order.fulfillmentChannel !== "MFN") continue;
    const placed = order.purchaseDate.getTime();
    if (placed < since) continue;
    for (const item of order.items) {
      sales.push({
        id: order.amazonOrderId,
        store,
        sku: item.sku,
        units: item.quantityOrdered,
        at: placed,
      });
    }
    const cancelled = order.history.find((h) => h.status === "Canceled");
    if (cancelled) {
      for (const item of order.items) {
        const back = item.quantityOrdered - item.quantityShipped;
        if (back > 0)
          changes.push({
            store,
            sku: item.sku,
            delta: back,
            at: cancelled.at.getTime(),
            kind: "cancel",
          });
      }
    }
  }
  const history: ShownValue[] = sb
    .notificationList({ sellerId: store, type: "LISTINGS_ITEM_MFN_QUANTITY_CHANGE" })
    .filter((n) => Date.parse(n.createdAt) >= since)
    .map((n) => {
      const envelope = n.payload as {
        detail?: { Payload: { Sku: string; Quantity: number } };
        Payload?: { Sku: string; Quantity: number };
      };
      const payload = envelope.detail?.Payload ?? envelope.Payload!;
      return { store, sku: payload.Sku, at: Date.parse(n.createdAt), available: payload.Quantity };
    });
  return { sales, changes, history };
}

/**
 * Per SKU, what Amazon's own records commit and ship: open merchant-fulfilled units (not
 * cancelled, not asked to be cancelled by the buyer, not shipped) and shipped units.
 */
export function amazonUnits(
  amazon: PreparedAmazon,
): Map<string, { committed: number; shipped: number }> {
  const out = new Map<string, { committed: number; shipped: number }>();
  for (const order of amazon.local.sandbox.orders.values()) {
    if (order.sellerId !== amazon.sellerId || order.fulfillmentChannel !== "MFN") continue;
    for (const item of order.items) {
      const e = out.get(item.sku) ?? { committed: 0, shipped: 0 };
      e.shipped += item.quantityShipped;
      if (order.status !== "Canceled" && !item.buyerRequestedCancel)
        e.committed += item.quantityOrdered - item.quantityShipped;
      out.set(item.sku, e);
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
 * The ledger against every channel's own records, per SKU (the checks of `ledgerChecks` in
 * world.ts with Amazon's orders counted): committed and shipped units equal what the Shopify
 * stores and Amazon record; the source's on_hand is the shelf and the ledger's; on_hand + shipped
 * is the opening stock; units sold elsewhere and not shipped sit in the source's `reserved`.
 */
export async function ledgerChecksWithAmazon(
  world: World,
  amazon: PreparedAmazon,
  options: { stock: (index: number) => number },
): Promise<{ problems: string[]; lost: number; doubled: number }> {
  const sandbox = world.shopify.sandbox;
  const stores = [world.source, ...world.stores];
  const onAmazon = amazonUnits(amazon);
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
  const shippedAt = new Map<string, number>();
  for (const store of stores) {
    for (const order of sandbox.shop(store).orders.values()) {
      for (const line of order.lineItems) {
        if (line.sku) shippedAt.set(line.sku, (shippedAt.get(line.sku) ?? 0) + line.fulfilled);
      }
    }
  }
  const problems: string[] = [];
  let lost = 0;
  let doubled = 0;
  for (const row of ledger.rows) {
    const amazonSide = onAmazon.get(row.sku) ?? { committed: 0, shipped: 0 };
    const committed =
      stores.reduce((s, store) => s + level(store, row.sku).quantities.committed, 0) +
      amazonSide.committed;
    const shipped = (shippedAt.get(row.sku) ?? 0) + amazonSide.shipped;
    for (const [what, have, want] of [
      ["committed", row.committed, committed],
      ["shipped", row.shipped, shipped],
    ] as const) {
      if (have < want) lost += want - have;
      if (have > want) doubled += have - want;
      if (have !== want) problems.push(`${row.sku} ${what}: ledger ${have}, channels ${want}`);
    }
    const source = level(world.source, row.sku);
    const onHand = ON_HAND_STATES.reduce((s, name) => s + source.quantities[name], 0);
    if (row.onHand !== onHand)
      problems.push(`${row.sku} on_hand: ledger ${row.onHand}, source ${onHand}`);
    const opening = options.stock(Number(row.sku.slice(4)));
    if (row.onHand + row.shipped !== opening)
      problems.push(
        `${row.sku} on_hand + shipped: ledger ${row.onHand} + ${row.shipped}, opening ${opening}`,
      );
    const others =
      world.stores.reduce((s, store) => s + level(store, row.sku).quantities.committed, 0) +
      amazonSide.committed;
    const reservable = Math.min(others, Math.max(0, onHand - source.quantities.committed));
    if (source.quantities.reserved !== reservable)
      problems.push(
        `${row.sku} reserved at the source: ${source.quantities.reserved}, expected ${reservable}`,
      );
  }
  return { problems, lost, doubled };
}

/** Diagnosis of one SKU on Amazon: what was written, what Amazon did and told, what we believe. */
export async function describeAmazonSku(
  world: World,
  amazon: PreparedAmazon,
  sku: string,
): Promise<string> {
  const sb = amazon.local.sandbox;
  const t = (d: string | Date | null | undefined) =>
    d ? new Date(d).toISOString().slice(17, 23) : "-";
  const patches = sb
    .submissionLog({ sellerId: amazon.sellerId, sku })
    .map(
      (p) =>
        `patch ${t(p.receivedAt)}→${t(p.appliedAt)} ${p.status} ${String(
          (p.patches[0]?.value?.[0] as { quantity?: number } | undefined)?.quantity,
        )} (${String(p.quantityBefore)}→${String(p.quantityAfter)})`,
    );
  const notes = sb
    .notificationList({ sellerId: amazon.sellerId })
    .filter((n) => JSON.stringify(n.payload).includes(`"${sku}"`))
    .map((n) => {
      const body = n.payload as {
        detail?: { Payload: { Quantity: number } };
        Payload?: {
          OrderChangeNotification?: { AmazonOrderId: string; Summary: { OrderStatus: string } };
        };
      };
      const what = body.detail
        ? `MFN ${body.detail.Payload.Quantity}`
        : `ORDER ${body.Payload?.OrderChangeNotification?.AmazonOrderId ?? "?"} ${body.Payload?.OrderChangeNotification?.Summary.OrderStatus ?? "?"}`;
      return `${what} at ${t(n.createdAt)} sent ${n.attempts.map((a) => `${t(a.deliveredAt)}${a.dropped ? "(lost)" : ""}`).join(",")} [${n.notificationId.slice(0, 8)}]`;
    });
  const listing = await world.pg.query(
    `SELECT l.published_quantity AS pub, l.pushed_quantity AS pushed, l.remote_quantity AS remote, l.remote_source AS src,
            l.remote_observed_at AS seen, l.last_pushed_at AS pushed_at, l.pending_quantity AS pending, l.pending_tracking_id AS tracking,
            l.published_version AS v, l.pushed_version AS pv
       FROM listing l JOIN connection c ON c.id = l.connection_id WHERE c.kind = 'amazon' AND l.sku = $1`,
    [sku],
  );
  const receipts = await world.pg.query(
    `SELECT r.topic, r.event_id, r.received_at, r.applied_at, r.status FROM receipt r JOIN connection c ON c.id = r.connection_id
      WHERE c.kind = 'amazon' AND (r.resource_id = $1 OR r.payload::text LIKE $2) ORDER BY r.received_at`,
    [sku, `%"${sku}"%`],
  );
  return [
    `${sku} on Amazon: live ${String(amazonShows(amazon, sku))}`,
    `  listing ${JSON.stringify(listing.rows[0])}`,
    ...patches.map((p) => `  ${p}`),
    ...notes.map((n) => `  ${n}`),
    ...receipts.rows.map(
      (r: {
        topic: string;
        event_id: string;
        received_at: Date;
        applied_at: Date | null;
        status: string;
      }) =>
        `  receipt ${r.topic} [${r.event_id.slice(0, 8)}] received ${t(r.received_at)} applied ${t(r.applied_at)} ${r.status}`,
    ),
  ].join("\n");
}
