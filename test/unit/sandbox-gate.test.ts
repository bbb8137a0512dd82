import { afterEach, describe, expect, it } from "vitest";
import { resetEnvCache } from "../../app/env.server";
import { requireSandbox, sandboxEnabled } from "../../app/sandbox/sandbox.server";

describe("sandbox sign-in", () => {
  afterEach(() => {
    delete process.env.STOCKGUARD_SANDBOX;
    delete process.env.SHOPIFY_ADMIN_API_ORIGIN;
    resetEnvCache();
  });

  it("does not exist unless both STOCKGUARD_SANDBOX=1 and a local Admin API origin are set", () => {
    expect(sandboxEnabled()).toBe(false);
    process.env.STOCKGUARD_SANDBOX = "1";
    resetEnvCache();
    expect(sandboxEnabled()).toBe(false);
    try {
      requireSandbox();
      expect.unreachable();
    } catch (thrown) {
      expect((thrown as Response).status).toBe(404);
    }
    process.env.SHOPIFY_ADMIN_API_ORIGIN = "http://127.0.0.1:9100";
    resetEnvCache();
    expect(sandboxEnabled()).toBe(true);
  });
});
