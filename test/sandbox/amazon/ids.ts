/**
 * Identifier formats of the local Amazon, all drawn from the seeded RNG so a seeded run repeats:
 * 3-7-7 order ids, 14-digit order item ids, `Atza|`/`Atzr|`/`Atc|` LWA tokens, UUIDs.
 */
import type { Rng } from "../shopify/rng";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function digits(rng: Rng, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += String(rng.between(0, 9));
  return out;
}

export function alnum(rng: Rng, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += ALNUM[rng.between(0, ALNUM.length - 1)];
  return out;
}

export function hex(rng: Rng, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += rng.between(0, 15).toString(16);
  return out;
}

/** An AmazonOrderId in 3-7-7 format, e.g. 113-4829120-5530261. */
export function orderId(rng: Rng): string {
  return `${String(rng.between(111, 114))}-${digits(rng, 7)}-${digits(rng, 7)}`;
}

export const ORDER_ID_PATTERN = /^\d{3}-\d{7}-\d{7}$/;

export function orderItemId(rng: Rng): string {
  return `${String(rng.between(1, 9))}${digits(rng, 13)}`;
}

export function accessToken(rng: Rng, grantless: boolean): string {
  return `${grantless ? "Atc" : "Atza"}|${alnum(rng, 96)}`;
}

export function refreshToken(rng: Rng): string {
  return `Atzr|${alnum(rng, 96)}`;
}

/** An `spapi_oauth_code`. */
export function authCode(rng: Rng): string {
  return `AN${alnum(rng, 18)}`;
}

export function feedId(rng: Rng): string {
  return `${String(rng.between(1, 9))}${digits(rng, 11)}`;
}

/** A listings submission id (32 hex digits, as live answers show). */
export function submissionId(rng: Rng): string {
  return hex(rng, 32);
}

export function asin(rng: Rng): string {
  return `B0${alnum(rng, 8).toUpperCase()}`;
}
