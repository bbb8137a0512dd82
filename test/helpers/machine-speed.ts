/**
 * How much slower this machine runs StockGuard's hot path than the machine issue 11's latency
 * targets were set on. A latency an e2e test asserts comes mostly from work on two shared cores
 * (every hop waits for a CPU), so on a slower machine the same code is slower by about as much.
 *
 * The yardstick is the ledger benchmark's one-process, spread-SKU scenario (`npm run
 * bench:ledger`, BENCH_LEDGER_SCENARIOS=1proc_spread): 645 / 705 / 646 / 624 events/s on the
 * reference machine (9380f2e, four runs) → REFERENCE_EVENTS_PER_S. The factor is that over what
 * this machine does now, at least 1 (a faster machine keeps the target as set) and at most
 * MAX_FACTOR (no machine excuses more). If the measurement fails, the factor is 1. One
 * measurement (about a minute here: a fresh database, 2,020 items seeded) serves every test file
 * of a run: it is kept in test-results/ for REUSE_MS.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PG_ADMIN_URL } from "../setup/services";
import { ROOT, TSX } from "./paths";

export const REFERENCE_EVENTS_PER_S = 640;
export const MAX_FACTOR = 2.5;

const REUSE_MS = 15 * 60_000;
const KEPT = path.join(ROOT, "test-results", "machine-speed.json");

export type MachineSpeed = { eventsPerS: number | null; factor: number };

/** "× 2.22: this machine's ledger 288 events/s, reference 640", for a test's printed bound. */
export function describeSlowdown(m: MachineSpeed): string {
  return `× ${m.factor}: this machine's ledger ${m.eventsPerS ?? "?"} events/s, reference ${REFERENCE_EVENTS_PER_S}`;
}

export async function machineSlowdown(): Promise<MachineSpeed> {
  try {
    if (Date.now() - statSync(KEPT).mtimeMs < REUSE_MS)
      return JSON.parse(readFileSync(KEPT, "utf8")) as MachineSpeed;
  } catch {
    // Not measured yet in this run.
  }
  const measured = await measure();
  if (measured.eventsPerS !== null) {
    mkdirSync(path.dirname(KEPT), { recursive: true });
    writeFileSync(KEPT, JSON.stringify(measured));
  }
  return measured;
}

async function measure(events = 1_000): Promise<MachineSpeed> {
  const child = spawn(TSX, [path.join(ROOT, "test/bench/ledger-bench.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: PG_ADMIN_URL,
      BENCH_EVENTS: String(events),
      BENCH_LEDGER_SCENARIOS: "1proc_spread",
    },
    stdio: ["ignore", "pipe", "ignore"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    if (code !== 0) throw new Error(`exit ${code}`);
    const line = out.trim().split("\n").pop() ?? "";
    const rate = (JSON.parse(line) as { events_per_s_1proc_spread?: number })
      .events_per_s_1proc_spread;
    if (!rate || !(rate > 0)) throw new Error(`no rate in ${line}`);
    const factor = Math.min(MAX_FACTOR, Math.max(1, REFERENCE_EVENTS_PER_S / rate));
    return { eventsPerS: rate, factor: Math.round(factor * 100) / 100 };
  } catch {
    return { eventsPerS: null, factor: 1 };
  }
}
