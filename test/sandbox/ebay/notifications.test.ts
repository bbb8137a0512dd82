/**
 * Commerce Notification API and push delivery over HTTP: public key, endpoint challenge,
 * subscriptions, ORDER_CONFIRMATION per line item verified with the official SDK's algorithm,
 * retries, duplicates, key rotation, MARKETPLACE_ACCOUNT_DELETION.
 */
import { createVerify } from "node:crypto";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  SCOPE,
  SELLER,
  SELLER_ID,
  VERIFICATION_TOKEN,
  appToken,
  call,
  codeFlow,
  seed,
  startEndpoint,
  subscribe,
  waitFor,
  type Endpoint,
  type Received,
} from "./fixtures";
import { startLocalEbay } from "./server";
import { challengeResponse, verifyLikeEbaySdk } from "./signing";

const TIME_SCALE = 0.001; // retry after 60 s → 60 ms
const local = await startLocalEbay({ seed: seed(), rngSeed: 41, timeScale: TIME_SCALE });
afterAll(() => local.close());
const sb = local.sandbox;
const NOTIF = "/commerce/notification/v1";

let user = "";
let app = "";
let endpoint: Endpoint;
beforeEach(async () => {
  sb.reset();
  user = (await codeFlow(local)).access_token;
  app = await appToken(local.url);
  endpoint = await startEndpoint();
});
afterEach(() => endpoint.close());

type Message = {
  metadata: { topic: string; schemaVersion: string; deprecated: boolean };
  notification: {
    notificationId: string;
    eventDate: string;
    publishDate: string;
    publishAttemptCount: number;
    data: Record<string, unknown>;
  };
};

/**
 * What eBay's Node SDK does with a delivery (lib/validator.js): base64-decode the header as ASCII
 * JSON, fetch the public key by `kid` with an application token, re-serialise the parsed body
 * and verify it with `crypto.createVerify('ssl3-sha1')` after `formatKey`.
 */
const keyCache = new Map<string, { key: string; algorithm: string; digest: string }>();
async function sdkValidate(received: Received): Promise<boolean> {
  const header = JSON.parse(
    Buffer.from(String(received.headers["x-ebay-signature"]), "base64").toString("ascii"),
  ) as { alg: string; kid: string; signature: string; digest: string };
  expect(header.alg).toBe("ecdsa");
  expect(header.digest).toBe("SHA1");
  let publicKey = keyCache.get(header.kid);
  if (!publicKey) {
    const answer = await call<{ key: string; algorithm: string; digest: string }>(
      local.url,
      "GET",
      `${NOTIF}/public_key/${header.kid}`,
      { token: app },
    );
    expect(answer.status).toBe(200);
    publicKey = answer.body;
    keyCache.set(header.kid, publicKey);
  }
  const formatted = publicKey.key
    .replace(/-----BEGIN PUBLIC KEY-----/, "-----BEGIN PUBLIC KEY-----\n")
    .replace(/-----END PUBLIC KEY-----/, "\n-----END PUBLIC KEY-----");
  const verifier = createVerify("ssl3-sha1");
  verifier.update(JSON.stringify(JSON.parse(received.body)));
  return verifier.verify(formatted, header.signature, "base64");
}

const messages = (): Message[] => endpoint.posts.map((p) => JSON.parse(p.body) as Message);

describe("SDK compatibility", () => {
  // The VALID / INVALID vectors of eBay/event-notification-nodejs-sdk test/test.json (Apache-2.0).
  const key = {
    key: "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZhhxXKtR+TOvtDbgTPCkSof02qgBB7IsYOyf76ilExJ/upAa/vKIKheOoCyOpcLmi4t0b4uepb7LLjmMr90FUg==-----END PUBLIC KEY-----",
  };
  const header =
    "eyJhbGciOiJlY2RzYSIsImtpZCI6Ijk5MzYyNjFhLTdkN2ItNDYyMS1hMGYxLTk2Y2NiNDI4YWY0OSIsInNpZ25hdHVyZSI6Ik1FWUNJUUNmeGZJV3V4bVdjSUJRSjljNS9YN2lHREpxczJSQ0dzQkVhQWppbnlycmZBSWhBSVY2d0djVGlCdVY1S0pVaWYyaG9reXJMK1E5c3NIa2FkK214Mm5FRTI1dyIsImRpZ2VzdCI6IlNIQTEifQ==";
  const message = {
    metadata: { topic: "MARKETPLACE_ACCOUNT_DELETION", schemaVersion: "1.0", deprecated: false },
    notification: {
      notificationId: "49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d",
      eventDate: "2021-03-19T20:43:59.462Z",
      publishDate: "2021-03-19T20:43:59.679Z",
      publishAttemptCount: 1,
      data: {
        username: "test_user",
        userId: "ma8vp1jySJC",
        eiasToken: "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ==",
      },
    },
  };

  it("verifies eBay's own signed test vector with the SDK algorithm, and rejects a changed message", () => {
    expect(verifyLikeEbaySdk(message, header, key)).toBe(true);
    const tampered = structuredClone(message);
    tampered.notification.publishAttemptCount = 1000;
    expect(verifyLikeEbaySdk(tampered, header, key)).toBe(false);
  });

  it("computes the challenge response like validateEndpoint", () => {
    // hex(SHA-256(challengeCode + verificationToken + endpoint))
    expect(
      challengeResponse(
        "a8628072-3d33-45ee-9004-bee86830a22d",
        "71745723-d031-455c-bfa5-f90d11b4f20a",
        "http://www.testendpoint.com/webhook",
      ),
    ).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("public key, topics, config", () => {
  it("serves the signing key to application tokens only", async () => {
    const kid = sb.currentSigningKey().kid;
    const answer = await call<{ algorithm: string; digest: string; key: string }>(
      local.url,
      "GET",
      `${NOTIF}/public_key/${kid}`,
      {
        token: app,
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.algorithm).toBe("ECDSA");
    expect(answer.body.digest).toBe("SHA1");
    expect(answer.body.key).toMatch(
      /^-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=]+-----END PUBLIC KEY-----$/,
    );
    expect(
      (await call(local.url, "GET", `${NOTIF}/public_key/${kid}`, { token: user })).status,
    ).toBe(403);
    expect((await call(local.url, "GET", `${NOTIF}/public_key/nope`, { token: app })).status).toBe(
      404,
    );
  });

  it("lists the topics with their scope and payloads", async () => {
    const topics = await call<{ total: number; topics: Record<string, unknown>[] }>(
      local.url,
      "GET",
      `${NOTIF}/topic`,
      { token: app },
    );
    expect(topics.body.total).toBe(2);
    expect(topics.body.topics).toContainEqual(
      expect.objectContaining({
        topicId: "ORDER_CONFIRMATION",
        scope: "USER",
        supportedPayloads: [
          { schemaVersion: "1.0", format: ["JSON"], deliveryProtocol: "HTTPS", deprecated: false },
        ],
      }),
    );
    expect((await call(local.url, "GET", `${NOTIF}/topic/NOPE`, { token: app })).status).toBe(404);
  });
});

describe("destinations: the endpoint challenge", () => {
  const create = (token = app, verificationToken = VERIFICATION_TOKEN) =>
    call(local.url, "POST", `${NOTIF}/destination`, {
      token,
      body: {
        name: "sg",
        status: "ENABLED",
        deliveryConfig: { endpoint: endpoint.url, verificationToken },
      },
    });

  it("needs the alert config, then challenges the endpoint and enables it on the right answer", async () => {
    expect((await create()).status).toBe(409);
    const config = await call(local.url, "PUT", `${NOTIF}/config`, {
      token: app,
      body: { alertEmail: "ops@stockguard.test" },
    });
    expect(config.status).toBe(204);
    const answer = await create();
    expect(answer.status).toBe(201);
    const location = answer.headers.get("location") ?? "";
    expect(location).toMatch(new RegExp(`^${local.url}${NOTIF}/destination/[0-9a-f-]{36}$`));
    expect(endpoint.challenges).toHaveLength(1);
    const challenge = new URL(endpoint.challenges[0]?.path ?? "", "http://x");
    expect(challenge.pathname).toBe("/ebay/notifications");
    expect(challenge.searchParams.get("challenge_code")).toBeTruthy();
    const destination = await call(local.url, "GET", new URL(location).pathname, { token: app });
    expect(destination.body).toEqual({
      destinationId: location.split("/").pop(),
      name: "sg",
      status: "ENABLED",
      deliveryConfig: { endpoint: endpoint.url, verificationToken: VERIFICATION_TOKEN },
    });
  });

  it("refuses a wrong or missing challenge response (or marks the destination down when configured)", async () => {
    await call(local.url, "PUT", `${NOTIF}/config`, {
      token: app,
      body: { alertEmail: "ops@stockguard.test" },
    });
    endpoint.challenge = (code) => ({
      status: 200,
      body: JSON.stringify({
        challengeResponse: challengeResponse(
          code,
          "another-token-0123456789abcdefghijkl",
          endpoint.url,
        ),
      }),
    });
    const wrong = await create();
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ errors: [{ errorId: 195020, domain: "API_NOTIFICATION" }] });
    endpoint.challenge = () => ({ status: 500, body: "" });
    expect((await create()).status).toBe(400);
    expect(sb.destinations.size).toBe(0);

    sb.configure({ challengeFailure: "markDown" });
    const markedDown = await create();
    expect(markedDown.status).toBe(201);
    expect([...sb.destinations.values()][0]?.status).toBe("MARKED_DOWN");
    expect((await create(app, "short")).status).toBe(400);
  });
});

describe("subscriptions and ORDER_CONFIRMATION", () => {
  it("needs a user token with the topic's scope; one subscription per topic", async () => {
    await expect(subscribe(local, endpoint, "ORDER_CONFIRMATION", app, app)).rejects.toThrow(
      /195011/,
    );
    const narrow = (await codeFlow(local, SELLER, [SCOPE.base, SCOPE.inventory])).access_token;
    await expect(subscribe(local, endpoint, "ORDER_CONFIRMATION", narrow, app)).rejects.toThrow(
      /195011/,
    );
    const { subscriptionId, destinationId } = await subscribe(
      local,
      endpoint,
      "ORDER_CONFIRMATION",
      user,
      app,
    );
    const duplicate = await call(local.url, "POST", `${NOTIF}/subscription`, {
      token: user,
      body: {
        topicId: "ORDER_CONFIRMATION",
        status: "ENABLED",
        destinationId,
        payload: { format: "JSON", schemaVersion: "1.0", deliveryProtocol: "HTTPS" },
      },
    });
    expect(duplicate.status).toBe(409);
    const mine = await call<{ total: number; subscriptions: Record<string, unknown>[] }>(
      local.url,
      "GET",
      `${NOTIF}/subscription`,
      {
        token: user,
      },
    );
    expect(mine.body.total).toBe(1);
    expect(mine.body.subscriptions[0]).toMatchObject({
      subscriptionId,
      topicId: "ORDER_CONFIRMATION",
      status: "ENABLED",
      destinationId,
      payload: { format: "JSON", schemaVersion: "1.0", deliveryProtocol: "HTTPS" },
    });
    const appView = await call<{ total: number }>(local.url, "GET", `${NOTIF}/subscription`, {
      token: app,
    });
    expect(appView.body.total).toBe(0);
  });

  it("POSTs one signed ORDER_CONFIRMATION per line item; the SDK algorithm verifies each", async () => {
    await subscribe(local, endpoint, "ORDER_CONFIRMATION", user, app);
    const { order } = sb.checkout(SELLER, {
      lines: [
        { sku: "MUG-BLUE", quantity: 2 },
        { sku: "OLD-VASE", quantity: 1 },
      ],
    });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    expect(endpoint.posts).toHaveLength(2);
    const bodies = messages();
    for (const [i, post] of endpoint.posts.entries()) {
      expect(post.path).toBe("/ebay/notifications");
      expect(post.headers["content-type"]).toBe("application/json");
      expect(await sdkValidate(post)).toBe(true);
      // The raw body is exactly the re-serialised message the SDK verifies.
      expect(post.body).toBe(JSON.stringify(bodies[i]));
    }
    expect(bodies.map((b) => b.metadata)).toEqual([
      { topic: "ORDER_CONFIRMATION", schemaVersion: "1.0", deprecated: false },
      { topic: "ORDER_CONFIRMATION", schemaVersion: "1.0", deprecated: false },
    ]);
    expect(bodies.map((b) => b.notification.data)).toEqual([
      { orderId: order.orderId },
      { orderId: order.orderId },
    ]);
    expect(new Set(bodies.map((b) => b.notification.notificationId)).size).toBe(2);
    for (const b of bodies) {
      expect(b.notification.publishAttemptCount).toBe(1);
      expect(b.notification.eventDate).toBe(order.creationDate);
      expect(Date.parse(b.notification.publishDate)).toBeGreaterThanOrEqual(
        Date.parse(b.notification.eventDate),
      );
    }
    // The seller then reads the order, which carries the SKUs and quantities.
    const fetched = await call<{ lineItems: { sku: string; quantity: number }[] }>(
      local.url,
      "GET",
      `/sell/fulfillment/v1/order/${String(order.orderId)}`,
      { token: user },
    );
    expect(fetched.body.lineItems.map((l) => [l.sku, l.quantity])).toEqual([
      ["MUG-BLUE", 2],
      ["OLD-VASE", 1],
    ]);
    expect(sb.deliveries().map((d) => d.state)).toEqual(["delivered", "delivered"]);
  });

  it("retries until the endpoint answers 2xx, with the same id and a growing publishAttemptCount", async () => {
    await subscribe(local, endpoint, "ORDER_CONFIRMATION", user, app);
    endpoint.respond = (n) => (n === 0 ? 500 : n === 1 ? 412 : 204);
    sb.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 1 }] });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    const bodies = messages();
    expect(bodies.map((b) => b.notification.publishAttemptCount)).toEqual([1, 2, 3]);
    expect(new Set(bodies.map((b) => b.notification.notificationId)).size).toBe(1);
    for (const post of endpoint.posts) expect(await sdkValidate(post)).toBe(true);
    const [delivery] = sb.deliveries();
    expect(delivery?.state).toBe("delivered");
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 412, 204]);
    // Retry intervals follow the (scaled) schedule: 60 s and 120 s × 0.001.
    const gaps = endpoint.posts.slice(1).map((p, i) => p.at - (endpoint.posts[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(55);
    expect(gaps[1]).toBeGreaterThanOrEqual(115);

    endpoint.posts.length = 0;
    endpoint.respond = () => 503;
    sb.configurePush({ retryIntervalsSeconds: [10, 10] });
    sb.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 1 }] });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    expect(endpoint.posts).toHaveLength(3);
    expect(sb.deliveries()[1]?.state).toBe("failed");
  });

  it("sends duplicates and repeats when configured (seeded), and nothing for disabled subscriptions", async () => {
    const { subscriptionId } = await subscribe(local, endpoint, "ORDER_CONFIRMATION", user, app);
    sb.configurePush({
      duplicateProbability: 1,
      repeatProbability: 1,
      delayMs: [0, 20],
      reorder: true,
    });
    sb.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 1 }] });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    const ids = messages().map((b) => b.notification.notificationId);
    expect(ids).toHaveLength(4); // one line item: original + repeat, each delivered twice
    expect(new Set(ids).size).toBe(2);
    const notes = sb.notifications({ topic: "ORDER_CONFIRMATION" });
    expect(notes[1]?.repeatOf).toBe(notes[0]?.notificationId);
    for (const post of endpoint.posts) expect(await sdkValidate(post)).toBe(true);

    endpoint.posts.length = 0;
    sb.configurePush({ duplicateProbability: 0, repeatProbability: 0 });
    expect(
      (
        await call(local.url, "POST", `${NOTIF}/subscription/${subscriptionId}/disable`, {
          token: user,
        })
      ).status,
    ).toBe(204);
    sb.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 1 }] });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    expect(endpoint.posts).toHaveLength(0);
    await call(local.url, "POST", `${NOTIF}/subscription/${subscriptionId}/enable`, {
      token: user,
    });
    const test = await call(local.url, "POST", `${NOTIF}/subscription/${subscriptionId}/test`, {
      token: user,
    });
    expect(test.status).toBe(202);
    await waitFor(() => endpoint.posts.length === 1, 2_000, "test notification");
    expect(await sdkValidate(endpoint.posts[0] as Received)).toBe(true);
  });

  it("signs with a rotated key; the old key stays retrievable; corrupted signatures fail", async () => {
    await subscribe(local, endpoint, "ORDER_CONFIRMATION", user, app);
    const oldKid = sb.currentSigningKey().kid;
    const rotated = await call<{ kid: string }>(local.url, "POST", "/_control/keys/rotate");
    expect(rotated.body.kid).not.toBe(oldKid);
    sb.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 1 }] });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    const header = JSON.parse(
      Buffer.from(String(endpoint.posts[0]?.headers["x-ebay-signature"]), "base64").toString(),
    ) as { kid: string };
    expect(header.kid).toBe(rotated.body.kid);
    expect(await sdkValidate(endpoint.posts[0] as Received)).toBe(true);
    expect(
      (await call(local.url, "GET", `${NOTIF}/public_key/${oldKid}`, { token: app })).status,
    ).toBe(200);

    endpoint.posts.length = 0;
    sb.configurePush({ corruptSignatureProbability: 1, retryIntervalsSeconds: [] });
    endpoint.respond = () => 412;
    sb.checkout(SELLER, { lines: [{ sku: "MUG-BLUE", quantity: 1 }] });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    expect(await sdkValidate(endpoint.posts[0] as Received)).toBe(false);
  });
});

describe("MARKETPLACE_ACCOUNT_DELETION", () => {
  it("notifies application subscriptions with username, userId and eiasToken, and ends the user's tokens", async () => {
    await subscribe(local, endpoint, "MARKETPLACE_ACCOUNT_DELETION", app, app);
    const answer = await call<{ notificationIds: string[] }>(
      local.url,
      "POST",
      `/_control/sellers/${SELLER}/account-deletion`,
    );
    expect(answer.body.notificationIds).toHaveLength(1);
    expect(await sb.waitForIdle(5_000)).toBe(true);
    expect(endpoint.posts).toHaveLength(1);
    expect(await sdkValidate(endpoint.posts[0] as Received)).toBe(true);
    const [message] = messages();
    expect(message?.metadata).toEqual({
      topic: "MARKETPLACE_ACCOUNT_DELETION",
      schemaVersion: "1.0",
      deprecated: false,
    });
    expect(message?.notification.data).toEqual({
      username: SELLER,
      userId: SELLER_ID,
      eiasToken: "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ==",
    });
    expect(message?.notification.notificationId).toBe(answer.body.notificationIds[0]);
    expect(
      (await call(local.url, "GET", "/sell/inventory/v1/inventory_item", { token: user })).status,
    ).toBe(401);
  });
});
