import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { SECRET, SHOP, TOKEN, seedShop, startReceiver, type Receiver } from "./fixtures";
import { ID_TOKEN_TYPE, OFFLINE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "./oauth";
import { startLocalShopify } from "./server";

const CLIENT_ID = "stockguard-client-id";
const CLIENT_SECRET = "stockguard-client-secret";
const OTHER = "other-store.myshopify.com";
const TOML = readFileSync(new URL("../../../shopify.app.toml", import.meta.url), "utf8");

const local = await startLocalShopify({ rngSeed: 7 });
afterAll(() => local.close());
const sb = local.sandbox;

let receiver: Receiver;

beforeEach(async () => {
  sb.reset();
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

function signedBy(secret: string, body: string, header: unknown): boolean {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64") === header;
}

/** The app with the repository's own shopify.app.toml, pointed at the receiver. */
function configureApp(extra: Record<string, unknown> = {}) {
  return sb.configureApp({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    toml: TOML,
    baseUrl: receiver.url,
    ...extra,
  });
}

async function control(method: string, path: string, body?: unknown) {
  const response = await fetch(`${local.url}/_control/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The app's offline token, by token exchange (the request @shopify/shopify-api sends). */
async function exchange(shop: string): Promise<string> {
  const { sessionToken } = sb.sessionToken(shop);
  const response = await fetch(`${local.url}/${shop}/admin/oauth/access_token`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: sessionToken,
      subject_token_type: ID_TOKEN_TYPE,
      requested_token_type: OFFLINE_TOKEN_TYPE,
      expiring: "1",
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const CREATE = `mutation Create($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: { uri: $uri }) {
    webhookSubscription { id }
    userErrors { field message }
  }
}`;

describe("app installation", () => {
  it("delivers the toml webhooks only to stores that installed the app, signed with its secret", async () => {
    configureApp();
    sb.createShop(seedShop({ appInstalled: true }));
    sb.createShop(seedShop({ domain: OTHER, accessToken: "shpat_other" }));
    expect(sb.appInstallation(SHOP)).toMatchObject({ installed: true });
    expect(sb.appInstallation(OTHER)).toMatchObject({ installed: false, scopes: [] });

    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    sb.checkout(OTHER, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(new Set(receiver.requests.map((r) => r.headers["x-shopify-shop-domain"]))).toEqual(
      new Set([SHOP]),
    );
    const paths = receiver.requests.map((r) => `${String(r.headers["x-shopify-topic"])} ${r.path}`);
    expect(paths.sort()).toEqual([
      "inventory_levels/update /webhooks/inventory_levels/update",
      "orders/create /webhooks/orders",
      "orders/updated /webhooks/orders",
    ]);
    for (const request of receiver.requests) {
      expect(signedBy(CLIENT_SECRET, request.body, request.headers["x-shopify-hmac-sha256"])).toBe(
        true,
      );
    }

    // The merchant of the other store installs the app: its events flow from then on.
    sb.installApp(OTHER);
    receiver.requests.length = 0;
    sb.adjustInventory(OTHER, { sku: "SHIRT-M", delta: 2 });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.headers["x-shopify-shop-domain"])).toEqual([OTHER]);
  });

  it("uninstall revokes the app's tokens and subscriptions, then sends app/uninstalled", async () => {
    configureApp();
    sb.createShop(seedShop({ appInstalled: true, apiSecret: "custom-secret" }));
    const token = await exchange(SHOP);
    const mine = await local.graphql(
      SHOP,
      CREATE,
      { topic: "PRODUCTS_DELETE", uri: `${receiver.url}/api/products` },
      { token },
    );
    expect(mine.body.errors).toBeUndefined();
    const custom = await local.graphql(SHOP, CREATE, {
      topic: "ORDERS_CREATE",
      uri: `${receiver.url}/custom/orders`,
    });
    expect(custom.body.errors).toBeUndefined();
    expect(sb.webhookSubscriptions(SHOP)).toHaveLength(2);

    expect(sb.uninstallApp(SHOP)).toMatchObject({ revokedTokens: 2, deletedSubscriptions: 1 });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    const [uninstalled, ...rest] = receiver.requests;
    expect(rest).toEqual([]);
    expect(uninstalled?.path).toBe("/webhooks/app/uninstalled");
    expect(uninstalled?.headers["x-shopify-topic"]).toBe("app/uninstalled");
    expect(
      signedBy(
        CLIENT_SECRET,
        uninstalled?.body ?? "",
        uninstalled?.headers["x-shopify-hmac-sha256"],
      ),
    ).toBe(true);
    expect(JSON.parse(uninstalled?.body ?? "{}")).toMatchObject({
      myshopify_domain: SHOP,
      domain: SHOP,
      id: expect.any(Number),
    });

    // The token is dead; the custom app (the merchant's token) and its subscription live on.
    expect((await local.graphql(SHOP, "{ shop { name } }", {}, { token })).status).toBe(401);
    expect((await local.graphql(SHOP, "{ shop { name } }")).status).toBe(200);
    expect(sb.webhookSubscriptions(SHOP).map((s) => s.topic)).toEqual(["orders/create"]);
    receiver.requests.length = 0;
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual(["/custom/orders"]);
    expect(
      signedBy(
        "custom-secret",
        receiver.requests[0]?.body ?? "",
        receiver.requests[0]?.headers["x-shopify-hmac-sha256"],
      ),
    ).toBe(true);
  });

  it("signs the app's own Admin API subscriptions with its secret; uninstall notifies them too", async () => {
    configureApp({ toml: undefined });
    sb.createShop(seedShop({ appInstalled: true }));
    const token = await exchange(SHOP);
    for (const [topic, path] of [
      ["ORDERS_CREATE", "/api/orders"],
      ["APP_UNINSTALLED", "/api/uninstalled"],
    ] as const) {
      const { body } = await local.graphql(
        SHOP,
        CREATE,
        { topic, uri: `${receiver.url}${path}` },
        { token },
      );
      expect(body.errors).toBeUndefined();
    }
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    sb.uninstallApp(SHOP);
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path).sort()).toEqual([
      "/api/orders",
      "/api/uninstalled",
    ]);
    for (const request of receiver.requests) {
      expect(signedBy(CLIENT_SECRET, request.body, request.headers["x-shopify-hmac-sha256"])).toBe(
        true,
      );
    }
    expect(sb.webhookSubscriptions(SHOP)).toEqual([]);
  });

  it("sends app/uninstalled nowhere when the app declares no such subscription", async () => {
    configureApp({
      toml: undefined,
      subscriptions: [{ topics: ["orders/create"], address: `${receiver.url}/o` }],
    });
    sb.createShop(seedShop({ appInstalled: true }));
    sb.uninstallApp(SHOP);
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(sb.shop(SHOP).events.map((e) => e.topic)).toEqual(["app/uninstalled"]);
    expect(receiver.requests).toEqual([]);
    expect(sb.deliveries(SHOP)).toEqual([]);
  });

  it("updates the granted scopes on a second install and sends app/scopes_update", async () => {
    configureApp();
    sb.createShop(seedShop({ appInstalled: { scopes: ["read_inventory", "read_orders"] } }));
    expect(sb.appInstallation(SHOP).scopes).toEqual(["read_inventory", "read_orders"]);
    const token = await exchange(SHOP);
    const scopesOf = async () => {
      const { body } = await local.graphql<{
        currentAppInstallation: { accessScopes: { handle: string }[] };
      }>(SHOP, "{ currentAppInstallation { accessScopes { handle } } }", {}, { token });
      return body.data?.currentAppInstallation.accessScopes.map((s) => s.handle);
    };
    expect(await scopesOf()).toEqual(["read_inventory", "read_orders"]);

    sb.installApp(SHOP, { scopes: ["read_inventory", "write_inventory", "read_orders"] });
    expect(await scopesOf()).toEqual(["read_inventory", "write_inventory", "read_orders"]);
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual(["/webhooks/app/scopes_update"]);
    expect(JSON.parse(receiver.requests[0]?.body ?? "{}")).toMatchObject({
      previous: ["read_inventory", "read_orders"],
      current: ["read_inventory", "write_inventory", "read_orders"],
    });
    // The same scopes again: nothing happens.
    sb.installApp(SHOP, { scopes: ["read_orders", "write_inventory", "read_inventory"] });
    expect(sb.shop(SHOP).events.filter((e) => e.topic === "app/scopes_update")).toHaveLength(1);
  });

  it("refuses what Shopify would not do", () => {
    sb.createShop(seedShop());
    expect(() => sb.installApp(SHOP)).toThrow(/no app is configured/);
    expect(() => sb.createShop(seedShop({ domain: OTHER, appInstalled: true }))).toThrow(
      /appInstalled needs an app/,
    );
    configureApp();
    expect(() => sb.uninstallApp(SHOP)).toThrow(/not installed/);
    expect(() => sb.sessionToken(SHOP)).toThrow(/not installed/);
    expect(() => sb.installApp(SHOP, { scopes: ["read_customers"] })).toThrow(
      /does not ask for read_customers/,
    );
    expect(() => sb.configureApp({ clientId: "x", clientSecret: "" })).toThrow(/clientSecret/);
  });

  it("keeps the control API's subscriptions working: app-wide ones reach every shop", async () => {
    configureApp({ toml: undefined });
    sb.createShop(seedShop());
    sb.setAppSubscriptions({
      secret: SECRET,
      subscriptions: [{ topics: ["orders/create"], address: `${receiver.url}/legacy` }],
    });
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual(["/legacy"]);
  });
});

describe("control API", () => {
  it("configures the app, installs, mints session tokens and uninstalls over HTTP", async () => {
    sb.createShop(seedShop());
    const toml = `[[webhooks.subscriptions]]\ntopics = ["app/uninstalled"]\nuri = "/uninstalled"\n`;
    const configured = await control("POST", "app", {
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: ["read_inventory", "write_inventory"],
      toml,
      baseUrl: receiver.url,
    });
    expect(configured.status).toBe(200);
    expect(configured.body.app).toMatchObject({
      clientId: CLIENT_ID,
      scopes: ["read_inventory", "write_inventory"],
      subscriptions: [{ topics: ["app/uninstalled"], address: `${receiver.url}/uninstalled` }],
      installedOn: [],
    });
    expect(JSON.stringify(configured.body)).not.toContain(CLIENT_SECRET);

    expect((await control("POST", `shops/${SHOP}/app/session-token`, {})).status).toBe(422);
    const installed = await control("POST", `shops/${SHOP}/app/install`, {});
    expect(installed.body).toMatchObject({
      installed: true,
      scopes: ["read_inventory", "write_inventory"],
      installationId: expect.stringMatching(/^gid:\/\/shopify\/AppInstallation\/\d+$/),
    });
    expect((await control("GET", `shops/${SHOP}`)).body.appInstalled).toBe(true);
    expect((await control("GET", "app")).body.app).toMatchObject({ installedOn: [SHOP] });

    const minted = await control("POST", `shops/${SHOP}/app/session-token`, { userId: 42 });
    expect(minted.status).toBe(201);
    const sessionToken = String(minted.body.sessionToken);
    const claims = JSON.parse(
      Buffer.from(sessionToken.split(".")[1] ?? "", "base64url").toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: `https://${SHOP}/admin`,
      dest: `https://${SHOP}`,
      aud: CLIENT_ID,
      sub: "42",
    });
    await exchange(SHOP);
    const state = await control("GET", `shops/${SHOP}/app`);
    expect(state.body).toMatchObject({
      tokens: { offline: 1, expiringOffline: 1, online: 0, refresh: 1 },
      tokenRequests: [{ grantType: TOKEN_EXCHANGE_GRANT, status: 200, expiring: true }],
    });
    expect(JSON.stringify(state.body)).not.toMatch(/shpat_|shprt_/);

    const uninstalled = await control("POST", `shops/${SHOP}/app/uninstall`);
    expect(uninstalled.body).toMatchObject({ revokedTokens: 2, deletedSubscriptions: 0 });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual(["/uninstalled"]);
    expect((await control("POST", `shops/${SHOP}/app/uninstall`)).status).toBe(422);
  });

  it("seeds the app and install states; reset restores the startup seed", async () => {
    const seeded = await startLocalShopify({
      seed: {
        app: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
        shops: [{ domain: "a.myshopify.com", appInstalled: true }, { domain: "b.myshopify.com" }],
      },
    });
    try {
      const installed = () =>
        [...seeded.sandbox.shops.values()].map((s) => [s.domain, s.installation !== null]);
      expect(installed()).toEqual([
        ["a.myshopify.com", true],
        ["b.myshopify.com", false],
      ]);
      seeded.sandbox.installApp("b.myshopify.com");
      seeded.sandbox.reset();
      expect(installed()).toEqual([
        ["a.myshopify.com", true],
        ["b.myshopify.com", false],
      ]);
      seeded.sandbox.reset(false);
      expect(seeded.sandbox.app).toBeNull();
    } finally {
      await seeded.close();
    }
  });

  it("the merchant's token is a custom app: its default secret, and more custom apps per store", () => {
    sb.createShop(
      seedShop({
        customApps: [{ accessToken: "shpat_second", apiSecret: "second-secret", accessScopes: [] }],
      }),
    );
    const shop = sb.shop(SHOP);
    expect(sb.authenticate(shop, TOKEN)?.owner).toMatchObject({
      kind: "custom",
      secret: "shpss_local_sandbox_secret",
    });
    expect(sb.authenticate(shop, "shpat_second")).toMatchObject({
      owner: { kind: "custom", secret: "second-secret" },
      scopes: [],
    });
    expect(sb.authenticate(shop, "shpat_unknown")).toBeNull();
    expect(() =>
      sb.createShop(
        seedShop({
          domain: OTHER,
          customApps: [{ accessToken: TOKEN, apiSecret: "x" }],
        }),
      ),
    ).toThrow(/must differ/);
  });
});
