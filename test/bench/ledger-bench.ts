/**
 * `npm run bench:ledger` — ledger apply throughput (a script, not a test).
 *
 * Applies generated order events with 1 and with 4 worker processes (each running
 * BENCH_CONCURRENCY transactions at once), on hot SKUs (20) and on spread-out SKUs (2,000),
 * with 10% duplicate deliveries, against a fresh database. Afterwards it checks every event's
 * effect landed exactly once. The last line printed is one JSON object.
 *
 * Env: BENCH_EVENTS (default 4000 per scenario), BENCH_CONCURRENCY (default 4 per process),
 * BENCH_LEDGER_SCENARIOS (comma-separated names, default all four), DATABASE_URL (server to
 * use; a throw-away database is created next to it).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const HOT_SKUS = 20;
const SPREAD_SKUS = 2000;
const V0 = "2026-11-26T10:00:00.000Z";

type Scenario = { name: string; procs: number; skus: number };
const SCENARIOS: Scenario[] = [
  { name: "1proc_hot", procs: 1, skus: HOT_SKUS },
  { name: "1proc_spread", procs: 1, skus: SPREAD_SKUS },
  { name: "4proc_hot", procs: 4, skus: HOT_SKUS },
  { name: "4proc_spread", procs: 4, skus: SPREAD_SKUS },
].filter(
  (s) =>
    !process.env.BENCH_LEDGER_SCENARIOS ||
    process.env.BENCH_LEDGER_SCENARIOS.split(",").includes(s.name),
);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The same deterministic event list in the parent (for checking) and in every worker. */
function generate(scenario: Scenario, connections: string[]) {
  const random = rng(scenario.name.length * 7919 + scenario.skus);
  const unique = Array.from({ length: Math.round(EVENTS / 1.1) }, (_, i) => ({
    key: `${scenario.name}/${i}`,
    orderId: `${scenario.name}-o${i}`,
    sku: `${scenario.skus === HOT_SKUS ? "HOT" : "SPREAD"}-${Math.floor(random() * scenario.skus)}`,
    quantity: 1 + Math.floor(random() * 2),
    connectionId: connections[i % connections.length]!,
  }));
  const deliveries = [...unique];
  while (deliveries.length < EVENTS) deliveries.push(unique[Math.floor(random() * unique.length)]!);
  return { unique, deliveries };
}

async function worker(): Promise<void> {
  const [scenarioName, rank, shopId, connectionsCsv] = process.argv.slice(3);
  const scenario = SCENARIOS.find((s) => s.name === scenarioName)!;
  const { applyLedgerEvent } = await import("../../app/services/ledger/apply-event.server");
  const { closeSqlPool } = await import("../../app/lib/sql.server");
  const { deliveries } = generate(scenario, connectionsCsv!.split(","));
  const mine = deliveries.filter((_, i) => i % scenario.procs === Number(rank));
  process.send?.({ ready: true });
  await new Promise<void>((resolve) => process.once("message", () => resolve()));
  let next = 0;
  const loop = async () => {
    for (;;) {
      const e = mine[next++];
      if (!e) return;
      await applyLedgerEvent({
        shopId: shopId!,
        actor: "bench",
        operations: [
          {
            type: "line",
            key: e.key,
            connectionId: e.connectionId,
            orderId: e.orderId,
            lineId: "1",
            sku: e.sku,
            command: { kind: "placed", quantity: e.quantity, version: V0 },
          },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  await closeSqlPool();
  process.send?.({ done: true });
}

async function runScenario(
  scenario: Scenario,
  shopId: string,
  connections: string[],
  databaseUrl: string,
): Promise<number> {
  const children = Array.from({ length: scenario.procs }, (_, rank) =>
    spawn(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        "--worker",
        scenario.name,
        String(rank),
        shopId,
        connections.join(","),
      ],
      {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          DATABASE_POOL_MAX: String(CONCURRENCY + 1),
          LOG_LEVEL: "silent",
        },
      },
    ),
  );
  await Promise.all(
    children.map((c) => new Promise<void>((resolve) => c.once("message", () => resolve()))),
  );
  const started = performance.now();
  const done = children.map(
    (c) =>
      new Promise<void>((resolve, reject) => {
        c.on("message", (m: { done?: boolean }) => m.done && resolve());
        c.once("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`)),
        );
      }),
  );
  for (const c of children) c.send({ go: true });
  await Promise.all(done);
  return (EVENTS / (performance.now() - started)) * 1000;
}

async function main(): Promise<void> {
  const { migrate } = await import("../../prisma/migrate");
  const base = new URL(
    process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/stockguard",
  );
  const name = `sg_bench_ledger_${Date.now().toString(36)}`;
  base.pathname = `/${name}`;
  const databaseUrl = base.toString();
  process.env.DATABASE_URL = databaseUrl;
  process.env.LOG_LEVEL = "silent";
  await migrate(databaseUrl);

  const { createPrismaClient } = await import("../../app/db.server");
  const prisma = createPrismaClient(databaseUrl, 4);
  const { seedShop, addSalesConnection } = await import("../factories/shop");
  const items = [
    ...Array.from({ length: HOT_SKUS }, (_, i) => ({ sku: `HOT-${i}`, onHand: 1_000_000 })),
    ...Array.from({ length: SPREAD_SKUS }, (_, i) => ({ sku: `SPREAD-${i}`, onHand: 1_000_000 })),
  ];
  console.error(`seeding ${items.length} items…`);
  const shop = await seedShop(prisma, { items, sourceListings: true });
  const connections = [
    (await addSalesConnection(prisma, shop, { listings: items.map((i) => ({ sku: i.sku })) }))
      .connectionId,
    (await addSalesConnection(prisma, shop, { listings: items.map((i) => ({ sku: i.sku })) }))
      .connectionId,
  ];

  const result: Record<string, number> = {};
  let lost = 0;
  let doubled = 0;
  for (const scenario of SCENARIOS) {
    const rate = await runScenario(scenario, shop.shopId, connections, databaseUrl);
    result[`events_per_s_${scenario.name}`] = Math.round(rate);
    const { unique } = generate(scenario, connections);
    const rows = await prisma.$queryRaw<{ key: string; n: bigint; committed: bigint }[]>`
      SELECT idempotency_key AS key, count(*) AS n, sum(d_committed) AS committed
        FROM movement WHERE shop_id = ${shop.shopId}::uuid AND idempotency_key LIKE ${`${scenario.name}/%`}
       GROUP BY idempotency_key`;
    // Placement movements are keyed `<event key>@<version>` (last-writer-wins commands).
    const found = new Map(rows.map((r) => [r.key.split("@")[0]!, r]));
    for (const e of unique) {
      const row = found.get(e.key);
      if (!row) lost++;
      else if (Number(row.n) > 1 || Number(row.committed) > e.quantity) doubled++;
    }
    console.error(`${scenario.name}: ${Math.round(rate)} events/s`);
  }
  // Balances must still equal the seed plus the sum of their movements.
  const drift = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM stock_level s
      LEFT JOIN (SELECT item_id, location_id, sum(d_committed) AS c FROM movement GROUP BY 1, 2) m
        ON m.item_id = s.item_id AND m.location_id = s.location_id
     WHERE s.shop_id = ${shop.shopId}::uuid AND s.committed <> COALESCE(m.c, 0)`;
  await prisma.$disconnect();
  const { dropTestDatabase } = await import("../setup/services");
  await dropTestDatabase(name).catch(() => undefined);
  console.log(
    JSON.stringify({
      events: EVENTS,
      concurrency_per_process: CONCURRENCY,
      ...result,
      lost_movements: lost,
      doubled_movements: doubled,
      balances_not_matching_movements: Number(drift[0]!.n),
    }),
  );
}

if (process.argv[2] === "--worker") {
  worker().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
