/** Commerce Identity getUser: which seller a user token belongs to (scope commerce.identity.readonly). */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ALL_SCOPES, SELLER, SELLER_ID, appToken, call, codeFlow, seed } from "./fixtures";
import { SCOPES } from "./model";
import { startLocalEbay } from "./server";

const local = await startLocalEbay({ seed: seed(), rngSeed: 5 });
afterAll(() => local.close());
const USER = "/commerce/identity/v1/user/";

beforeEach(() => local.sandbox.reset());

describe("getUser", () => {
  it("names the seller of a user token (user id and username), nothing personal", async () => {
    const tokens = await codeFlow(local, SELLER, [...ALL_SCOPES, SCOPES.identityReadonly]);
    const answer = await call<Record<string, unknown>>(local.url, "GET", USER, {
      token: tokens.access_token,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      userId: SELLER_ID,
      username: SELLER,
      accountType: "BUSINESS",
      registrationMarketplaceId: "EBAY_US",
      status: "CONFIRMED",
    });
  });

  it("needs the identity scope (403) and a user token (403 for an application token)", async () => {
    const tokens = await codeFlow(local, SELLER, ALL_SCOPES);
    const noScope = await call(local.url, "GET", USER, { token: tokens.access_token });
    expect(noScope.status).toBe(403);
    const app = await call(local.url, "GET", USER, { token: await appToken(local.url) });
    expect(app.status).toBe(403);
    const none = await call(local.url, "GET", USER, { token: "v^1.1#nope" });
    expect(none.status).toBe(401);
  });
});
