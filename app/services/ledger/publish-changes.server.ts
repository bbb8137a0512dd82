/**
 * Step 5 of a ledger event: the published quantity of every listing that depends on a balance
 * the event changed, marked for push when it changed (source-store listings whenever anything at
 * their level changed: reserved / held / safety states are projected there too).
 */
import { computePublished } from "../../domain/publish";
import * as ledger from "../../repositories/ledger.server";
import type { EventContext } from "./event-context.server";

export async function publishChanges(ctx: EventContext): Promise<void> {
  if (ctx.touched.size === 0 && ctx.heldItems.size === 0) return;
  const { listings, components } = ctx.locked;
  const changedItems = new Set([
    ...[...ctx.touched].map((k) => k.split("|")[0]!),
    ...ctx.heldItems,
  ]);
  const affected = listings.filter((l) =>
    components.some((c) => c.listingId === l.id && changedItems.has(c.itemId)),
  );
  const published = computePublished(
    affected.map((l) => ({
      id: l.id,
      connectionId: l.connectionId,
      sku: l.sku,
      sourceLocationId: l.sourceLocationId,
      components: components
        .filter((c) => c.listingId === l.id)
        .map((c) => ({ itemId: c.itemId, perUnit: c.quantity })),
    })),
    ctx.allLevels(),
    ctx.shop.rules,
    ctx.holdsByItem(),
  );
  const marks = affected.map((listing) => {
    const onlyItem = components.find((c) => c.listingId === listing.id)?.itemId;
    const force =
      listing.sourceLocationId !== null &&
      onlyItem !== undefined &&
      ctx.isTouched(onlyItem, listing.sourceLocationId);
    return { id: listing.id, published: published.get(listing.id) ?? 0, force };
  });
  const marked = await ledger.markListingsChanged(ctx.tx, {
    listings: marks,
    receiptId: ctx.receiptId,
    since: ctx.event.receivedAt ?? new Date(),
  });
  for (const mark of marks) {
    if (!marked.has(mark.id)) continue;
    ctx.result.changedListings.push({
      listingId: mark.id,
      connectionId: affected.find((l) => l.id === mark.id)!.connectionId,
      publishedQuantity: mark.published,
    });
  }
}
