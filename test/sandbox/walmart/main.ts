/**
 * Standalone local Walmart Marketplace (US):
 *   npx tsx test/sandbox/walmart/main.ts --port 9200 [--host 127.0.0.1] [--seed seed.json]
 *     [--time-scale 0.001] [--rng-seed 42]
 * Prints its URL on stdout; stops on SIGTERM / SIGINT (exit 0).
 */
import { parseArgs } from "node:util";
import { startLocalWalmart } from "./server";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "9200" },
    host: { type: "string", default: "127.0.0.1" },
    seed: { type: "string" },
    "time-scale": { type: "string", default: "1" },
    "rng-seed": { type: "string" },
  },
});

const port = Number(values.port);
const timeScale = Number(values["time-scale"]);
if (!Number.isInteger(port) || port < 0 || !(timeScale > 0)) {
  console.error("usage: main.ts --port N [--seed file.json] [--time-scale x] [--rng-seed n]");
  process.exit(2);
}

const local = await startLocalWalmart({
  port,
  host: values.host,
  timeScale,
  ...(values.seed ? { seed: values.seed } : {}),
  ...(values["rng-seed"] ? { rngSeed: Number(values["rng-seed"]) } : {}),
});
console.log(local.url);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void local.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
