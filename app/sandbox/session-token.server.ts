/**
 * Mints a Shopify session token (App Bridge's `idToken()`) as the admin issues it, for the
 * sandbox and the tests: an HS256 JWT signed with the app's API secret. `decodeSessionToken` in
 * @shopify/shopify-api checks the signature, `exp`/`nbf` (10 s tolerance) and that `aud` is the
 * API key; shopify-app-remix takes the shop from `dest`.
 */
import { createHmac, randomUUID } from "node:crypto";

export function mintSessionToken(input: {
  shop: string;
  apiKey: string;
  apiSecret: string;
  userId?: string;
  now?: number;
}): string {
  const now = Math.floor((input.now ?? Date.now()) / 1000);
  const header = { alg: "HS256", typ: "JWT" };
  const payload = {
    iss: `https://${input.shop}/admin`,
    dest: `https://${input.shop}`,
    aud: input.apiKey,
    sub: input.userId ?? "1",
    exp: now + 60,
    nbf: now - 5,
    iat: now - 5,
    jti: randomUUID(),
    sid: randomUUID(),
  };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode(header)}.${encode(payload)}`;
  const signature = createHmac("sha256", input.apiSecret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}
