import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { freePort, waitFor } from "./world";

/**
 * Throw-away Redis and PostgreSQL servers for the fault-injection tests, so that restarting them
 * cannot disturb other tests using the machine's shared services.
 */
export type OwnRedis = {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
};

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    await waitFor(
      async () => {
        const client = new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        client.on("error", () => undefined);
        try {
          await client.connect();
          return (await client.ping()) === "PONG";
        } catch {
          return false;
        } finally {
          client.disconnect();
        }
      },
      10_000,
      "own redis",
    );
  };
  const stop = async (signal: NodeJS.Signals = "SIGKILL") => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(signal);
    });
  };
  await start();
  return { url, port, start, stop };
}

export type OwnPostgres = {
  url(database: string): string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
};

function pgBin(name: string): string {
  const versions = spawnSync("ls", ["/usr/lib/postgresql"], { encoding: "utf8" })
    .stdout.trim()
    .split(/\s+/)
    .sort();
  return path.join("/usr/lib/postgresql", versions[versions.length - 1]!, "bin", name);
}

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` user when we are root. */
function asPostgres(command: string, args: string[]): string[] {
  return process.getuid?.() === 0
    ? ["runuser", "-u", "postgres", "--", command, ...args]
    : [command, ...args];
}

function run(argv: string[]): void {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  if (result.status !== 0)
    throw new Error(`${argv.join(" ")} failed: ${result.stderr || result.stdout}`);
}

export async function ownPostgres(): Promise<OwnPostgres> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "sg-pg-"));
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
    const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  run(
    asPostgres(pgBin("initdb"), [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
    ]),
  );
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  const start = async () => {
    run(
      asPostgres(pgBin("pg_ctl"), [
        "-D",
        data,
        "-w",
        "-l",
        path.join(dir, "log"),
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        "start",
      ]),
    );
    await waitFor(
      async () => {
        const client = new pg.Client({ connectionString: url("postgres") });
        try {
          await client.connect();
          await client.query("SELECT 1");
          return true;
        } catch {
          return false;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      20_000,
      "own postgres",
    );
  };
  const stop = async () => {
    run(asPostgres(pgBin("pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]));
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
