import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ownPostgres, ownRedis, type OwnPostgres, type OwnRedis } from "./own-services";
import {
  signalGroup,
  describeSourceSku,
  ledgerVsStores,
  mismatches,
  skuOf,
  startWorld,
  waitFor,
  type World,
} from "./world";

/**
 * Issue 5's fault-injection suite, on one world with its own Redis and PostgreSQL (restarting
 * the machine's shared ones would disturb other tests). Orders keep coming during every fault;
 * after each fault ends every channel must converge within 30 s, and the ledger must match what
 * the stores recorded, with no movement lost or doubled.
 */
const SKUS = 60;
// Recovery bound after a fault ends (measured 12–26 s on a loaded 2-core machine; see issue 11).
const CONVERGE_MS = 45_000;

describe("faults", () => {
  let world: World;
  let redis: OwnRedis;
  let postgres: OwnPostgres;
  let seed = 99;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

  beforeAll(async () => {
    redis = await ownRedis();
    postgres = await ownPostgres();
    world = await startWorld({
      skus: SKUS,
      stock: () => 10_000, // deep stock: this suite is about delivery, not oversells
      secondaryStores: 2,
      workers: 2,
      redisUrl: redis.url,
      databaseUrl: postgres.url("stockguard_faults"),
      delivery: { delayMs: [0, 150], concurrency: 20 },
      env: { PUSH_COALESCE_MS: "100" },
      logs: Boolean(process.env.FAULTS_LOGS),
    });
    await waitFor(
      async () => (await mismatches(world)).length === 0,
      60_000,
      "initial convergence",
      world.output,
    );
  }, 300_000);

  afterAll(async () => {
    await world?.close();
    await redis?.stop();
    // KEEP_FAULT_DB=1 leaves the cluster running for a post-mortem (its URL is printed).
    if (process.env.KEEP_FAULT_DB)
      console.log(`fault database kept at ${postgres.url("stockguard_faults")}`);
    else await postgres?.destroy();
  });

  /** Buyers on every store and a packer, for `ms`, while `during` injects the fault. */
  async function traffic(ms: number, during: () => Promise<void> = async () => undefined) {
    const stores = [world.source, ...world.stores];
    const sandbox = world.shopify.sandbox;
    const until = Date.now() + ms;
    const buyers = Array.from({ length: 4 }, async () => {
      while (Date.now() < until) {
        const store = stores[Math.floor(random() * stores.length)]!;
        sandbox.checkout(store, {
          lines: [
            { sku: skuOf(Math.floor(random() * SKUS)), quantity: 1 + Math.floor(random() * 2) },
          ],
        });
        await new Promise((r) => setTimeout(r, 30 + random() * 60));
      }
    });
    const packer = (async () => {
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 500));
        for (const store of stores) {
          const open = [...sandbox.shop(store).orders.values()].filter((o) =>
            o.lineItems.some((l) => l.fulfilled === 0),
          );
          const order = open[Math.floor(random() * open.length)];
          if (order) sandbox.fulfillOrder(store, String(order.id));
        }
      }
    })();
    await Promise.all([...buyers, packer, during()]);
  }

  async function convergedAndExact(label: string) {
    const started = Date.now();
    let last: unknown = [];
    let state = "";
    await waitFor(
      async () => {
        const deliveries = world.shopify.sandbox.deliveries();
        const receipts = await world.pg
          .query("SELECT status, count(*)::int AS n FROM receipt GROUP BY status")
          .catch(() => ({ rows: [] }));
        const adjustments = await world.pg
          .query("SELECT status, count(*)::int AS n FROM source_adjustment GROUP BY status")
          .catch(() => ({ rows: [] }));
        const pushQueue = new Queue("push", {
          connection: { url: redis.url, maxRetriesPerRequest: 1 },
          prefix: world.env.QUEUE_PREFIX,
        });
        // Redis may be down right now (that is the fault): errors are expected, not news.
        pushQueue.on("error", () => undefined);
        const jobs = await pushQueue
          .getJobs(["active", "waiting", "delayed", "failed"])
          .catch(() => []);
        const queueState = await Promise.all(
          jobs
            .slice(0, 8)
            .map(
              async (j) =>
                `${j.id}:${await j.getState().catch(() => "?")}:${j.attemptsMade}:${j.failedReason ?? ""}`,
            ),
        );
        await pushQueue.close();
        state = `push jobs ${JSON.stringify(queueState)} deliveries ${JSON.stringify(
          Object.fromEntries(
            ["pending", "in_flight", "delivered", "failed"].map((st) => [
              st,
              deliveries.filter((d) => d.state === st).length,
            ]),
          ),
        )} receipts ${JSON.stringify(receipts.rows)} adjustments ${JSON.stringify(adjustments.rows)}`;
        if (!(await world.shopify.sandbox.waitForWebhooksIdle(1_000))) return false;
        // Every event received is applied (a killed worker's job comes back after its lock
        // lapses; a receipt the crash left pending is revived by the sweeper).
        if ((receipts.rows as { status: string }[]).some((r) => r.status === "pending"))
          return false;
        last = await mismatches(world);
        const first = (last as { store: string; sku: string }[]).find(
          (m) => m.store === world.source,
        );
        if (first) state += `\n${await describeSourceSku(world, first.sku)}`;
        return (last as unknown[]).length === 0;
      },
      CONVERGE_MS,
      `${label}: convergence`,
      () =>
        `${world.output().slice(-3_000)}\nSTATE ${state}\nMISMATCHES ${JSON.stringify(last).slice(0, 2_000)}`,
    );
    const exact = await ledgerVsStores(world);
    expect({
      label,
      lost: exact.lost,
      doubled: exact.doubled,
      details: exact.details.slice(0, 5),
    }).toEqual({
      label,
      lost: 0,
      doubled: 0,
      details: [],
    });
    console.log(`faults: ${label} converged ${Date.now() - started} ms after the fault ended`);
  }

  it("webhooks duplicated and reordered", { timeout: 120_000 }, async () => {
    world.shopify.sandbox.configureDelivery({
      duplicateProbability: 0.5,
      reorder: true,
      delayMs: [0, 800],
    });
    await traffic(6_000);
    world.shopify.sandbox.configureDelivery({
      duplicateProbability: 0,
      reorder: false,
      delayMs: [0, 150],
    });
    await convergedAndExact("duplicated and reordered webhooks");
  });

  it("channels answering 500s and 429s for a while", { timeout: 120_000 }, async () => {
    const sandbox = world.shopify.sandbox;
    await traffic(8_000, async () => {
      for (const store of [world.source, ...world.stores]) {
        sandbox.shop(store).faults.add({ kind: "http500", probability: 0.5, durationMs: 5_000 });
        sandbox.shop(store).faults.add({
          kind: "http429",
          probability: 0.3,
          durationMs: 5_000,
          retryAfterSeconds: 1,
        });
      }
    });
    for (const store of [world.source, ...world.stores]) sandbox.shop(store).faults.clear();
    await convergedAndExact("500s and 429s");
  });

  it("a worker killed with SIGKILL mid-batch", { timeout: 120_000 }, async () => {
    await traffic(6_000, async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      signalGroup(world.processes.workers[0]!, "SIGKILL");
      await new Promise((r) => setTimeout(r, 1_000));
      await world.startWorker();
    });
    await convergedAndExact("worker SIGKILL");
  });

  it("Redis restarted (its data lost)", { timeout: 120_000 }, async () => {
    // Every queued job and every connection lock go with Redis: a push still running and the
    // push the sweeper queues again can write one connection at once. A fifth of first attempts
    // are lost too, their retries arriving up to 3 s later, in the storm.
    world.shopify.sandbox.configureDelivery({
      dropFirstProbability: 0.2,
      dropRetryMs: [500, 3_000],
    });
    try {
      await traffic(7_000, async () => {
        await new Promise((r) => setTimeout(r, 2_000));
        await redis.stop("SIGKILL");
        await new Promise((r) => setTimeout(r, 3_000));
        await redis.start();
      });
    } finally {
      world.shopify.sandbox.configureDelivery({ dropFirstProbability: 0, dropRetryMs: null });
    }
    await convergedAndExact("Redis restart");
  });

  it("PostgreSQL restarted", { timeout: 180_000 }, async () => {
    // Shopify's own retry schedule for this fault (the first retry 56 s after a refusal, not the
    // world's scaled 56 ms): a delivery refused during the outage would miss the 45 s bound.
    // StockGuard must hold what it cannot store (the spool, decision 0023) and answer 200.
    const sandbox = world.shopify.sandbox;
    const scale = sandbox.timeScale;
    sandbox.timeScale = 1;
    let down = 0;
    let up = 0;
    try {
      await traffic(8_000, async () => {
        await new Promise((r) => setTimeout(r, 2_000));
        down = Date.now();
        await postgres.stop();
        await new Promise((r) => setTimeout(r, 4_000));
        await postgres.start();
        up = Date.now();
      });
      const refused = sandbox
        .deliveries()
        .flatMap((d) => d.attempts.map((a) => ({ topic: d.topic, ...a })))
        .filter((a) => !a.ok && !a.dropped)
        .filter((a) => Date.parse(a.startedAt) >= down - 1_000);
      const attempts = sandbox
        .deliveries()
        .flatMap((d) => d.attempts)
        .filter((a) => Date.parse(a.startedAt) >= down && Date.parse(a.startedAt) <= up).length;
      console.log(
        `faults: ${attempts} deliveries attempted while PostgreSQL was down (${up - down} ms), ${refused.length} refused`,
      );
      expect(refused.slice(0, 5)).toEqual([]);
      await convergedAndExact("PostgreSQL restart");
    } finally {
      sandbox.timeScale = scale;
    }
  });
});
