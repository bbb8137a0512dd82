/**
 * Token exchange and refresh, driven by the real @shopify/shopify-api (the library
 * shopify-app-remix's embedded strategy calls), through the app's own SHOPIFY_ADMIN_API_ORIGIN
 * rewrite (`https://{shop}/admin/oauth/access_token` → `{origin}/{shop}/admin/oauth/access_token`).
 */
import "@shopify/shopify-api/adapters/node";
import {
  ApiVersion,
  HttpResponseError,
  LogSeverity,
  RequestedTokenType,
  shopifyApi,
} from "@shopify/shopify-api";
import { setAbstractFetchFunc } from "@shopify/shopify-api/runtime";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { rewritingFetch } from "../../../app/channels/shopify/admin-url.server";
import { mintSessionToken, signJwt } from "./apps";
import { SHOP, seedShop } from "./fixtures";
import { ID_TOKEN_TYPE, OFFLINE_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "./oauth";
import { startLocalShopify } from "./server";

const CLIENT_ID = "stockguard-client-id";
const CLIENT_SECRET = "stockguard-client-secret";
const APP = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

const local = await startLocalShopify({ rngSeed: 11 });
afterAll(() => local.close());
const sb = local.sandbox;

/** Every request the library sends, as it left (before the rewrite). */
const sent: { url: string; init: RequestInit | undefined }[] = [];
const rewrite = rewritingFetch(local.url);
setAbstractFetchFunc((input, init) => {
  sent.push({ url: input instanceof Request ? input.url : String(input), init });
  return rewrite(input, init);
});

const api = shopifyApi({
  apiKey: CLIENT_ID,
  apiSecretKey: CLIENT_SECRET,
  apiVersion: ApiVersion.October26,
  hostName: "stockguard.example.com",
  isEmbeddedApp: true,
  logger: { level: LogSeverity.Error },
});

beforeEach(() => {
  sb.reset();
  sb.configureApp({ ...APP, scopes: ["read_inventory", "write_inventory", "read_orders"] });
  sb.createShop(seedShop({ appInstalled: true }));
  sent.length = 0;
});

function sessionToken(shop = SHOP): string {
  return sb.sessionToken(shop).sessionToken;
}

async function shopName(accessToken: string): Promise<number> {
  return (await local.graphql(SHOP, "{ shop { name } }", {}, { token: accessToken })).status;
}

/** POSTs to the token endpoint as the library does (JSON), with `overrides`. */
async function post(overrides: Record<string, string>, shop = SHOP) {
  const response = await fetch(`${local.url}/${shop}/admin/oauth/access_token`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token_type: ID_TOKEN_TYPE,
      requested_token_type: OFFLINE_TOKEN_TYPE,
      expiring: "1",
      ...overrides,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("token exchange with @shopify/shopify-api", () => {
  it("sends exactly this request, and gets an expiring offline token that works", async () => {
    const subject = sessionToken();
    const { session } = await api.auth.tokenExchange({
      shop: SHOP,
      sessionToken: subject,
      requestedTokenType: RequestedTokenType.OfflineAccessToken,
      expiring: true,
    });

    expect(sent).toHaveLength(1);
    const [request] = sent;
    expect(request?.url).toBe(`https://${SHOP}/admin/oauth/access_token`);
    expect(request?.init?.method).toBe("POST");
    expect(request?.init?.headers).toMatchObject({
      "Content-Type": "application/json",
      Accept: "application/json",
    });
    expect(JSON.parse(String(request?.init?.body))).toEqual({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: subject,
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      requested_token_type: "urn:shopify:params:oauth:token-type:offline-access-token",
      expiring: "1",
    });

    expect(session).toMatchObject({
      id: `offline_${SHOP}`,
      shop: SHOP,
      isOnline: false,
      scope: "read_inventory,write_inventory,read_orders",
      accessToken: expect.stringMatching(/^shpat_/),
      refreshToken: expect.stringMatching(/^shprt_/),
    });
    const hour = Date.now() + 3600_000;
    expect(Math.abs((session.expires?.getTime() ?? 0) - hour)).toBeLessThan(5_000);
    expect(
      Math.abs((session.refreshTokenExpires?.getTime() ?? 0) - (Date.now() + 30 * 86_400_000)),
    ).toBeLessThan(5_000);

    // The library's own Admin API client, through the same rewrite.
    const client = new api.clients.Graphql({ session });
    const answer = await client.request<{ shop: { myshopifyDomain: string } }>(
      "{ shop { myshopifyDomain } }",
    );
    expect(answer.data?.shop.myshopifyDomain).toBe(SHOP);
    expect(sb.shop(SHOP).requestLog.at(-1)).toMatchObject({ app: "app", status: 200 });
  });

  it("refreshes; the old refresh token lives until the new pair is used (rotation)", async () => {
    const { session } = await api.auth.tokenExchange({
      shop: SHOP,
      sessionToken: sessionToken(),
      requestedTokenType: RequestedTokenType.OfflineAccessToken,
      expiring: true,
    });
    const first = session.refreshToken ?? "";
    sb.expireAppTokens(SHOP);
    expect(await shopName(session.accessToken ?? "")).toBe(401);

    const { session: renewed } = await api.auth.refreshToken({ shop: SHOP, refreshToken: first });
    expect(JSON.parse(String(sent.at(-1)?.init?.body))).toEqual({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: first,
      grant_type: "refresh_token",
    });
    expect(renewed.refreshToken).not.toBe(first);
    expect(renewed.accessToken).not.toBe(session.accessToken);

    // The response was "lost": the first refresh token still works…
    const { session: again } = await api.auth.refreshToken({ shop: SHOP, refreshToken: first });
    // …until the app uses a replacement; then it is gone.
    expect(await shopName(again.accessToken ?? "")).toBe(200);
    const refused = await api.auth
      .refreshToken({ shop: SHOP, refreshToken: first })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HttpResponseError);
    expect((refused as HttpResponseError).response).toMatchObject({
      code: 400,
      body: { error: "invalid_grant" },
    });
    expect(await shopName(renewed.accessToken ?? "")).toBe(200);
  });

  it("returns the same non-expiring offline token per install, and online tokens per user", async () => {
    const exchange = async (requestedTokenType: RequestedTokenType, token = sessionToken()) =>
      (await api.auth.tokenExchange({ shop: SHOP, sessionToken: token, requestedTokenType }))
        .session;
    const a = await exchange(RequestedTokenType.OfflineAccessToken);
    const b = await exchange(RequestedTokenType.OfflineAccessToken);
    expect(a.accessToken).toBe(b.accessToken);
    expect(a.expires).toBeUndefined();
    expect(a.refreshToken).toBeUndefined();
    expect(JSON.parse(String(sent[0]?.init?.body))).toMatchObject({ expiring: "0" });

    const user = sb.sessionToken(SHOP, { userId: 77 }).sessionToken;
    const online = await exchange(RequestedTokenType.OnlineAccessToken, user);
    expect(online).toMatchObject({
      id: `${SHOP}_77`,
      isOnline: true,
      accessToken: expect.stringMatching(/^shpua_/),
      onlineAccessInfo: {
        expires_in: 86_399,
        associated_user_scope: "read_inventory,write_inventory,read_orders",
        associated_user: { id: 77, account_owner: false },
      },
    });
    expect(await shopName(online.accessToken ?? "")).toBe(200);
  });

  it("migrates a non-expiring offline token to an expiring one (migrateToExpiringToken)", async () => {
    const { session } = await api.auth.tokenExchange({
      shop: SHOP,
      sessionToken: sessionToken(),
      requestedTokenType: RequestedTokenType.OfflineAccessToken,
    });
    const { session: migrated } = await api.auth.migrateToExpiringToken({
      shop: SHOP,
      nonExpiringOfflineAccessToken: session.accessToken ?? "",
    });
    expect(migrated.refreshToken).toMatch(/^shprt_/);
    expect(await shopName(session.accessToken ?? "")).toBe(401);
    expect(await shopName(migrated.accessToken ?? "")).toBe(200);
  });

  it("answers a bad session token with 400 invalid_subject_token, as the remix strategy expects", async () => {
    // Another shop's token passes the library's own check (signature, aud, exp): Shopify refuses.
    const foreign = mintSessionToken(APP, "elsewhere.myshopify.com").token;
    const refused = await api.auth
      .tokenExchange({
        shop: SHOP,
        sessionToken: foreign,
        requestedTokenType: RequestedTokenType.OfflineAccessToken,
        expiring: true,
      })
      .catch((error: unknown) => error);
    // shopify-app-remix's TokenExchangeStrategy: HttpResponseError, code 400, body.error.
    expect(refused).toBeInstanceOf(HttpResponseError);
    expect((refused as HttpResponseError).response).toMatchObject({
      code: 400,
      body: {
        error: "invalid_subject_token",
        error_description: "Token exchange cannot be performed due to an invalid subject token.",
      },
    });
  });
});

describe("the token endpoint", () => {
  it("checks the session token: signature, aud, dest, iss, exp and nbf (10 s tolerance)", async () => {
    const now = Date.now();
    const valid = mintSessionToken(APP, SHOP).claims;
    const cases: [string, string, number][] = [
      ["valid", signJwt(valid, CLIENT_SECRET), 200],
      ["other secret", signJwt(valid, "not-the-secret"), 400],
      ["other client id", signJwt({ ...valid, aud: "someone-else" }, CLIENT_SECRET), 400],
      ["other shop", signJwt({ ...valid, dest: "https://b.myshopify.com" }, CLIENT_SECRET), 400],
      [
        "other issuer",
        signJwt({ ...valid, iss: "https://b.myshopify.com/admin" }, CLIENT_SECRET),
        400,
      ],
      ["expired 5 s ago", mintSessionToken(APP, SHOP, { now: now - 65_000 }).token, 200],
      ["expired 15 s ago", mintSessionToken(APP, SHOP, { now: now - 75_000 }).token, 400],
      [
        "not before in 15 s",
        signJwt({ ...valid, nbf: Math.floor(now / 1000) + 15 }, CLIENT_SECRET),
        400,
      ],
      ["not a JWT", "garbage", 400],
      [
        "alg none",
        `${Buffer.from('{"alg":"none"}').toString("base64url")}.${
          signJwt(valid, CLIENT_SECRET).split(".")[1] ?? ""
        }.`,
        400,
      ],
    ];
    for (const [what, token, status] of cases) {
      const { status: got, body } = await post({ subject_token: token });
      expect([what, got]).toEqual([what, status]);
      if (status === 400) expect([what, body.error]).toEqual([what, "invalid_subject_token"]);
    }
  });

  it("refuses a store that has not installed the app, unless the app installs on exchange", async () => {
    sb.createShop(seedShop({ domain: "fresh.myshopify.com", accessToken: "shpat_fresh" }));
    const token = mintSessionToken(APP, "fresh.myshopify.com").token;
    const refused = await post({ subject_token: token }, "fresh.myshopify.com");
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: "invalid_subject_token",
        sandbox_detail: expect.stringMatching(/not installed/),
      },
    });
    sb.configureApp({ ...APP, installOnTokenExchange: true });
    const accepted = await post({ subject_token: token }, "fresh.myshopify.com");
    expect(accepted.status).toBe(200);
    expect(sb.appInstallation("fresh.myshopify.com").installed).toBe(true);
  });

  it("checks the client and the grant; takes forms too", async () => {
    const token = sessionToken();
    expect(await post({ subject_token: token, client_secret: "wrong" })).toMatchObject({
      status: 401,
      body: { error: "invalid_client" },
    });
    expect(await post({ subject_token: token, client_id: "wrong" })).toMatchObject({
      status: 401,
      body: { error: "invalid_client" },
    });
    expect(await post({ subject_token: "" })).toMatchObject({
      status: 400,
      body: { error: "missing_subject_token" },
    });
    expect(await post({ subject_token: token, grant_type: "password" })).toMatchObject({
      status: 400,
      body: { error: "unsupported_grant_type" },
    });
    expect(await post({ subject_token: token, requested_token_type: "x" })).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
    expect(await post({ grant_type: "refresh_token", refresh_token: "shprt_nope" })).toMatchObject({
      status: 400,
      body: { error: "invalid_grant" },
    });
    const unknownShop = await fetch(`${local.url}/nowhere.myshopify.com/admin/oauth/access_token`, {
      method: "POST",
    });
    expect(unknownShop.status).toBe(404);

    const form = await fetch(`${local.url}/${SHOP}/admin/oauth/access_token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: token,
        subject_token_type: ID_TOKEN_TYPE,
      }).toString(),
    });
    expect(form.status).toBe(200);
    const body = (await form.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "scope"]);
    expect(sb.shop(SHOP).tokenRequestLog.map((e) => [e.status, e.error])).toEqual([
      [401, "invalid_client"],
      [401, "invalid_client"],
      [400, "missing_subject_token"],
      [400, "unsupported_grant_type"],
      [400, "invalid_request"],
      [400, "invalid_grant"],
      [200, null],
    ]);
  });

  it("revokes everything at uninstall: tokens answer 401, refresh tokens invalid_grant", async () => {
    const { body } = await post({ subject_token: sessionToken() });
    const access = String(body.access_token);
    expect(await shopName(access)).toBe(200);
    sb.uninstallApp(SHOP);
    expect(await shopName(access)).toBe(401);
    expect(
      await post({ grant_type: "refresh_token", refresh_token: String(body.refresh_token) }),
    ).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    // Reinstalling does not bring them back: a new exchange is needed.
    sb.installApp(SHOP);
    expect(await shopName(access)).toBe(401);
  });
});
