/** The standalone process (main.ts) with the example seed, driven through the control API. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AmazonSandbox } from "./sandbox";
import { loadSeed } from "./server";

const here = fileURLToPath(new URL(".", import.meta.url));
const tsxCli = join(here, "../../../node_modules/tsx/dist/cli.mjs");
const seedPath = join(here, "example-seed.json");

async function control(
  url: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/_control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("main.ts", () => {
  it("accepts the example seed", () => {
    const sb = new AmazonSandbox();
    sb.setStartupSeed(loadSeed(seedPath) ?? {});
    expect(sb.seller("A1DEMOSELLER").listings.size).toBe(3);
    expect(sb.subscriptions.size).toBe(2);
    sb.reset();
    expect(sb.seller("A1DEMOSELLER").listings.size).toBe(3);
    sb.close();
  });

  it("starts from a seed file, prints its URL, serves the control API and stops on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [
        tsxCli,
        join(here, "main.ts"),
        "--port",
        "0",
        "--seed",
        seedPath,
        "--time-scale",
        "0.001",
        "--rng-seed",
        "9",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const line = /^(http:\/\/\S+)\n/m.exec(out);
        if (line?.[1]) resolve(line[1]);
      });
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.on("exit", () => reject(new Error(`exited early: ${err}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    expect((await control(url, "health")).body).toEqual({ ok: true, sellers: ["A1DEMOSELLER"] });
    const refused = await control(url, "sellers/A1DEMOSELLER/purchase", {
      sku: "TEE-M",
      quantity: 5,
    });
    expect(refused.status).toBe(409);
    const bought = await control(url, "sellers/A1DEMOSELLER/purchase", {
      sku: "TEE-M",
      quantity: 4,
    });
    expect(bought.status).toBe(201);
    const listing = await control(url, "sellers/A1DEMOSELLER/listings/TEE-M");
    expect(listing.body.mfnQuantity).toBe(0);
    expect((await control(url, "idle", { timeoutMs: 5000 })).body).toMatchObject({
      idle: true,
      pending: 0,
    });
    const queue = await control(url, "queues/sp-api-notifications");
    expect((queue.body.messages as unknown[]).length).toBe(1);
    const events = await control(url, "queues/sp-api-eventbridge");
    expect((events.body.messages as unknown[]).length).toBe(1);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
