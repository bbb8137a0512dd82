/** The standalone process (main.ts) and the example seed. */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CLIENT_ID, CLIENT_SECRET, seedSeller } from "./fixtures";
import { Sandbox } from "./sandbox";
import { loadSeed } from "./server";

const here = fileURLToPath(new URL(".", import.meta.url));
const tsxCli = join(here, "../../../node_modules/tsx/dist/cli.mjs");

describe("main.ts", () => {
  it("accepts the example seed", () => {
    const sb = new Sandbox({ seed: loadSeed(join(here, "example-seed.json")) });
    expect(sb.seller("10001234567").items.size).toBe(4);
    expect(sb.item("10001234567", "TEE-S").availToSellQty).toBe(10);
    sb.close();
  });

  it("starts from a seed file, prints its URL, serves /v3 and stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-walmart-"));
    const seedPath = join(dir, "seed.json");
    writeFileSync(seedPath, JSON.stringify({ sellers: [seedSeller()] }));
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
        "4",
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
    const wm = { "WM_QOS.CORRELATION_ID": "main-test", "WM_SVC.NAME": "Walmart Marketplace" };
    const tokenRes = await fetch(`${url}/v3/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
        ...wm,
      },
      body: "grant_type=client_credentials",
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const inventory = await fetch(`${url}/v3/inventory?sku=MUG-BLUE`, {
      headers: { "WM_SEC.ACCESS_TOKEN": access_token, ...wm },
    });
    expect(await inventory.json()).toEqual({
      sku: "MUG-BLUE",
      quantity: { unit: "EACH", amount: 10 },
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
