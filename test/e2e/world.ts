import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { Queue } from "bullmq";
import pg from "pg";
import { startLocalShopify, type LocalShopify } from "../sandbox/shopify/server";
import type { ShopSeed } from "../sandbox/shopify/state";
import { subscriptionsFromToml } from "../sandbox/shopify/toml";
import type { DeliveryConfig } from "../sandbox/shopify/webhooks";
import { appProcessEnv } from "../helpers/app-env";
import {
  oversoldUnits,
  type Sale,
  type SaleLatencyInput,
  type ShownValue,
  type StockChange,
} from "../helpers/sale-latency";
import {
  createTestDatabase,
  dropRedisPrefix,
  dropTestDatabase,
  ensureTemplate,
  REDIS_URL,
} from "../setup/services";
import { ROOT, TSX } from "../helpers/paths";

/**
 * The whole product on one machine, as the sandbox contract describes it: a local Shopify with a
 * source store and other stores, the web process and worker process(es) started with the
 * contract's npm scripts' entry points, connected through the CLI. Used by the end-to-end tests,
 * the demo and the benchmark.
 */
export { ROOT };

export type WorldOptions = {
  skus: number;
  /** Units at the source's single location for SKU i. */
  stock: (i: number) => number;
  secondaryStores: number;
  delivery?: Partial<DeliveryConfig>;
  workers?: number;
  /** Extra environment for web and worker (PUSH_COALESCE_MS, …). */
  env?: Record<string, string>;
  /** Admin API bucket for every store (Shopify Plus is 1,000 points/s). */
  throttle?: { maximumAvailable: number; restoreRate: number };
  rngSeed?: number;
  /** Use this database (created and migrated if missing) instead of a throw-away clone. */
  databaseUrl?: string;
  /** Use this Redis instead of the machine's (fault tests restart their own). */
  redisUrl?: string;
  /** Connect the other stores at the same time (each imports within its own API budget). */
  parallelConnect?: boolean;
  /**
   * The other stores already show the source's quantities (existing shops joining), so the
   * first sync writes nothing and no echo flood follows; default: they start at 0.
   */
  presetStores?: boolean;
  /** Fixed ports (the demo); free ports otherwise. */
  port?: number;
  shopifyPort?: number;
  logs?: boolean;
};

export type World = {
  shopify: LocalShopify;
  webUrl: string;
  source: string;
  stores: string[];
  env: NodeJS.ProcessEnv;
  /** Bearer token of the web's and worker's /metrics. */
  metricsToken: string;
  databaseUrl: string;
  connectionIds: Map<string, string>;
  pg: pg.Pool;
  processes: { web: ChildProcess; workers: ChildProcess[] };
  /** Runs a CLI command; a token travels in STOCKGUARD_TOKEN, never as an argument. */
  cli(args: string[], token?: string): Promise<string>;
  startWorker(): Promise<ChildProcess>;
  /**
   * Stops the web, the workers or both (SIGTERM: in-flight work finishes) and starts fresh
   * processes in their place, as a deploy does: new processes, new pools, nothing compiled yet.
   */
  restart(which: "web" | "workers" | "both"): Promise<void>;
  close(): Promise<void>;
  output(): string;
  /** Milliseconds from the start of `startWorld` to the end of each set-up phase. */
  timings: Record<string, number>;
};

export const APP_SECRET = "sandbox-app-secret";
export const skuOf = (i: number) => `SKU-${String(i).padStart(5, "0")}`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** The API secret of the custom app each store's token belongs to (it signs that app's webhooks). */
export function customAppSecret(domain: string): string {
  return `shpss_${domain.split(".")[0]}`;
}

function storeSeed(domain: string, options: WorldOptions, stocked: boolean): ShopSeed {
  return {
    domain,
    name: domain.split(".")[0],
    accessToken: `shpat_${domain.split(".")[0]}`,
    apiSecret: customAppSecret(domain),
    locations: [{ name: "Warehouse", isActive: true, fulfillsOnlineOrders: true }],
    products: Array.from({ length: options.skus }, (_, i) => ({
      title: `Product ${i}`,
      variants: [
        {
          sku: skuOf(i),
          title: "Default",
          inventoryPolicy: "DENY" as const,
          inventory: { Warehouse: stocked ? options.stock(i) : 0 },
        },
      ],
    })),
    throttle: options.throttle,
  };
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const source = "source-store.myshopify.com";
  const stores = Array.from(
    { length: options.secondaryStores },
    (_, i) => `store-${String.fromCharCode(98 + i)}.myshopify.com`,
  );
  const begun = Date.now();
  const timings: Record<string, number> = {};
  const mark = (phase: string) => (timings[phase] = Date.now() - begun);
  const shopify = await startLocalShopify({
    port: options.shopifyPort ?? 0,
    timeScale: 0.001,
    rngSeed: options.rngSeed ?? 7,
    seed: {
      shops: [
        storeSeed(source, options, true),
        ...stores.map((s) => storeSeed(s, options, options.presetStores === true)),
      ],
    },
  });
  let database: { name: string; url: string } | null = null;
  if (!options.databaseUrl) {
    await ensureTemplate();
    database = await createTestDatabase("sg_t");
  } else {
    const { migrate } = await import("../../prisma/migrate");
    await migrate(options.databaseUrl);
  }
  const databaseUrl = options.databaseUrl ?? database!.url;
  mark("local Shopify seeded, database ready");
  const port = options.port ?? (await freePort());
  const webUrl = `http://127.0.0.1:${port}`;
  const metricsToken = `metrics-${randomUUID()}`;
  const env = appProcessEnv({
    port,
    databaseUrl,
    redisUrl: options.redisUrl ?? REDIS_URL,
    queuePrefix: `sge2e-${randomUUID().slice(0, 8)}`,
    apiKey: "sandbox-api-key",
    apiSecret: APP_SECRET,
    encryptionKey: Buffer.alloc(32, 9).toString("base64"),
    // The sandbox sign-in (the demo) exists only outside production.
    nodeEnv: options.env?.STOCKGUARD_SANDBOX === "1" ? "development" : "production",
    extra: {
      SHOPIFY_ADMIN_API_ORIGIN: shopify.url,
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? (options.logs ? "info" : "warn"),
      WORKER_METRICS_PORT: "0",
      STOCKGUARD_METRICS_TOKEN: metricsToken,
      ...options.env,
    },
  });
  const logs: string[] = [];
  const spawnTs = (
    file: string,
    args: string[] = [],
    name = file,
    extraEnv: Record<string, string> = {},
  ) => {
    // PROFILE_DIR=/tmp/x writes a V8 CPU profile per process at exit (diagnosis of the bench).
    const nodeFlags =
      process.env.PROFILE_DIR && !file.includes("cli")
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE_DIR}`]
        : [];
    // APP_NODE_FLAGS="--flag …": V8/Node flags for StockGuard's own processes only (the bench's
    // local Shopify and load generator keep theirs) — to try a runtime setting on the app alone.
    if (process.env.APP_NODE_FLAGS && !file.includes("cli"))
      nodeFlags.push(...process.env.APP_NODE_FLAGS.split(" ").filter(Boolean));
    // Own process group: signals reach tsx's node child too (kill(-pid)), so a SIGKILL really
    // kills the worker and close() leaves no orphan behind.
    const child = track(
      spawn(TSX, [...nodeFlags, file, ...args], {
        detached: true,
        cwd: ROOT,
        env: { ...env, ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    const collect = (chunk: Buffer) => {
      if (process.env.WORLD_LOG_FILE)
        appendFileSync(process.env.WORLD_LOG_FILE, `[${name}] ${chunk.toString()}`);
      logs.push(`[${name}] ${chunk.toString()}`);
      if (logs.length > 5_000) logs.splice(0, 1_000);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    return child;
  };

  const startWeb = async () => {
    const child = spawnTs("app/web-server.ts", [], "web");
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`web exited with ${child.exitCode}\n${logs.slice(-20).join("")}`);
        return (await fetch(`${webUrl}/healthz`).catch(() => null))?.ok === true;
      },
      180_000,
      "web process",
      () => logs.join(""),
    );
    return child;
  };
  let web = await startWeb();
  const startWorker = async () => {
    const probe = new Queue("push", {
      connection: { url: env.REDIS_URL },
      prefix: env.QUEUE_PREFIX,
    });
    probe.on("error", () => undefined); // a fault test may have Redis down right now
    const before = (await probe.getWorkers()).length;
    const worker = spawnTs("workers/main.ts", [], "worker");
    await waitFor(
      async () => {
        if (worker.exitCode !== null)
          throw new Error(`worker exited with ${worker.exitCode}\n${logs.slice(-20).join("")}`);
        return (await probe.getWorkers()).length > before;
      },
      60_000,
      "worker process",
      () => logs.join(""),
    );
    await probe.close();
    return worker;
  };
  const workers: ChildProcess[] = [];
  mark("web up");
  for (let i = 0; i < (options.workers ?? 1); i++) workers.push(await startWorker());
  mark("workers up");

  const cli = async (args: string[], token?: string) => {
    // Tokens travel in the environment, never as arguments (they would show in ps).
    const child = spawnTs("app/cli/main.ts", args, "cli", token ? { STOCKGUARD_TOKEN: token } : {});
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
    if (code !== 0)
      throw new Error(`cli ${args.join(" ")} exited ${code}\n${logs.slice(-20).join("")}`);
    return out.trim();
  };

  // Webhooks exactly as shopify.app.toml subscribes them.
  const toml = readFileSync(path.join(ROOT, "shopify.app.toml"), "utf8");
  const subscriptions = subscriptionsFromToml(toml, webUrl);
  if (options.delivery) shopify.sandbox.configureDelivery(options.delivery);
  const connectionIds = new Map<string, string>();
  // The app as the Partner Dashboard knows it (client id and secret, the toml's webhooks), and
  // the source store's merchant installing it: Shopify then delivers the toml webhooks to it.
  shopify.sandbox.configureApp({
    clientId: "sandbox-api-key",
    clientSecret: APP_SECRET,
    title: "StockGuard",
    subscriptions,
  });
  shopify.sandbox.installApp(source);
  await cli(["shop:connect", "--shop", source], `shpat_${source.split(".")[0]}`);
  mark("source connected (catalog imported)");
  const connect = async (store: string) => {
    // A store connected with a custom app's token: StockGuard creates that store's webhook
    // subscriptions itself, and Shopify signs them with the custom app's own secret.
    const args = ["channel:connect", "--shop", source, "--kind", "shopify", "--store", store];
    args.push("--webhook-secret", customAppSecret(store));
    connectionIds.set(store, await cli(args, `shpat_${store.split(".")[0]}`));
  };
  // Each store has its own Admin API budget: a large catalog imports no faster one store after
  // the other than all at once (the bench connects them together).
  if (options.parallelConnect) await Promise.all(stores.map((store) => connect(store)));
  else for (const store of stores) await connect(store);
  mark("other stores connected");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on("error", () => undefined); // the fault tests restart the server under it
  const sourceRow = await pool.query<{ id: string }>(
    "SELECT id FROM connection WHERE account_ref = $1",
    [source],
  );
  connectionIds.set(source, sourceRow.rows[0]!.id);

  const result: World = {
    shopify,
    webUrl,
    source,
    stores,
    env,
    metricsToken,
    databaseUrl,
    connectionIds,
    pg: pool,
    processes: { web, workers },
    cli,
    restart: async (which) => {
      const old = [...(which !== "workers" ? [web] : []), ...(which !== "web" ? workers : [])];
      for (const child of old) signalGroup(child, "SIGTERM");
      await Promise.all(old.map(exited));
      if (which !== "workers") result.processes.web = web = await startWeb();
      if (which !== "web") {
        const count = workers.length;
        workers.length = 0;
        for (let i = 0; i < count; i++) workers.push(await startWorker());
      }
    },
    startWorker: async () => {
      const w = await startWorker();
      workers.push(w);
      return w;
    },
    output: () => logs.join(""),
    timings,
    close: async () => {
      for (const child of [web, ...workers]) signalGroup(child, "SIGTERM");
      await Promise.all([web, ...workers].map(exited));
      await pool.end();
      await shopify.close();
      await dropRedisPrefix(env.QUEUE_PREFIX!, env.REDIS_URL);
      if (database && !process.env.KEEP_WORLD_DB) await dropTestDatabase(database.name);
    },
  };
  return result;
}

/** Resolves once `child` has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve()
      : child.once("exit", () => resolve()),
  );
}

/**
 * Every process a world started, so an interrupted or timed-out run (Ctrl-C on a bench, a
 * vitest worker being stopped) never leaves a web or worker process behind.
 */
const spawned = new Set<ChildProcess>();
let exitHooks = false;

export function track(child: ChildProcess): ChildProcess {
  spawned.add(child);
  child.once("exit", () => spawned.delete(child));
  if (!exitHooks) {
    exitHooks = true;
    process.once("exit", () => {
      for (const c of spawned) signalGroup(c, "SIGKILL");
    });
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        for (const c of spawned) signalGroup(c, "SIGTERM");
        setTimeout(() => process.exit(130), 2_000).unref();
      });
    }
  }
  return child;
}

/** Stops every process the worlds of this process started (bench deadline, interrupts). */
export function stopAllSpawned(signal: NodeJS.Signals = "SIGTERM"): void {
  for (const c of spawned) signalGroup(c, signal);
}

/** Signals a spawned process and everything it started (it leads its own process group). */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  details?: () => string,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}\n${details?.().slice(-4_000) ?? ""}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Oversold units per SKU as StockGuard reports them to the merchant: a shortfall is provisional
 * until its item is quiet (`INCIDENT_SETTLE_MS`, services/incidents/settle.server.ts), when the
 * settled state decides what is confirmed. Waits for none to be left provisional, then sums the
 * confirmed units. (A sum over provisional shortfalls counts a unit the ledger briefly missed —
 * e.g. a source read that saw a shipment before its webhook — that settling gives back.)
 */
export async function confirmedOversells(
  world: World,
  timeoutMs = 30_000,
): Promise<Map<string, number>> {
  await waitFor(
    async () =>
      (
        await world.pg.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM oversell_incident WHERE status = 'provisional'",
        )
      ).rows[0]!.n === 0,
    timeoutMs,
    "incidents settled",
    world.output,
  );
  const incidents = await world.pg.query<{ sku: string; units: number }>(
    "SELECT sku, sum(units)::int AS units FROM oversell_incident WHERE status = 'confirmed' GROUP BY sku",
  );
  return new Map(incidents.rows.map((r) => [r.sku, r.units]));
}

/**
 * Source-store levels StockGuard has flagged for a counting read and not read yet (an inbound
 * level update, or the source's own shipment or restock: `recountAfter`). Until they are read
 * the ledger may still be about to change, so a check of it waits for 0.
 */
export async function sourceReadsOwed(world: World): Promise<number> {
  const { rows } = await world.pg.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM listing
      WHERE remote_source = 'webhook' AND source_location_id IS NOT NULL`,
  );
  return rows[0]!.n;
}

/**
 * What each store offers now, per listing, against what StockGuard publishes for it. A store
 * offers max(0, available): an oversold level has a negative `available` (its own orders exceed
 * what is left on the shelf) and offers nothing, which is what publishing 0 asks for.
 */
export async function mismatches(
  world: World,
): Promise<{ store: string; sku: string; shows: number; published: number; dirty: boolean }[]> {
  const rows = await world.pg.query<{
    account: string;
    sku: string;
    remoteRef: string;
    remoteLocationRef: string;
    published: number;
    dirty: boolean;
  }>(`
    SELECT c.account_ref AS account, l.sku, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef",
           l.published_quantity AS published, l.published_version > l.pushed_version AS dirty
      FROM listing l JOIN connection c ON c.id = l.connection_id WHERE l.status = 'active'`);
  const out = [];
  for (const row of rows.rows) {
    const shown = Math.max(
      0,
      availableAt(world, row.account, row.remoteRef, row.remoteLocationRef),
    );
    if (shown !== row.published || row.dirty)
      out.push({
        store: row.account,
        sku: row.sku,
        shows: shown,
        published: row.published,
        dirty: row.dirty,
      });
  }
  return out;
}

function gidNumber(gid: string): number {
  return Number(gid.split("/").pop());
}

export function levelOf(world: World, store: string, remoteRef: string, remoteLocationRef: string) {
  const shop = world.shopify.sandbox.shop(store);
  return shop.items.get(gidNumber(remoteRef))?.levels.get(gidNumber(remoteLocationRef)) ?? null;
}

export function availableAt(
  world: World,
  store: string,
  remoteRef: string,
  remoteLocationRef: string,
): number {
  return levelOf(world, store, remoteRef, remoteLocationRef)?.quantities.available ?? Number.NaN;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/**
 * Lost and doubled units: the ledger's commitments and shipments against what the stores
 * themselves record, per SKU (every order on every store must be committed exactly once, every
 * fulfilment shipped exactly once).
 */
export async function ledgerVsStores(
  world: World,
): Promise<{ lost: number; doubled: number; details: string[] }> {
  const sandbox = world.shopify.sandbox;
  const stores = [world.source, ...world.stores];
  const expected = new Map<string, { committed: number; shipped: number }>();
  for (const s of stores) {
    const shop = sandbox.shop(s);
    for (const variant of shop.variants.values()) {
      const item = variant.sku ? shop.items.get(variant.inventoryItemId) : undefined;
      if (!item || !variant.sku) continue;
      const e = expected.get(variant.sku) ?? { committed: 0, shipped: 0 };
      for (const level of item.levels.values()) e.committed += level.quantities.committed;
      expected.set(variant.sku, e);
    }
    for (const order of shop.orders.values()) {
      for (const line of order.lineItems) {
        if (!line.sku) continue;
        const e = expected.get(line.sku) ?? { committed: 0, shipped: 0 };
        e.shipped += line.fulfilled;
        expected.set(line.sku, e);
      }
    }
  }
  const rows = await world.pg.query<{ sku: string; committed: number; shipped: number }>(`
    SELECT i.sku, COALESCE((SELECT sum(s.committed) FROM stock_level s WHERE s.item_id = i.id), 0)::int AS committed,
           COALESCE((SELECT -sum(m.d_on_hand) FROM movement m WHERE m.item_id = i.id AND m.kind = 'shipped'), 0)::int AS shipped
      FROM stock_item i`);
  let lost = 0;
  let doubled = 0;
  const details: string[] = [];
  for (const row of rows.rows) {
    const e = expected.get(row.sku) ?? { committed: 0, shipped: 0 };
    for (const [what, have, want] of [
      ["committed", row.committed, e.committed],
      ["shipped", row.shipped, e.shipped],
    ] as const) {
      if (have < want) lost += want - have;
      if (have > want) doubled += have - want;
      if (have !== want) details.push(`${row.sku} ${what}: ledger ${have}, stores ${want}`);
    }
  }
  return { lost, doubled, details };
}

/** Diagnosis of one SKU at the source: the ledger's level, the outbox, and what Shopify holds. */
export async function describeSourceSku(world: World, sku: string): Promise<string> {
  const ledger = await world.pg.query(
    `SELECT s.on_hand, s.committed, s.held, s.damaged, s.safety_stock,
            (SELECT sum(committed) FROM order_line o WHERE o.item_id = s.item_id AND o.connection_id <> $2) AS other,
            (SELECT json_agg(json_build_object('state', a.state_name, 'delta', a.delta, 'status', a.status)) FROM source_adjustment a WHERE a.item_id = s.item_id) AS outbox,
            (SELECT json_agg(json_build_object('kind', m.kind, 'd', m.d_on_hand, 'c', m.d_committed, 'actor', m.actor) ORDER BY m.id) FROM movement m WHERE m.item_id = s.item_id AND m.d_on_hand <> 0) AS on_hand_moves,
            (SELECT json_agg(json_build_object('pub', l.published_quantity, 'state', l.remote_state)) FROM listing l JOIN listing_component c ON c.listing_id = l.id WHERE c.item_id = s.item_id AND l.connection_id = $2) AS listing
       FROM stock_level s JOIN stock_item i ON i.id = s.item_id WHERE i.sku = $1`,
    [sku, world.connectionIds.get(world.source)],
  );
  const shop = world.shopify.sandbox.shop(world.source);
  const variant = [...shop.variants.values()].find((v) => v.sku === sku);
  const level = variant
    ? [...(shop.items.get(variant.inventoryItemId)?.levels.values() ?? [])][0]
    : undefined;
  return `${sku}: ledger ${JSON.stringify(ledger.rows[0])}\n  shopify ${JSON.stringify(level?.quantities)}`;
}

// --- what the stores show, the ground truth, and the end-of-run checks shared by the e2e files,
// the bench and the soak -----------------------------------------------------------------------

/** store → SKU → `available` of the SKU's (single) level at that store, now. */
export function shownNow(world: World): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const store of [world.source, ...world.stores]) {
    const shop = world.shopify.sandbox.shop(store);
    const bySku = new Map<string, number>();
    for (const variant of shop.variants.values()) {
      const level = variant.sku
        ? shop.items.get(variant.inventoryItemId)?.levels.values().next().value
        : undefined;
      if (variant.sku && level) bySku.set(variant.sku, level.quantities.available);
    }
    out.set(store, bySku);
  }
  return out;
}

/** Level-history causes that change the pool wherever they happen (a restock, an edit). */
const POOL_CAUSES = new Set(["cancel", "refund", "edit"]);
/** …and those that change it only at the source (the physical stock: receipts, counts). */
const SOURCE_POOL_CAUSES = new Set(["merchant_adjust", "merchant_set", "activate"]);

/**
 * The inputs of `saleLatency` / `oversoldUnits` (test/helpers/sale-latency.ts) from the local
 * Shopify's own records since `since` (epoch ms): every order line as a sale at its creation
 * time, every restock/edit (anywhere) and merchant change at the source as a pool change, and
 * every change of every store's `available`. `shownAtStart` is `shownNow(world)` taken at
 * `since`; `initialPool` the pool per SKU then (the stock when nothing was sold yet).
 */
export function observeSales(
  world: World,
  options: {
    since: number;
    shownAtStart: Map<string, Map<string, number>>;
    initialPool: (sku: string) => number;
    end?: number;
  },
): SaleLatencyInput & { sales: Sale[]; changes: StockChange[] } {
  const sandbox = world.shopify.sandbox;
  const stores = [world.source, ...world.stores];
  const sales: Sale[] = [];
  const changes: StockChange[] = [];
  const history: ShownValue[] = [];
  for (const store of stores) {
    for (const order of sandbox.shop(store).orders.values()) {
      const at = order.createdAt.getTime();
      if (at < options.since) continue;
      for (const line of order.lineItems) {
        if (!line.sku || !line.tracked) continue;
        sales.push({
          id: `${store.split(".")[0]}${order.name}`,
          store,
          sku: line.sku,
          units: line.quantity,
          at,
        });
      }
    }
    for (const entry of sandbox.levelHistory(store, { since: options.since })) {
      if (!entry.sku) continue;
      history.push({ store, sku: entry.sku, at: entry.at, available: entry.available });
      if (
        POOL_CAUSES.has(entry.cause) ||
        (store === world.source && SOURCE_POOL_CAUSES.has(entry.cause))
      )
        changes.push({
          store,
          sku: entry.sku,
          delta: entry.delta,
          at: entry.at,
          kind: entry.cause,
        });
    }
  }
  return {
    sales,
    changes,
    history,
    stores,
    initialPool: options.initialPool,
    initialShown: (store, sku) => options.shownAtStart.get(store)?.get(sku),
    end: options.end ?? Date.now(),
  };
}

/**
 * Ground truth against what the stores show: with no buffer rules every store must show
 * max(0, pool), the pool computed from the stores' own records (see `observeSales`), whatever
 * the ledger believes. This catches a hub that is consistent with itself but wrong.
 */
export function truthMismatches(
  world: World,
  observed: ReturnType<typeof observeSales>,
  skus: string[],
): { store: string; sku: string; shows: number; truth: number }[] {
  const pools = oversoldUnits(observed).perSku;
  const shown = shownNow(world);
  const out = [];
  for (const sku of skus) {
    const truth = Math.max(0, pools.get(sku)?.finalPool ?? observed.initialPool(sku));
    for (const store of [world.source, ...world.stores]) {
      const shows = Math.max(0, shown.get(store)?.get(sku) ?? Number.NaN);
      if (shows !== truth) out.push({ store, sku, shows, truth });
    }
  }
  return out;
}

/** Net units the merchant added at the source since `since` (receipts, counts). */
export function receivedAtSource(world: World, since = 0): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of world.shopify.sandbox.levelHistory(world.source, { since })) {
    if (entry.sku && SOURCE_POOL_CAUSES.has(entry.cause))
      out.set(entry.sku, (out.get(entry.sku) ?? 0) + entry.delta);
  }
  return out;
}

/** Admin API writes per store during `ms` of quiet (nothing sold, nothing delivered). */
export async function writesDuring(world: World, ms: number): Promise<Record<string, number>> {
  const stores = [world.source, ...world.stores];
  const sandbox = world.shopify.sandbox;
  const before = new Map(stores.map((s) => [s, sandbox.shop(s).mutationLog.length]));
  await new Promise((r) => setTimeout(r, ms));
  return Object.fromEntries(
    stores.map((s) => [s, sandbox.shop(s).mutationLog.length - before.get(s)!]),
  );
}

/**
 * The ledger against the stores, per SKU (issue 4's checks, shared): committed and shipped
 * equal what every store records; the source's on_hand is the shelf and the ledger's; on_hand +
 * shipped = the opening stock + what was received at the source; units sold elsewhere and not
 * shipped sit in the source's `reserved` (as many as exist). Returns the discrepancies (with a
 * description of the SKU at the source for an on_hand one); empty when all hold.
 */
export async function ledgerChecks(
  world: World,
  options: { stock: (index: number) => number; received?: Map<string, number> },
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
    const committed = stores.reduce(
      (s, store) => s + storeLevel(store, row.sku).quantities.committed,
      0,
    );
    const shipped = shippedAt.get(row.sku) ?? 0;
    if (row.committed !== committed)
      problems.push(`${row.sku} committed: ledger ${row.committed}, stores ${committed}`);
    if (row.shipped !== shipped)
      problems.push(`${row.sku} shipped: ledger ${row.shipped}, stores ${shipped}`);
    // Physical stock: the source store's on_hand is the shelf, and the ledger agrees.
    const source = storeLevel(world.source, row.sku);
    const onHand = ON_HAND_STATES.reduce((s, name) => s + source.quantities[name], 0);
    if (row.onHand !== onHand)
      problems.push(
        `${row.sku} on_hand: ledger ${row.onHand}, source ${onHand}\n  ${await describeSourceSku(world, row.sku)}`,
      );
    const opening = options.stock(Number(row.sku.slice(4))) + (options.received?.get(row.sku) ?? 0);
    if (row.onHand + row.shipped !== opening)
      problems.push(
        `${row.sku} on_hand + shipped: ledger ${row.onHand} + ${row.shipped}, opening + received ${opening}`,
      );
    // Units sold elsewhere and not shipped sit in the source's `reserved` (as many as exist).
    const others = world.stores.reduce(
      (s, store) => s + storeLevel(store, row.sku).quantities.committed,
      0,
    );
    const reservable = Math.min(others, Math.max(0, onHand - source.quantities.committed));
    if (source.quantities.reserved !== reservable)
      problems.push(
        `${row.sku} reserved at the source: ${source.quantities.reserved}, expected ${reservable}`,
      );
  }
  return problems;
}

const ON_HAND_STATES = [
  "available",
  "committed",
  "reserved",
  "damaged",
  "safety_stock",
  "quality_control",
] as const;
