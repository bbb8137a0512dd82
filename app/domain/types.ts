/**
 * Core vocabulary. Quantities are integers (units); the domain never reads a clock or does I/O:
 * times arrive as ISO strings inside commands.
 */

/** Facts stored per stock item and location. */
export type LevelFacts = {
  /** Physical units at the location (mirrors the source store's `on_hand`). */
  onHand: number;
  /** Sold on any channel, not yet shipped. */
  committed: number;
  /** Returned units awaiting inspection (not sellable). */
  held: number;
  /** Failed inspection or written off as damaged (physically present, never sellable). */
  damaged: number;
  /** Units the merchant keeps back from every channel. */
  safetyStock: number;
};

export const ZERO_FACTS: LevelFacts = {
  onHand: 0,
  committed: 0,
  held: 0,
  damaged: 0,
  safetyStock: 0,
};

export type FactDelta = LevelFacts;

export type ChannelKind = "shopify" | "amazon" | "ebay" | "walmart";

/** The four buffer operators merchants know from other tools (landscape §4.1). */
export type BufferKind = "reserve_units" | "percent_of_ats" | "max_shown" | "zero_at_or_below";

export type BufferRule = {
  id: string;
  /** null: every channel. */
  connectionId: string | null;
  /** Normalised SKU; null: every SKU. A bundle listing is matched by its own SKU. */
  sku: string | null;
  kind: BufferKind;
  /** Units for reserve/max/zero-at-or-below; 0–100 for percent. */
  value: number;
};

/** The resolved operators for one listing, each from the most specific rule of its kind. */
export type BufferPolicy = Partial<Record<BufferKind, { value: number; ruleId: string }>>;

export function isNonNegativeInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

export function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}
