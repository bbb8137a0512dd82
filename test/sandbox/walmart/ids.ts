/**
 * Identifier formats imitated from Walmart's samples: time-based (v1-looking) UUIDs for event
 * and subscription ids, `HEX32@AXXXXXX` feed ids, 12-character WPIDs, 13-digit purchase order
 * ids, JWE-looking access tokens. All draw from the sandbox's seeded RNG.
 */
import type { Rng } from "../shopify/rng";

const HEX = "0123456789abcdef";
const ALNUM_UPPER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function pick(rng: Rng, alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rng.next() * alphabet.length)];
  return out;
}

/** A UUID shaped like Walmart's event ids ("e734a060-91eb-11eb-8024-dbd12dd659ed", version 1). */
export function timeUuid(rng: Rng): string {
  const h = pick(rng, HEX, 32);
  const variant = HEX[8 + Math.floor(rng.next() * 4)] ?? "8";
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-1${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20)}`;
}

/** "FFE538D9B25A4000AD2A067ACEDCF4C4@AUoBAQA" */
export function feedId(rng: Rng): string {
  return `${pick(rng, HEX, 32).toUpperCase()}@A${pick(rng, B64URL, 6)}`;
}

/** "0RCPILAXM0C1" */
export function wpid(rng: Rng): string {
  return `0${pick(rng, ALNUM_UPPER, 11)}`;
}

export function digits(rng: Rng, length: number): string {
  return pick(rng, "0123456789", length);
}

/** A JWE-looking opaque token ("eyJraWQiOi…..…"), like Walmart's access tokens. */
export function accessToken(rng: Rng): string {
  const header = Buffer.from(
    JSON.stringify({ kid: timeUuid(rng), enc: "A256GCM", alg: "dir" }),
    "utf8",
  ).toString("base64url");
  return `${header}..${pick(rng, B64URL, 16)}.${pick(rng, B64URL, 342)}.${pick(rng, B64URL, 22)}`;
}

/** 12-digit UPC with a valid check digit, from a numeric seed. */
export function upcFor(n: number): string {
  const body = String(80000000000 + (n % 10000000000))
    .padStart(11, "0")
    .slice(-11);
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += Number(body[i]) * (i % 2 === 0 ? 3 : 1);
  return `${body}${(10 - (sum % 10)) % 10}`;
}
