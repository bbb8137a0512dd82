import { afterEach, describe, expect, it } from "vitest";
import { parseBaseEnv, resetEnvCache } from "../../app/env.server";
import { requireSandbox, sandboxEnabled } from "../../app/sandbox/sandbox.server";

describe("sandbox sign-in", () => {
  afterEach(() => {
    delete process.env.STOCKGUARD_SANDBOX;
    delete process.env.SHOPIFY_ADMIN_API_ORIGIN;
    process.env.NODE_ENV = "test";
    resetEnvCache();
  });

  const set = (vars: Record<string, string>) => {
    Object.assign(process.env, vars);
    resetEnvCache();
  };

  it("does not exist unless both STOCKGUARD_SANDBOX=1 and a local Admin API origin are set", () => {
    expect(sandboxEnabled()).toBe(false);
    set({ STOCKGUARD_SANDBOX: "1" });
    expect(sandboxEnabled()).toBe(false);
    try {
      requireSandbox();
      expect.unreachable();
    } catch (thrown) {
      expect((thrown as Response).status).toBe(404);
    }
    set({ SHOPIFY_ADMIN_API_ORIGIN: "http://127.0.0.1:9100" });
    expect(sandboxEnabled()).toBe(true);
  });

  it("answers 404 when the Admin API origin is not on this machine", () => {
    set({ STOCKGUARD_SANDBOX: "1", SHOPIFY_ADMIN_API_ORIGIN: "https://shopify-proxy.example.com" });
    expect(sandboxEnabled()).toBe(false);
    set({ SHOPIFY_ADMIN_API_ORIGIN: "http://localhost:9100" });
    expect(sandboxEnabled()).toBe(true);
  });

  it("refuses to start in production", () => {
    expect(() =>
      parseBaseEnv({
        NODE_ENV: "production",
        STOCKGUARD_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
        STOCKGUARD_SANDBOX: "1",
        SHOPIFY_ADMIN_API_ORIGIN: "http://127.0.0.1:9100",
      }),
    ).toThrow(/STOCKGUARD_SANDBOX=1 is refused in production/);
  });
});
