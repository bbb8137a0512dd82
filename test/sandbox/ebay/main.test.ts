/** The standalone process (main.ts) and the example seed. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EbaySandbox } from "./sandbox";
import { loadSeed } from "./server";

const here = fileURLToPath(new URL(".", import.meta.url));
const tsxCli = join(here, "../../../node_modules/tsx/dist/cli.mjs");

describe("main.ts", () => {
  it("accepts the example seed", () => {
    const sb = new EbaySandbox({ seed: loadSeed(join(here, "example-seed.json")) });
    expect(sb.listings("mugs_and_more").map((l) => [l.sku, l.quantity])).toEqual([
      ["MUG-BLUE", 10],
      ["MUG-RED", 3],
      ["OLD-VASE", 5],
    ]);
    expect(sb.consent).toEqual({ autoApprove: true, seller: "mugs_and_more" });
    sb.close();
  });

  it("starts from a seed file, prints its URL and stops on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [
        tsxCli,
        join(here, "main.ts"),
        "--port",
        "0",
        "--seed",
        join(here, "example-seed.json"),
        "--time-scale",
        "0.001",
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
    const health = await fetch(`${url}/_control/health`);
    expect(await health.json()).toEqual({ ok: true, sellers: ["mugs_and_more"] });
    const token = await fetch(`${url}/identity/v1/oauth2/token`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from("StockGua-StockGua-SBX-a1b2c3d4e-5f6a7b8c:SBX-1b2c3d4e5f6a-7b8c-9d0e-1f2a-3b4c").toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope",
    });
    expect(token.status).toBe(200);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
