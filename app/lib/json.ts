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

export function parseChannelJson(text: string): unknown {
  return JSON.parse(text, preserveBigIntegers as (key: string, value: unknown) => unknown);
}
