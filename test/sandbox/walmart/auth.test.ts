/** Token flow and header/authorization errors, over HTTP as a client would call them. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { CLIENT_ID, CLIENT_SECRET, PID, seedSeller } from "./fixtures";
import { startLocalWalmart } from "./server";

const local = await startLocalWalmart({ rngSeed: 7, seed: { sellers: [seedSeller()] } });
afterAll(() => local.close());
const sb = local.sandbox;

beforeEach(() => sb.reset());

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

function tokenCall(headers: Record<string, string>, body = "grant_type=client_credentials") {
  return fetch(`${local.url}/v3/token`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "application/json",
      ...headers,
    },
    body,
  });
}

const wm = {
  "WM_QOS.CORRELATION_ID": "b3261d2d-028a-4ef7-8602-633c23200af6",
  "WM_SVC.NAME": "Walmart Marketplace",
};

describe("POST /v3/token", () => {
  it("issues a 15-minute access token for Basic clientId:clientSecret", async () => {
    const response = await tokenCall({ Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: "Bearer",
      expires_in: 900,
    });
    expect(body.access_token).toMatch(/^eyJ[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
    const inventory = await fetch(`${local.url}/v3/inventory?sku=MUG-BLUE`, {
      headers: { "WM_SEC.ACCESS_TOKEN": body.access_token as string, ...wm },
    });
    expect(inventory.status).toBe(200);
  });

  it("requires WM_QOS.CORRELATION_ID and WM_SVC.NAME on the token call too", async () => {
    const noCorrelation = await tokenCall({
      Authorization: basic(CLIENT_ID, CLIENT_SECRET),
      "WM_SVC.NAME": "Walmart Marketplace",
    });
    expect(noCorrelation.status).toBe(400);
    expect(await noCorrelation.json()).toEqual({
      error: [
        {
          code: "INVALID_REQUEST_HEADER.GMP_GATEWAY_API",
          field: "WM_QOS.CORRELATION_ID",
          description: "WM_QOS.CORRELATION_ID set blank or null",
          info: "One or more request headers are invalid.",
          severity: "ERROR",
          category: "DATA",
          causes: [],
          errorIdentifiers: {},
        },
      ],
    });
    const noService = await tokenCall({
      Authorization: basic(CLIENT_ID, CLIENT_SECRET),
      "WM_QOS.CORRELATION_ID": "x",
    });
    expect(noService.status).toBe(400);
    expect(((await noService.json()) as { error: { field: string }[] }).error[0]?.field).toBe(
      "WM_SVC.NAME",
    );
  });

  it("refuses wrong or missing client credentials and other grant types", async () => {
    const wrong = await tokenCall({ Authorization: basic(CLIENT_ID, "nope"), ...wm });
    expect(wrong.status).toBe(400);
    expect(
      ((await wrong.json()) as { error: { code: string; field: string }[] }).error[0],
    ).toMatchObject({
      code: "INVALID_REQUEST_HEADER.GMP_GATEWAY_API",
      field: "Authorization",
    });
    expect((await tokenCall({ ...wm })).status).toBe(400);
    const grant = await tokenCall(
      { Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm },
      "grant_type=password",
    );
    expect(grant.status).toBe(400);
    expect(((await grant.json()) as { error: { field: string }[] }).error[0]?.field).toBe(
      "grant_type",
    );
  });
});

describe("token call throttling and faults", () => {
  it("has its own bucket per seller and can be faulted", async () => {
    sb.configureThrottle(PID, "token", { capacity: 1, windowMs: 60_000, tokens: 1 });
    const first = await tokenCall({ Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-current-token-count")).toBe("0");
    const second = await tokenCall({ Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("60");
    sb.configureThrottle(PID, "token", { capacity: 1000, tokens: 1000 });
    sb.addFault({ kind: "http503", operation: "token", count: 1 });
    expect(
      (await tokenCall({ Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm })).status,
    ).toBe(503);
    expect(
      (await tokenCall({ Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm })).status,
    ).toBe(200);
  });
});

describe("API authorization", () => {
  const unauthorizedBody = {
    error: [
      expect.objectContaining({
        code: "UNAUTHORIZED.GMP_GATEWAY_API",
        field: "UNAUTHORIZED",
        description: "Unauthorized",
        severity: "ERROR",
        category: "DATA",
      }),
    ],
  };

  it("answers 401 without WM_SEC.ACCESS_TOKEN, and 400 without the WM_* headers", async () => {
    const noToken = await fetch(`${local.url}/v3/inventory?sku=MUG-BLUE`, { headers: wm });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toEqual(unauthorizedBody);
    // A bearer token in Authorization is not the Walmart header: still 401.
    const token = await local.token(PID);
    const bearer = await fetch(`${local.url}/v3/inventory?sku=MUG-BLUE`, {
      headers: { Authorization: `Bearer ${token}`, ...wm },
    });
    expect(bearer.status).toBe(401);
    const noSvc = await fetch(`${local.url}/v3/inventory?sku=MUG-BLUE`, {
      headers: { "WM_SEC.ACCESS_TOKEN": token, "WM_QOS.CORRELATION_ID": "x" },
    });
    expect(noSvc.status).toBe(400);
    expect(sb.requestLog.map((r) => [r.status, r.outcome])).toEqual([
      [401, "unauthorized"],
      [200, "ok"],
      [401, "unauthorized"],
      [400, "error"],
    ]);
  });

  it("answers 401 for an expired token and accepts a fresh one", async () => {
    const token = await local.token(PID);
    expect((await local.call(PID, "GET", "/v3/inventory?sku=MUG-BLUE", { token })).status).toBe(
      200,
    );
    expect(sb.expireTokens(PID)).toBe(1);
    const expired = await local.call(PID, "GET", "/v3/inventory?sku=MUG-BLUE", { token });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual(unauthorizedBody);
    expect((await local.call(PID, "GET", "/v3/inventory?sku=MUG-BLUE")).status).toBe(200);
  });

  it("expires tokens after tokenTtlSeconds of the sandbox clock", async () => {
    const token = await local.token(PID);
    sb.advanceClock(890_000);
    expect((await local.call(PID, "GET", "/v3/items", { token })).status).toBe(200);
    sb.advanceClock(10_000);
    expect((await local.call(PID, "GET", "/v3/items", { token })).status).toBe(401);
  });

  it("revoked keys: no new token, issued tokens stop working; restoring keys works again", async () => {
    const token = await local.token(PID);
    const res = await fetch(`${local.url}/_control/sellers/${PID}/keys/revoke`, {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect((await local.call(PID, "GET", "/v3/items", { token })).status).toBe(401);
    expect(
      (await tokenCall({ Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm })).status,
    ).toBe(400);
    sb.restoreKeys(PID, { clientSecret: "rotated-secret" });
    expect(
      (await tokenCall({ Authorization: basic(CLIENT_ID, CLIENT_SECRET), ...wm })).status,
    ).toBe(400);
    expect(
      (await tokenCall({ Authorization: basic(CLIENT_ID, "rotated-secret"), ...wm })).status,
    ).toBe(200);
  });

  it("answers URI_NOT_FOUND and METHOD_NOT_ALLOWED like the gateway", async () => {
    const missing = await local.call(PID, "GET", "/v3/nothing-here");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: [{ code: "URI_NOT_FOUND.GMP_GATEWAY_API" }] });
    const method = await local.call(PID, "DELETE", "/v3/inventory?sku=MUG-BLUE");
    expect(method.status).toBe(405);
  });

  it('can answer errors under "errors" (the OpenAPI spelling)', async () => {
    const other = await startLocalWalmart({ errorEnvelope: "errors", seed: seedSeller() });
    try {
      const res = await fetch(`${other.url}/v3/items`, { headers: wm });
      expect(res.status).toBe(401);
      expect(Object.keys((await res.json()) as object)).toEqual(["errors"]);
    } finally {
      await other.close();
    }
  });
});
