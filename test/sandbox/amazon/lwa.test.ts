/** Login with Amazon over HTTP: the three grants, their errors, and the consent redirect. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { REFRESH_TOKEN, SELLER, lwa, seed, sp } from "./fixtures";
import { DEFAULT_APP } from "./sandbox";
import { startLocalAmazon } from "./server";

const local = await startLocalAmazon({ seed: seed(), timeScale: 0.001, rngSeed: 7 });
afterAll(() => local.close());
const sb = local.sandbox;
const REDIRECT = DEFAULT_APP.redirectUris[0] ?? "";

beforeEach(() => sb.reset());

const client = { client_id: DEFAULT_APP.clientId, client_secret: DEFAULT_APP.clientSecret };

describe("POST /auth/o2/token", () => {
  it("exchanges a refresh token for a one-hour access token", async () => {
    const result = await lwa(local, {
      grant_type: "refresh_token",
      refresh_token: REFRESH_TOKEN,
      ...client,
    });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      refresh_token: REFRESH_TOKEN,
      token_type: "bearer",
      expires_in: 3600,
    });
    expect(String(result.body.access_token)).toMatch(/^Atza\|/);
    const listing = await sp(
      local,
      String(result.body.access_token),
      "GET",
      `/listings/2021-08-01/items/${SELLER}/MUG-BLUE?marketplaceIds=ATVPDKIKX0DER`,
    );
    expect(listing.status).toBe(200);
  });

  it("accepts a JSON body too", async () => {
    const response = await fetch(local.lwaTokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        grant_type: "refresh_token",
        refresh_token: REFRESH_TOKEN,
        ...client,
      }),
    });
    expect(response.status).toBe(200);
  });

  it("answers LWA's OAuth errors", async () => {
    const unknown = await lwa(local, {
      grant_type: "refresh_token",
      refresh_token: "Atzr|nope",
      ...client,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      error_description: "The request has an invalid grant parameter : refresh_token",
      error: "invalid_grant",
    });

    const wrongSecret = await lwa(local, {
      grant_type: "refresh_token",
      refresh_token: REFRESH_TOKEN,
      client_id: DEFAULT_APP.clientId,
      client_secret: "wrong",
    });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe("invalid_client");

    const missing = await lwa(local, { grant_type: "refresh_token", ...client });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: "invalid_request" });
    expect(String(missing.body.error_description)).toContain("refresh_token");

    const grant = await lwa(local, { grant_type: "password", ...client });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe("unsupported_grant_type");
  });

  it("refuses a revoked refresh token with invalid_grant", async () => {
    sb.revokeRefreshToken({ token: REFRESH_TOKEN });
    const result = await lwa(local, {
      grant_type: "refresh_token",
      refresh_token: REFRESH_TOKEN,
      ...client,
    });
    expect(result.status).toBe(400);
    expect(result.body.error).toBe("invalid_grant");
    expect(String(result.body.error_description)).toContain("revoked");
  });

  it("refuses a client secret past its 180-day rotation deadline", async () => {
    sb.rotateClientSecret({ rotatedAt: new Date(Date.now() - 181 * 86_400_000).toISOString() });
    const old = await lwa(local, {
      grant_type: "refresh_token",
      refresh_token: REFRESH_TOKEN,
      ...client,
    });
    expect(old.status).toBe(401);
    expect(old.body.error).toBe("invalid_client");
    // Rotating gives a new secret; refresh tokens survive the rotation.
    const rotated = sb.rotateClientSecret();
    const fresh = await lwa(local, {
      grant_type: "refresh_token",
      refresh_token: REFRESH_TOKEN,
      client_id: DEFAULT_APP.clientId,
      client_secret: rotated.clientSecret,
    });
    expect(fresh.status).toBe(200);
  });

  it("issues grantless tokens for the notifications scope only", async () => {
    const ok = await lwa(local, {
      grant_type: "client_credentials",
      scope: "sellingpartnerapi::notifications",
      ...client,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      scope: "sellingpartnerapi::notifications",
      token_type: "bearer",
      expires_in: 3600,
    });
    expect(ok.body.refresh_token).toBeUndefined();
    const bad = await lwa(local, {
      grant_type: "client_credentials",
      scope: "sellingpartnerapi::orders",
      ...client,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_scope");
  });
});

describe("website authorization workflow", () => {
  const consentUrl = (extra: Record<string, string> = {}): string =>
    `${local.url}/apps/authorize/consent?${new URLSearchParams({
      application_id: DEFAULT_APP.applicationId,
      state: "csrf-123",
      version: "beta",
      ...extra,
    }).toString()}`;

  it("shows a consent page whose Authorize form redirects with state, seller and a single-use code", async () => {
    const page = await fetch(consentUrl());
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="authorize"');
    expect(html).toContain('action="/apps/authorize/confirm"');
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1],
        m[2],
      ]),
    ) as Record<string, string>;
    const confirm = await fetch(`${local.url}/apps/authorize/confirm`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      redirect: "manual",
    });
    expect(confirm.status).toBe(302);
    const location = new URL(confirm.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("csrf-123");
    expect(location.searchParams.get("selling_partner_id")).toBe(SELLER);
    const code = location.searchParams.get("spapi_oauth_code") ?? "";
    expect(code).not.toBe("");

    const exchange = await lwa(local, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      ...client,
    });
    expect(exchange.status).toBe(200);
    expect(String(exchange.body.refresh_token)).toMatch(/^Atzr\|/);
    expect(String(exchange.body.access_token)).toMatch(/^Atza\|/);
    // The new refresh token works, the code does not work twice.
    const refreshed = await lwa(local, {
      grant_type: "refresh_token",
      refresh_token: String(exchange.body.refresh_token),
      ...client,
    });
    expect(refreshed.status).toBe(200);
    const again = await lwa(local, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      ...client,
    });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error_description: "The request has an invalid grant parameter : code",
      error: "invalid_grant",
    });
  });

  it("redirects at once in automatic mode and refuses expired codes", async () => {
    sb.configureConsent({ mode: "auto" });
    const response = await fetch(consentUrl(), { redirect: "manual" });
    expect(response.status).toBe(302);
    const code =
      new URL(response.headers.get("location") ?? "").searchParams.get("spapi_oauth_code") ?? "";
    sb.expireAuthCodes();
    const exchange = await lwa(local, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      ...client,
    });
    expect(exchange.status).toBe(400);
    expect(exchange.body.error).toBe("invalid_grant");
  });

  it("accepts a seed whose consent names one of its own sellers as signed in", () => {
    const seeded = sb.applySeed({
      sellers: [{ sellerId: "A3SIGNEDIN" }],
      consent: { mode: "auto", sellerId: "A3SIGNEDIN" },
    });
    expect(seeded.sellers).toEqual(["A3SIGNEDIN"]);
    expect(sb.consent).toEqual({ mode: "auto", sellerId: "A3SIGNEDIN" });
  });

  it("shows Seller Central's error codes for a draft app without version=beta and for a foreign redirect URI", async () => {
    const draft = await fetch(consentUrl({ version: "" }));
    expect(draft.status).toBe(400);
    expect(await draft.text()).toContain("MD1000");
    const redirect = await fetch(consentUrl({ redirect_uri: "https://evil.example/callback" }));
    expect(redirect.status).toBe(400);
    expect(await redirect.text()).toContain("MD5101");
  });
});
