import { describe, expect, it } from "vitest";
import { ConfigError, parseBaseEnv, parseShopifyEnv } from "../../app/env.server";

describe("configuration", () => {
  it("applies the sandbox contract's defaults", () => {
    const env = parseBaseEnv({});
    expect(env.DATABASE_URL).toBe("postgresql://postgres:postgres@127.0.0.1:5432/stockguard");
    expect(env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(env.PORT).toBe(3000);
  });

  it("names every missing Shopify variable", () => {
    try {
      parseShopifyEnv({ SHOPIFY_API_KEY: "k" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain("SHOPIFY_API_SECRET is required but not set");
      expect(message).toContain("SHOPIFY_APP_URL is required but not set");
      expect(message).toContain("SCOPES is required but not set");
      expect(message).not.toContain("SHOPIFY_API_KEY");
    }
  });

  it("treats empty strings as unset and rejects malformed values by name", () => {
    expect(() =>
      parseShopifyEnv({
        SHOPIFY_API_KEY: "",
        SHOPIFY_API_SECRET: "s",
        SHOPIFY_APP_URL: "x",
        SCOPES: "a",
      }),
    ).toThrow(/SHOPIFY_API_KEY is required[\s\S]*SHOPIFY_APP_URL must be a URL/);
    expect(() => parseBaseEnv({ PORT: "eighty" })).toThrow(/PORT must be a whole number/);
    expect(() => parseBaseEnv({ DATABASE_URL: "mysql://x/y" })).toThrow(
      /DATABASE_URL must be a URL/,
    );
    expect(() => parseBaseEnv({ SHOPIFY_ADMIN_API_ORIGIN: "not a url" })).toThrow(
      /SHOPIFY_ADMIN_API_ORIGIN/,
    );
  });

  it("requires an encryption key in production only", () => {
    expect(() => parseBaseEnv({ NODE_ENV: "production" })).toThrow(
      /STOCKGUARD_ENCRYPTION_KEY is required/,
    );
    expect(parseBaseEnv({ NODE_ENV: "development" }).STOCKGUARD_ENCRYPTION_KEY).toBeUndefined();
  });

  it("splits SCOPES", () => {
    const env = parseShopifyEnv({
      SHOPIFY_API_KEY: "k",
      SHOPIFY_API_SECRET: "s",
      SHOPIFY_APP_URL: "https://a.example",
      SCOPES: "read_orders, write_inventory,,",
    });
    expect(env.SCOPES).toEqual(["read_orders", "write_inventory"]);
  });
});
