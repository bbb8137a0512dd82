import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appProcessEnv } from "../helpers/app-env";
import { createTestDatabase, dropTestDatabase, REDIS_URL } from "../setup/services";
import { freePort, ROOT, signalGroup, waitFor } from "./world";

/**
 * The web process as operators start it (`npm run start`): it serves the app, every webhook
 * route declared in shopify.app.toml rejects an unsigned request with 401 and stores nothing, and
 * a missing required variable stops it at start with a message naming the variable.
 */

function baseEnv(databaseUrl: string, port: number): NodeJS.ProcessEnv {
  return appProcessEnv({
    port,
    databaseUrl,
    redisUrl: REDIS_URL,
    queuePrefix: `sg-web-${process.pid}`,
    apiKey: "web-process-key",
    apiSecret: "web-process-secret",
    encryptionKey: Buffer.alloc(32, 7).toString("base64"),
    extra: { STOCKGUARD_METRICS_TOKEN: METRICS_TOKEN },
  });
}

const METRICS_TOKEN = "web-process-metrics-token";

/** The web's node process (npm → tsx → node): the deepest descendant of the spawned group. */
function webPid(child: ChildProcess): number {
  let pid = child.pid!;
  for (;;) {
    const children = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .stdout.split("\n")
      .filter(Boolean);
    if (children.length === 0) return pid;
    pid = Number(children[children.length - 1]);
  }
}

/**
 * Sends `size` bytes of body (declared, or chunked) and returns the answer's status, or "reset"
 * when the server cut the connection while we were still sending (it stopped reading).
 */
function rawPost(
  port: number,
  path: string,
  size: number,
  declared: boolean,
): Promise<number | "reset"> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-shopify-hmac-sha256": "c2lnbmF0dXJl",
          "x-shopify-topic": "orders/create",
          "x-shopify-shop-domain": "someone.myshopify.com",
          ...(declared ? { "content-length": String(size) } : {}),
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
        request.destroy();
      },
    );
    request.on("error", (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ECONNRESET" || code === "EPIPE") resolve("reset");
      else reject(error);
    });
    const chunk = Buffer.alloc(256 * 1024, 32);
    let sent = 0;
    // A declared length is refused on the headers alone: send a first chunk and wait for the
    // answer (pumping all of it would race the server closing the socket: EPIPE instead of 413).
    const limit = declared ? chunk.length : size;
    const pump = () => {
      while (sent < limit && !request.destroyed) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once("drain", pump);
      }
      if (!request.destroyed && !declared) request.end();
    };
    pump();
  });
}

/** `npm run start` on a fresh database and port, waited for until `ready` (or its exit). */
async function startWeb(
  what: string,
  extraEnv: Record<string, string>,
  ready: (port: number, child: ChildProcess) => Promise<boolean>,
): Promise<{ child: ChildProcess; database: { name: string; url: string }; port: number }> {
  const database = await createTestDatabase("sg_web");
  const port = await freePort();
  const output: string[] = [];
  const child = spawn("npm", ["run", "-s", "start"], {
    cwd: ROOT,
    env: { ...baseEnv(database.url, port), ...extraEnv },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (c: Buffer) => output.push(c.toString()));
  child.stderr!.on("data", (c: Buffer) => output.push(c.toString()));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`web exited\n${output.join("")}`);
      return ready(port, child);
    },
    120_000,
    what,
    () => output.join(""),
  );
  return { child, database, port };
}

/** SIGTERM to the web's process group, then its database dropped. */
async function stopWeb(
  child: ChildProcess | undefined,
  database: { name: string } | undefined,
): Promise<void> {
  // A process ended by a signal keeps a null exitCode: its signalCode says it is gone.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    signalGroup(child, "SIGTERM");
    await exited;
  }
  if (database) await dropTestDatabase(database.name);
}

describe("npm run start", () => {
  let database: { name: string; url: string };
  let web: ChildProcess;
  let baseUrl: string;
  const port = () => Number(new URL(baseUrl).port);

  beforeAll(async () => {
    const started = await startWeb(
      "npm run start",
      {},
      async (p) => (await fetch(`http://127.0.0.1:${p}/healthz`).catch(() => null))?.ok === true,
    );
    ({ child: web, database } = started);
    baseUrl = `http://127.0.0.1:${started.port}`;
  });

  afterAll(() => stopWeb(web, database));

  it("serves the app, and its metrics only with the metrics token", async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${baseUrl}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("# TYPE");
    // Outside the Shopify admin, the embedded app asks for a shop to log in to.
    const login = await fetch(`${baseUrl}/auth/login`);
    expect(login.status).toBe(200);
  });

  it("rejects an unsigned request with 401 on every webhook route, storing nothing", async () => {
    const toml = readFileSync(path.join(ROOT, "shopify.app.toml"), "utf8");
    const uris = [...new Set([...toml.matchAll(/uri = "([^"]+)"/g)].map((m) => m[1]!))];
    expect(uris.length).toBeGreaterThanOrEqual(8);
    const body = JSON.stringify({ id: 1, line_items: [] });
    for (const uri of uris) {
      const headers = {
        "content-type": "application/json",
        "x-shopify-topic": "orders/create",
        "x-shopify-shop-domain": "someone.myshopify.com",
        "x-shopify-event-id": `evt-${uri}`,
        "x-shopify-webhook-id": `wh-${uri}`,
        "x-shopify-api-version": "2026-10",
      };
      const unsigned = await fetch(`${baseUrl}${uri}`, { method: "POST", headers, body });
      expect(unsigned.status, `${uri} unsigned`).toBe(401);
      const forged = await fetch(`${baseUrl}${uri}`, {
        method: "POST",
        headers: { ...headers, "x-shopify-hmac-sha256": "bm90LWEtc2lnbmF0dXJl" },
        body,
      });
      expect(forged.status, `${uri} wrongly signed`).toBe(401);
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM receipt) + (SELECT count(*) FROM rejected_delivery)
              + (SELECT count(*) FROM compliance_request) + (SELECT count(*) FROM movement) AS n`,
      );
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await client.end();
    }
  });

  it("refuses oversized bodies with 413 without buffering them (memory stays flat)", async () => {
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${webPid(web)}/status`, "utf8"))?.[1] ?? 0) /
      1024;
    const before = rss();
    // Four anonymous 100 MB requests (declared: through Express, and to the flood topics the
    // server answers itself) and one 20 MB chunked stream.
    const declared = await Promise.all(
      [
        "/webhooks/app/uninstalled",
        "/webhooks/orders",
        "/webhooks/inventory_levels/update",
        "/webhooks/app/uninstalled",
      ].map((route) => rawPost(port(), route, 100 * 1024 * 1024, true)),
    );
    expect(declared).toEqual([413, 413, 413, 413]);
    // Without a length the body is read up to the limit, then the connection is cut.
    expect([413, "reset"]).toContain(
      await rawPost(port(), "/webhooks/orders", 20 * 1024 * 1024, false),
    );
    expect(rss() - before).toBeLessThan(64);
  });

  it("serves no sandbox sign-in in production", async () => {
    for (const route of [
      "/sandbox/admin?shop=a.myshopify.com",
      "/sandbox/id-token?shop=a.myshopify.com",
    ]) {
      expect((await fetch(`${baseUrl}${route}`)).status, route).toBe(404);
    }
    const env = { ...baseEnv(database.url, 1), STOCKGUARD_SANDBOX: "1" };
    const run = spawnSync("npm", ["run", "-s", "start"], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("STOCKGUARD_SANDBOX=1 is refused in production");
  });

  it("exits at start with a message naming a missing variable", () => {
    const env = baseEnv(database.url, 1);
    delete env.SHOPIFY_API_SECRET;
    const run = spawnSync("npm", ["run", "-s", "start"], {
      cwd: ROOT,
      env,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("SHOPIFY_API_SECRET is required but not set");
    expect(run.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  });
});

describe("npm run start under kept-alive webhook traffic", () => {
  let web: ChildProcess | undefined;
  let database: { name: string; url: string } | undefined;

  afterAll(() => stopWeb(web, database));

  it("handles flood webhooks a few at a time, and a SIGTERM closes busy kept-alive connections", async () => {
    const started = await startWeb(
      "npm run start (WEB_WEBHOOK_CONCURRENCY=2)",
      { WEB_WEBHOOK_CONCURRENCY: "2" },
      async (p) => (await fetch(`http://127.0.0.1:${p}/healthz`).catch(() => null))?.ok === true,
    );
    ({ child: web, database } = started);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 60 });
    // A signed-looking delivery from a store nobody installed: looked up, then refused (401).
    const deliver = () =>
      new Promise<number>((resolve, reject) => {
        const request = http.request(
          {
            host: "127.0.0.1",
            port: started.port,
            path: "/webhooks/orders",
            method: "POST",
            agent,
            headers: {
              "content-type": "application/json",
              "x-shopify-hmac-sha256": "c2lnbmF0dXJl",
              "x-shopify-topic": "orders/create",
              "x-shopify-shop-domain": "nobody.myshopify.com",
            },
          },
          (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
          },
        );
        request.on("error", reject);
        request.end(JSON.stringify({ id: 1, line_items: [] }));
      });
    const burst = await Promise.all(Array.from({ length: 60 }, deliver));
    expect(burst).toEqual(Array.from({ length: 60 }, () => 401));
    const page = await (
      await fetch(`http://127.0.0.1:${started.port}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      })
    ).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, "m").exec(page)?.[1] ?? NaN);
    // Every one went through the bound, and with two places for sixty at once some waited.
    expect(value('stockguard_webhook_admission_wait_seconds_count\\{class="orders"\\}')).toBe(60);
    expect(
      value('stockguard_webhook_admission_wait_seconds_bucket\\{le="0.001",class="orders"\\}'),
    ).toBeLessThan(60);

    // Ten senders keep their kept-alive connections busy, as Shopify does, and try again on a new
    // connection when one fails. SIGTERM must not wait them out (the web's hard stop is 15 s):
    // once stopping, each answer closes its connection, and new connections are refused.
    let sending = true;
    const senders = Array.from({ length: 10 }, async () => {
      while (sending)
        await deliver().catch(() => new Promise((resolve) => setTimeout(resolve, 20)));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // npm leads the group and exits on the signal at once: wait for the web's own node process.
    const pid = webPid(web!);
    const stopAt = Date.now();
    signalGroup(web!, "SIGTERM");
    await waitFor(async () => !existsSync(`/proc/${pid}`), 20_000, "the web process to exit");
    const stopMs = Date.now() - stopAt;
    sending = false;
    await Promise.all(senders);
    agent.destroy();
    expect(stopMs).toBeLessThan(8_000);
  });
});

describe("npm run start with WEB_CONCURRENCY=2", () => {
  let database: { name: string; url: string };
  let web: ChildProcess;
  let port: number;

  /**
   * The cluster's web processes: node processes whose parent is the primary (the node that runs
   * web-server.ts through tsx's loader; its parent, the tsx launcher, has no loader in argv).
   */
  const webProcesses = () => {
    const rows = spawnSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" })
      .stdout.split("\n")
      .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
    const isPrimaryLike = (args: string) =>
      args.includes("web-server.ts") && args.includes("loader.mjs");
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    const descends = (pid: number): boolean => {
      for (let p = byPid.get(pid); p; p = byPid.get(p.ppid)) if (p.pid === web.pid) return true;
      return false;
    };
    return rows
      .filter((r) => isPrimaryLike(r.args) && isPrimaryLike(byPid.get(r.ppid)?.args ?? ""))
      .filter((r) => descends(r.pid))
      .map((r) => r.pid);
  };
  const healthy = async () =>
    (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok;
  /** A request on its own connection, so the kernel's round robin spreads them. */
  const unsigned = () =>
    new Promise<number>((resolve, reject) => {
      const request = http.request(
        {
          host: "127.0.0.1",
          port,
          path: "/webhooks/orders",
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", "x-shopify-topic": "orders/create" },
        },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        },
      );
      request.on("error", reject);
      request.end("{}");
    });
  const unauthorizedCount = async () => {
    const text = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      })
    ).text();
    const line = text
      .split("\n")
      .find((l) =>
        l.startsWith('stockguard_receipts_total{channel="shopify",outcome="unauthorized"}'),
      );
    return line ? Number(line.split(" ").at(-1)) : 0;
  };

  beforeAll(async () => {
    ({
      child: web,
      database,
      port,
    } = await startWeb("npm run start (cluster)", { WEB_CONCURRENCY: "2" }, async (p, child) => {
      port = p;
      web = child;
      return (await healthy()) === true && webProcesses().length === 2;
    }));
  });

  afterAll(() => stopWeb(web, database));

  it("serves from two processes, with one metrics page summing both", async () => {
    const before = await unauthorizedCount();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => unsigned()));
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 401));
    // Whichever process a scrape reaches, it reports the 20 refusals of both.
    expect((await unauthorizedCount()) - before).toBe(20);
    expect((await unauthorizedCount()) - before).toBe(20);
  });

  it("replaces a web process that dies, and keeps serving meanwhile", async () => {
    const [victim, survivor] = webProcesses();
    process.kill(victim!, "SIGKILL");
    // The survivor serves while the replacement starts (a connection already handed to the
    // dying process may fail, as behind any load balancer).
    await waitFor(
      async () => !webProcesses().includes(victim!) && (await healthy()) === true,
      5_000,
      "served by the surviving process",
    );
    await waitFor(
      async () => {
        const now = webProcesses();
        return now.length === 2 && !now.includes(victim!) && now.includes(survivor!);
      },
      30_000,
      "a new web process",
    );
    await waitFor(async () => (await healthy()) === true, 30_000, "healthy after replacement");
  });
});
