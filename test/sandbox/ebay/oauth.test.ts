/** OAuth over HTTP: consent page and redirect, code exchange, refresh, client credentials, 401s. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  ACCEPT_URL,
  ALL_SCOPES,
  CLIENT_ID,
  RU_NAME,
  SCOPE,
  SELLER,
  SELLER_ID,
  appToken,
  basic,
  call,
  codeFlow,
  seed,
  tokenCall,
  type UserTokens,
} from "./fixtures";
import { startLocalEbay } from "./server";

const local = await startLocalEbay({ seed: seed(), rngSeed: 11 });
afterAll(() => local.close());
const sb = local.sandbox;
const ITEMS = "/sell/inventory/v1/inventory_item";

beforeEach(() => sb.reset());

function authorizeUrl(params: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: RU_NAME,
    response_type: "code",
    scope: ALL_SCOPES.join(" "),
    state: "xyz-42",
    ...params,
  });
  return `${local.url}/oauth2/authorize?${query.toString()}`;
}

describe("authorization code grant", () => {
  it("shows a consent page whose form redirects to the accept URL with code, state and expires_in", async () => {
    const page = await fetch(authorizeUrl());
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain('action="/oauth2/consent"');
    for (const scope of ALL_SCOPES) expect(html).toContain(scope);

    const form = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: RU_NAME,
      response_type: "code",
      scope: ALL_SCOPES.join(" "),
      state: "xyz-42",
      username: SELLER,
      decision: "agree",
    });
    const consent = await fetch(`${local.url}/oauth2/consent`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      redirect: "manual",
    });
    expect(consent.status).toBe(302);
    const location = consent.headers.get("location") ?? "";
    expect(location.startsWith(`${ACCEPT_URL}?state=xyz-42&code=v%5E1.1%23`)).toBe(true);
    const redirect = new URL(location);
    expect(redirect.searchParams.get("expires_in")).toBe("299");
    const code = redirect.searchParams.get("code") ?? "";

    const tokens = await tokenCall<UserTokens>(local.url, {
      grant_type: "authorization_code",
      code,
      redirect_uri: RU_NAME,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({
      expires_in: 7200,
      refresh_token_expires_in: 47_304_000,
      token_type: "User Access Token",
    });
    expect(tokens.body.access_token).toMatch(/^v\^1\.1#i\^1#/);
    expect(tokens.body.refresh_token).toMatch(/^v\^1\.1#i\^1#/);
    expect(sb.tokens.authenticate(tokens.body.access_token)?.userId).toBe(SELLER_ID);

    // A code works once.
    const again = await tokenCall(local.url, {
      grant_type: "authorization_code",
      code,
      redirect_uri: RU_NAME,
    });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error: "invalid_grant",
      error_description:
        "the provided authorization grant code is invalid or was issued to another client",
    });
  });

  it("auto-approves when configured, and redirects declines and bad scopes to the declined URL", async () => {
    sb.configureConsent({ autoApprove: true, seller: SELLER });
    const auto = await fetch(authorizeUrl(), { redirect: "manual" });
    expect(auto.status).toBe(302);
    expect(new URL(auto.headers.get("location") ?? "").searchParams.get("code")).toMatch(
      /^v\^1\.1/,
    );

    const badScope = await fetch(
      authorizeUrl({ scope: "https://api.ebay.com/oauth/api_scope/sell.nope" }),
      {
        redirect: "manual",
      },
    );
    expect(badScope.headers.get("location")).toBe(
      "https://stockguard.test/ebay/declined?state=xyz-42&error=invalid_scope",
    );

    const unknownClient = await fetch(authorizeUrl({ client_id: "nobody" }));
    expect(unknownClient.status).toBe(400);
    const wrongRuName = await fetch(authorizeUrl({ redirect_uri: "https://evil.test/cb" }));
    expect(wrongRuName.status).toBe(400);

    sb.configureConsent({ autoApprove: false });
    const declined = await fetch(`${local.url}/oauth2/consent`, {
      method: "POST",
      body: new URLSearchParams({
        client_id: CLIENT_ID,
        redirect_uri: RU_NAME,
        response_type: "code",
        scope: SCOPE.inventory,
        state: "s",
        username: SELLER,
        decision: "disagree",
      }),
      redirect: "manual",
    });
    expect(declined.headers.get("location")).toBe(
      "https://stockguard.test/ebay/declined?state=s&error=access_denied",
    );
  });

  it("rejects expired codes, wrong redirect_uri and bad client credentials", async () => {
    sb.configureConsent({ autoApprove: true, seller: SELLER });
    const code = async () =>
      new URL(
        (await fetch(authorizeUrl(), { redirect: "manual" })).headers.get("location") ?? "",
      ).searchParams.get("code") ?? "";
    const wrongRu = await tokenCall(local.url, {
      grant_type: "authorization_code",
      code: await code(),
      redirect_uri: "x",
    });
    expect(wrongRu.body).toMatchObject({ error: "invalid_grant" });

    const stale = await code();
    sb.advanceClock({ ms: 300_000 });
    const expired = await tokenCall(local.url, {
      grant_type: "authorization_code",
      code: stale,
      redirect_uri: RU_NAME,
    });
    expect(expired.status).toBe(400);

    const badSecret = await tokenCall(
      local.url,
      { grant_type: "authorization_code", code: await code(), redirect_uri: RU_NAME },
      basic(CLIENT_ID, "wrong"),
    );
    expect(badSecret.status).toBe(401);
    expect(badSecret.body).toEqual({
      error: "invalid_client",
      error_description: "client authentication failed",
    });

    const noAuth = await tokenCall(
      local.url,
      { grant_type: "client_credentials", scope: SCOPE.base },
      "",
    );
    expect(noAuth.status).toBe(401);

    const badGrant = await tokenCall(local.url, { grant_type: "password" });
    expect(badGrant.body).toMatchObject({ error: "unsupported_grant_type" });
  });
});

describe("refresh and client credentials", () => {
  it("refreshes a user token (the refresh token stays), never beyond the granted scopes", async () => {
    const tokens = await codeFlow(local, SELLER, [SCOPE.base, SCOPE.inventory]);
    const refreshed = await tokenCall<{
      access_token: string;
      expires_in: number;
      token_type: string;
    }>(local.url, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      scope: SCOPE.inventory,
    });
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body).sort()).toEqual([
      "access_token",
      "expires_in",
      "token_type",
    ]);
    expect(refreshed.body.token_type).toBe("User Access Token");
    expect(refreshed.body.access_token).not.toBe(tokens.access_token);
    const items = await call(local.url, "GET", ITEMS, { token: refreshed.body.access_token });
    expect(items.status).toBe(200);

    const wider = await tokenCall(local.url, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      scope: `${SCOPE.inventory} ${SCOPE.fulfillment}`,
    });
    expect(wider.status).toBe(400);
    expect(wider.body).toMatchObject({ error: "invalid_scope" });

    const bogus = await tokenCall(local.url, {
      grant_type: "refresh_token",
      refresh_token: "v^1.1#nope",
    });
    expect(bogus.body).toEqual({
      error: "invalid_grant",
      error_description:
        "the provided authorization refresh token is invalid or was issued to another client",
    });
  });

  it("issues application tokens that the seller APIs refuse", async () => {
    const answer = await tokenCall<{
      access_token: string;
      expires_in: number;
      token_type: string;
    }>(local.url, {
      grant_type: "client_credentials",
      scope: SCOPE.base,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe("Application Access Token");
    expect(answer.body.expires_in).toBe(7200);
    expect(answer.body).not.toHaveProperty("refresh_token");
    const denied = await call(local.url, "GET", ITEMS, { token: answer.body.access_token });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      errors: [
        {
          errorId: 1100,
          domain: "ACCESS",
          category: "REQUEST",
          message: "Access denied",
          longMessage: "Insufficient permissions to fulfill the request.",
        },
      ],
    });
    const userScope = await tokenCall(local.url, {
      grant_type: "client_credentials",
      scope: SCOPE.inventory,
    });
    expect(userScope.body).toMatchObject({ error: "invalid_scope" });
  });
});

describe("401 on every API", () => {
  const INVALID = {
    errors: [
      {
        errorId: 1001,
        domain: "OAuth",
        category: "REQUEST",
        message: "Invalid access token",
        longMessage:
          "Invalid access token. Check the value of the Authorization HTTP request header.",
      },
    ],
  };
  const endpoints: [string, string][] = [
    ["GET", ITEMS],
    ["GET", "/sell/inventory/v1/offer?sku=MUG-BLUE"],
    ["POST", "/sell/inventory/v1/bulk_update_price_quantity"],
    ["GET", "/sell/fulfillment/v1/order"],
    ["GET", "/commerce/notification/v1/subscription"],
  ];

  it("answers 401 with eBay's body once the access token expired (2 hours), until refreshed", async () => {
    const tokens = await codeFlow(local);
    expect((await call(local.url, "GET", ITEMS, { token: tokens.access_token })).status).toBe(200);
    sb.advanceClock({ ms: 7_200_000 });
    for (const [method, path] of endpoints) {
      const answer = await call(local.url, method, path, {
        token: tokens.access_token,
        body: method === "POST" ? {} : undefined,
      });
      expect(answer.status, path).toBe(401);
      expect(answer.body).toEqual(INVALID);
    }
    const postOrder = await call(local.url, "GET", "/post-order/v2/cancellation/search", {
      token: tokens.access_token,
      scheme: "IAF",
    });
    expect(postOrder.status).toBe(401);
    const refreshed = await tokenCall<{ access_token: string }>(local.url, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    expect(
      (await call(local.url, "GET", ITEMS, { token: refreshed.body.access_token })).status,
    ).toBe(200);
  });

  it("expires and revokes through the control API; revocation kills the refresh token too", async () => {
    const tokens = await codeFlow(local);
    const expired = await call<{ expired: number }>(local.url, "POST", "/_control/tokens/expire", {
      body: { seller: SELLER },
    });
    expect(expired.body.expired).toBe(1);
    expect((await call(local.url, "GET", ITEMS, { token: tokens.access_token })).status).toBe(401);
    const refreshed = await tokenCall<{ access_token: string }>(local.url, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status).toBe(200);

    await call(local.url, "POST", "/_control/tokens/revoke", { body: { seller: SELLER } });
    expect(
      (await call(local.url, "GET", ITEMS, { token: refreshed.body.access_token })).status,
    ).toBe(401);
    const dead = await tokenCall(local.url, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    expect(dead.body).toMatchObject({ error: "invalid_grant" });
  });

  it("answers 400 / 1002 without a token and 401 for another scheme", async () => {
    const missing = await call(local.url, "GET", ITEMS);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({
      errors: [{ errorId: 1002, message: "Missing access token" }],
    });
    const tokens = await codeFlow(local);
    const wrongScheme = await call(local.url, "GET", ITEMS, {
      token: tokens.access_token,
      scheme: "Token",
    });
    expect(wrongScheme.status).toBe(401);
    const app = await appToken(local.url);
    expect((await call(local.url, "GET", ITEMS, { token: app })).status).toBe(403);
  });
});
