/**
 * Root cause of an oversell, decided when the incident is recorded from what each channel was
 * showing at that moment. The categories answer "why did this happen" for the merchant:
 *
 * - `stock_correction`: physical stock dropped at the source (count, damage) below what was sold;
 * - `sync_lag`: the selling channel still showed units we had already taken away, and our last
 *   write to it predates the change (the write was pending, throttled or failing);
 * - `channel_showed_more`: the channel showed more than we last wrote (a manual edit on the
 *   channel, or a write that never landed);
 * - `buffer_exhausted`: the channel showed what we published and concurrent sales elsewhere used
 *   up the rest inside the sync window (a bigger buffer would have covered it);
 * - `unknown`: no listing information for the selling channel.
 */
export type RootCause =
  "stock_correction" | "sync_lag" | "channel_showed_more" | "buffer_exhausted" | "unknown";

export type SellingListingView = {
  publishedQuantity: number;
  pushedQuantity: number | null;
  remoteQuantity: number | null;
};

export function classifyOversell(input: {
  movementKind: string;
  listing: SellingListingView | null;
}): RootCause {
  if (
    input.movementKind === "on_hand_counted" ||
    input.movementKind === "manual_adjustment" ||
    input.movementKind === "inspection_failed"
  ) {
    return "stock_correction";
  }
  const listing = input.listing;
  if (!listing) return "unknown";
  const shown = listing.remoteQuantity ?? listing.pushedQuantity;
  if (shown === null) return "unknown";
  if (listing.pushedQuantity !== null && shown > listing.pushedQuantity)
    return "channel_showed_more";
  if (listing.pushedQuantity !== null && listing.pushedQuantity > listing.publishedQuantity)
    return "sync_lag";
  return "buffer_exhausted";
}
