import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
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
  });
}

describe("npm run start", () => {
  let database: { name: string; url: string };
  let web: ChildProcess;
  let baseUrl: string;
  const output: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("sg_web");
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    web = spawn("npm", ["run", "-s", "start"], {
      cwd: ROOT,
      env: baseEnv(database.url, port),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    web.stdout!.on("data", (c: Buffer) => output.push(c.toString()));
    web.stderr!.on("data", (c: Buffer) => output.push(c.toString()));
    await waitFor(
      async () => {
        if (web.exitCode !== null) throw new Error(`web exited\n${output.join("")}`);
        return (await fetch(`${baseUrl}/healthz`).catch(() => null))?.ok === true;
      },
      120_000,
      "npm run start",
      () => output.join(""),
    );
  });

  afterAll(async () => {
    if (web && web.exitCode === null) {
      const exited = new Promise((resolve) => web.once("exit", resolve));
      signalGroup(web, "SIGTERM");
      await exited;
    }
    if (database) await dropTestDatabase(database.name);
  });

  it("serves the app and its metrics", async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await fetch(`${baseUrl}/metrics`);
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
