/**
 * Identifier formats eBay uses: order ids `NN-NNNNN-NNNNN` (the format since June 2019),
 * 12-digit legacy item (listing) ids, numeric offer / line item / transaction / cancel ids,
 * OAuth tokens in the `v^1.1#i^1#…` shape (with `#` and `^`, which must be URL-encoded).
 * Numbers come from counters (distinct ranges per kind), random parts from the seeded RNG.
 */
import type { Rng } from "../shopify/rng";

const BASES = {
  offer: 9_000_000_001,
  listing: 110_550_000_001,
  lineItem: 10_059_830_000_001,
  transaction: 2_790_000_000_001,
  cancel: 5_000_000_001,
  cancelRequest: 3_300_000_001,
  destination: 0,
  subscription: 0,
  salesRecord: 1001,
  order: 1,
} as const;

export type IdKind = keyof typeof BASES;

export class IdAllocator {
  private readonly next = new Map<IdKind, number>();

  number(kind: IdKind): number {
    const value = this.next.get(kind) ?? BASES[kind];
    this.next.set(kind, value + 1);
    return value;
  }

  /** Makes sure later ids of `kind` are above `used` (ids given explicitly in a seed). */
  reserve(kind: IdKind, used: number): void {
    if (Number.isSafeInteger(used) && used >= (this.next.get(kind) ?? BASES[kind])) {
      this.next.set(kind, used + 1);
    }
  }

  reset(): void {
    this.next.clear();
  }

  offerId(): string {
    return String(this.number("offer"));
  }
  listingId(): string {
    return String(this.number("listing"));
  }
  lineItemId(): string {
    return String(this.number("lineItem"));
  }
  transactionId(): string {
    return String(this.number("transaction"));
  }
  cancelId(): string {
    return String(this.number("cancel"));
  }
  cancelRequestId(): string {
    return String(this.number("cancelRequest"));
  }
  salesRecordReference(): string {
    return String(this.number("salesRecord"));
  }

  /** `NN-NNNNN-NNNNN`: a counter spread over the digits, unique per server. */
  orderId(): string {
    const n = this.number("order");
    // A bijection of the counter onto 12 digits (odd multiplier mod 10^12): looks random, never repeats.
    const mixed = (BigInt(n) * 7_919_000_017n + 12_345_678_901n) % 1_000_000_000_000n;
    const digits = mixed.toString().padStart(12, "0");
    return `${digits.slice(0, 2)}-${digits.slice(2, 7)}-${digits.slice(7, 12)}`;
  }
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** `length` base64 characters drawn from the RNG. */
export function randomBase64(rng: Rng, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += B64[Math.floor(rng.next() * 64)];
  return out;
}

/** eBay-shaped OAuth token: user `p^3`, application `p^1`, refresh `r^1`. */
export function oauthToken(rng: Rng, kind: "user" | "application" | "refresh" | "code"): string {
  const body = randomBase64(rng, kind === "code" ? 96 : 180);
  switch (kind) {
    case "user":
      return `v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4sIAAAAAAAA${body}`;
    case "application":
      return `v^1.1#i^1#p^1#I^3#r^0#f^0#t^H4sIAAAAAAAA${body}`;
    case "refresh":
      return `v^1.1#i^1#p^3#I^3#r^1#f^0#t^Ul4xMF8${body}`;
    default:
      return `v^1.1#i^1#f^0#I^3#r^1#p^3#t^Ul41XzI6${body}`;
  }
}

/** Notification ids look like two UUIDs joined by `_` (the SDK's test vector). */
export function notificationId(rng: Rng): string {
  return `${rng.uuid()}_${rng.uuid()}`;
}

/** An eBay-style immutable user id (11 characters) and an EIAS token. */
export function ebayUserId(rng: Rng): string {
  return randomBase64(rng, 11).replace(/[+/]/g, "x");
}
export function eiasToken(rng: Rng): string {
  return `nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6w${randomBase64(rng, 28)}==`;
}
