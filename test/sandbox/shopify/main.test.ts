import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SHOP, TOKEN, seedShop } from "./fixtures";
import { Sandbox } from "./sandbox";
import { loadSeed } from "./server";

const here = fileURLToPath(new URL(".", import.meta.url));
const tsxCli = join(here, "../../../node_modules/tsx/dist/cli.mjs");

describe("main.ts", () => {
  it("accepts the example seed", () => {
    const sb = new Sandbox({ seed: loadSeed(join(here, "example-seed.json")) });
    expect(sb.shop("demo-store.myshopify.com").variants.size).toBe(4);
    sb.close();
  });

  it("starts from a seed file, prints its URL and stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-shopify-"));
    const seedPath = join(dir, "seed.json");
    writeFileSync(seedPath, JSON.stringify({ shops: [seedShop()] }));
    const child = spawn(
      process.execPath,
      [tsxCli, join(here, "main.ts"), "--port", "0", "--seed", seedPath, "--time-scale", "0.001"],
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
    const response = await fetch(`${url}/${SHOP}/admin/api/2026-10/graphql.json`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": TOKEN },
      body: JSON.stringify({ query: "{ shop { myshopifyDomain } }" }),
    });
    expect(((await response.json()) as { data: unknown }).data).toEqual({
      shop: { myshopifyDomain: SHOP },
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
