import { mkdtempSync, readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { readToken } from "../../app/cli/main";
import { developmentKey } from "../../app/lib/credentials.server";
import { metricsAccess } from "../../app/lib/metrics-auth.server";
import { startMetricsServer } from "../../workers/metrics-server";

/** Issue 9: keys, tokens and metrics access (no key in the source, no token in `ps`). */
describe("secrets", () => {
  it("generates a development key per machine, kept private, never a constant of the source", () => {
    const a = path.join(mkdtempSync(path.join(tmpdir(), "sg-key-")), "development.key");
    const b = path.join(mkdtempSync(path.join(tmpdir(), "sg-key-")), "development.key");
    const first = developmentKey(a);
    expect(developmentKey(a).equals(first)).toBe(true);
    expect(developmentKey(b).equals(first)).toBe(false);
    expect(statSync(a).mode & 0o777).toBe(0o600);
    expect(first).toHaveLength(32);
    for (const file of ["app/lib/crypto.server.ts", "app/lib/credentials.server.ts"]) {
      expect(readFileSync(file, "utf8")).not.toMatch(/createHash\(["']sha256["']\)\.update\(["']/);
    }
  });

  it("reads CLI tokens from stdin or STOCKGUARD_TOKEN, and warns about --token", async () => {
    expect(await readToken({ tokenStdin: true }, Readable.from(["shpat_from_stdin\n"]))).toBe(
      "shpat_from_stdin",
    );
    vi.stubEnv("STOCKGUARD_TOKEN", "shpat_from_env");
    expect(await readToken({})).toBe("shpat_from_env");
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await readToken({ token: "shpat_arg" })).toBe("shpat_arg");
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/exposes the token in ps/);
    stderr.mockRestore();
    vi.unstubAllEnvs();
  });

  it("serves /metrics only to a scraper with the token", () => {
    expect(metricsAccess(null, undefined)).toBe("disabled");
    expect(metricsAccess("Bearer wrong-token-of-length", "right-token-of-16+")).toBe("missing");
    expect(metricsAccess("Bearer right-token-of-16+", "right-token-of-16+")).toBe("allowed");
  });

  it("keeps the worker's metrics port on loopback by default", async () => {
    // A random port may be taken (the e2e worlds and outgoing connections use this range): a
    // port in use emits 'error', never 'listening', so another one is tried.
    for (let attempt = 0; ; attempt++) {
      const server = startMetricsServer(40_001 + Math.floor(Math.random() * 10_000))!;
      const listening = await new Promise<boolean>((resolve) => {
        server.once("listening", () => resolve(true));
        server.once("error", () => resolve(false));
      });
      if (!listening && attempt < 10) continue;
      expect(listening).toBe(true);
      expect((server.address() as AddressInfo).address).toBe("127.0.0.1");
      await new Promise((resolve) => server.close(resolve));
      return;
    }
  });
});
