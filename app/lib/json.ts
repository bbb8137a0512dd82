/**
 * JSON from channels. Channel ids are 64-bit integers that JavaScript numbers cannot hold past
 * 2^53 (Shopify's own sample payloads use such ids): integers outside the safe range are kept as
 * their exact digits (a string) instead of being rounded, so they validate as ids and never
 * change on the way to the database.
 */
type Reviver = (
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
) => unknown;

const preserveBigIntegers: Reviver = (_key, value, context) =>
  typeof value === "number" &&
  !Number.isSafeInteger(value) &&
  context?.source !== undefined &&
  /^-?\d+$/.test(context.source)
    ? context.source
    : value;

/** Every integer past 2^53 has at least 16 digits. */
const LONG_DIGITS = /\d{16}/;

export function parseChannelJson(text: string): unknown {
  // The reviver runs for every value (a tenth of the web's CPU under a webhook flood): only a
  // text with a long run of digits can hold an unsafe integer.
  if (!LONG_DIGITS.test(text)) return JSON.parse(text) as unknown;
  return JSON.parse(text, preserveBigIntegers as (key: string, value: unknown) => unknown);
}
