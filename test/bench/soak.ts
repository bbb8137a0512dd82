/**
 * Convergence soak (issue 11, "First: never stuck"): the chaos world of test/e2e/chaos.ts with
 * many seeds. For each run: converged (and how long after the last webhook) or stuck (the
 * mismatching SKUs with what every store shows, what is published, the truth and the SKU's state
 * at the source), writes during the quiet window, ledger discrepancies, and the sale → others
 * latency; then a summary. Last line: one JSON object.
 *
 *   npx tsx test/bench/soak.ts --runs 20 [--seed 1] [--duration 20] [--rate 30]
 *     [--per-world 1] [--converge 30] [--quiet 5]
 *
 * --seed: the first seed (runs use seed, seed+1, …); --duration: seconds of storm per run;
 * --per-world: runs sharing one world (1: a fresh world per run, so a stuck seed can be re-run
 * alone with --seed N --runs 1; more: faster, each run starting from the previous end state);
 * --converge: seconds the stores may take after the last webhook; --quiet: the quiet window.
 * SOAK_LOGS=1 keeps the app's info logs (printed for a stuck run).
 */
import { parseArgs } from "node:util";
import { percentileOf } from "../helpers/sale-latency";
import { chaosRound, describeRound, startChaosWorld, type ChaosResult } from "../e2e/chaos";
import { stopAllSpawned, type World } from "../e2e/world";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    duration: { type: "string", default: "20" },
    rate: { type: "string", default: "30" },
    "per-world": { type: "string", default: "1" },
    converge: { type: "string", default: "30" },
    quiet: { type: "string", default: "5" },
  },
});
const runs = Number(values.runs);
const firstSeed = Number(values.seed);
const perWorld = Math.max(1, Number(values["per-world"]));

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const results: ChaosResult[] = [];
  const failures: { seed: number; error: string }[] = [];
  let world: World | null = null;
  for (let i = 0; i < runs; i++) {
    const seed = firstSeed + i;
    const started = Date.now();
    try {
      if (!world || i % perWorld === 0) {
        await world?.close();
        world = null;
        world = await startChaosWorld(seed, { logs: Boolean(process.env.SOAK_LOGS) });
      }
      const result = await chaosRound(world, {
        seed,
        durationMs: Number(values.duration) * 1000,
        rate: Number(values.rate),
        convergeMs: Number(values.converge) * 1000,
        quietMs: Number(values.quiet) * 1000,
      });
      results.push(result);
      const quiet = Object.values(result.writesWhileQuiet).reduce((s, n) => s + n, 0);
      const verdict =
        result.convergedMs === null
          ? "STUCK"
          : quiet > 0
            ? "converged, but wrote while quiet"
            : result.ledger.length > 0
              ? "converged, ledger wrong"
              : "converged";
      log(`run ${i + 1}/${runs} (${Math.round((Date.now() - started) / 1000)} s): ${verdict}`);
      log(describeRound(result));
      if (result.convergedMs === null && process.env.SOAK_LOGS) log(world.output().slice(-8_000));
      // A stuck world stays stuck: the next run gets a fresh one.
      if (result.convergedMs === null || result.ledger.length > 0) {
        await world.close();
        world = null;
      }
    } catch (error) {
      failures.push({ seed, error: String(error).slice(0, 2_000) });
      log(`run ${i + 1}/${runs} seed ${seed}: FAILED to run: ${String(error).slice(0, 2_000)}`);
      await world?.close().catch(() => undefined);
      world = null;
    }
  }
  await world?.close();

  const stuck = results.filter((r) => r.convergedMs === null);
  const noisy = results.filter((r) => Object.values(r.writesWhileQuiet).some((n) => n > 0));
  const ledger = results.filter((r) => r.ledger.length > 0);
  const converged = results.filter((r) => r.convergedMs !== null).map((r) => r.convergedMs!);
  const p99s = results.map((r) => r.latency.p99).filter((n) => Number.isFinite(n));
  // Every sale of every run together (the tail is a few sales in a few runs).
  const pooled = results.flatMap((r) => r.latency.outcomes.map((o) => o.latencyMs));
  const over5s = pooled.filter((ms) => ms > 5_000).length;
  log("");
  log(
    `soak: ${results.length} runs (${failures.length} failed to run): ${results.length - stuck.length} converged, ` +
      `${stuck.length} stuck${stuck.length ? ` (seeds ${stuck.map((r) => r.seed).join(", ")})` : ""}, ` +
      `${noisy.length} wrote while quiet${noisy.length ? ` (seeds ${noisy.map((r) => r.seed).join(", ")})` : ""}, ` +
      `${ledger.length} with ledger discrepancies${ledger.length ? ` (seeds ${ledger.map((r) => r.seed).join(", ")})` : ""}; ` +
      `converged p50 ${percentileOf(converged, 50)} ms / max ${converged.length ? Math.max(...converged) : "-"} ms after the last webhook; ` +
      `per-run sale → others p99: median ${percentileOf(p99s, 50)} ms, worst ${p99s.length ? Math.max(...p99s) : "-"} ms; ` +
      `all ${pooled.length} sales: p50 ${percentileOf(pooled, 50)} p95 ${percentileOf(pooled, 95)} ` +
      `p99 ${percentileOf(pooled, 99)} max ${pooled.length ? Math.max(...pooled) : "-"} ms, ${over5s} over 5 s`,
  );
  for (const r of stuck) {
    log(
      `stuck seed ${r.seed}: ${r.stuck
        .map(
          (s) =>
            `${s.sku} [${s.stores.map((x) => `${x.store.split(".")[0]} ${x.shows}/${x.published}/truth ${x.truth}`).join(", ")}]`,
        )
        .join("; ")}`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      runs: results.length,
      failed_to_run: failures.map((f) => f.seed),
      converged: results.length - stuck.length,
      stuck_seeds: stuck.map((r) => r.seed),
      stuck: stuck.map((r) => ({ seed: r.seed, skus: r.stuck })),
      quiet_write_seeds: noisy.map((r) => ({ seed: r.seed, writes: r.writesWhileQuiet })),
      ledger_seeds: ledger.map((r) => ({ seed: r.seed, problems: r.ledger.slice(0, 20) })),
      sales: pooled.length,
      sale_p50_ms: percentileOf(pooled, 50),
      sale_p95_ms: percentileOf(pooled, 95),
      sale_p99_ms: percentileOf(pooled, 99),
      sale_max_ms: pooled.length ? Math.max(...pooled) : null,
      sales_over_5s: over5s,
      converged_p50_ms: percentileOf(converged, 50),
      converged_max_ms: converged.length ? Math.max(...converged) : null,
      sale_p99_ms_per_run: results.map((r) => ({
        seed: r.seed,
        p95: r.latency.p95,
        p99: r.latency.p99,
        timeouts: r.latency.timeouts,
      })),
    })}\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const deadlineS = Number(process.env.SOAK_TIMEOUT_S ?? runs * 300);
  setTimeout(() => {
    console.error(`soak: deadline of ${deadlineS} s passed; stopping`);
    stopAllSpawned("SIGKILL");
    process.exit(2);
  }, deadlineS * 1000).unref();
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      stopAllSpawned("SIGKILL");
      process.exit(1);
    },
  );
}
