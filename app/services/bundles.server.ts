/**
 * Bundles and multipacks: a listing that sells N units of one item (a 6-pack) or one of each of
 * several items (a gift set). The merchant defines its components; the listing then publishes
 * complete sets — the minimum over components of floor(ATS / units per set) (app/domain/bundles.ts)
 * — and a sale of it commits every component. Changed under the same item locks as any event.
 */
import { z } from "zod";
import { normalizeSku } from "../domain/sku";
import { enqueuePushes, enqueueSafely } from "../queues/jobs.server";
import * as catalog from "../repositories/catalog.server";
import * as ledger from "../repositories/ledger.server";
import * as shops from "../repositories/shops.server";
import { transaction } from "../repositories/tx.server";
import { republishListings } from "./ledger/republish.server";

export const ZBundleInput = z.object({
  shopDomain: z.string().min(1),
  /** The listing (connection + its SKU, or its id). */
  listingId: z.uuid().optional(),
  connectionId: z.uuid().optional(),
  sku: z.string().trim().min(1).max(255).optional(),
  components: z
    .array(
      z.object({
        sku: z.string().trim().min(1).max(255),
        quantity: z.number().int().min(1, "at least 1 unit").max(10_000),
      }),
    )
    .min(1, "a bundle has at least one component")
    .max(50),
});

export class BundleError extends Error {}

export async function defineBundle(
  input: z.input<typeof ZBundleInput>,
): Promise<{ listingId: string; components: { sku: string; quantity: number }[] }> {
  const data = ZBundleInput.parse(input);
  const shop = await shops.shopDetails(data.shopDomain);
  if (!shop || shop.status !== "active") throw new BundleError("unknown shop");
  if (!data.listingId && !(data.connectionId && data.sku))
    throw new BundleError("name the listing: its id, or its channel and SKU");
  const listing = await ledger.listingOfShop(shop.id, {
    listingId: data.listingId,
    connectionId: data.connectionId,
    sku: data.sku ? (normalizeSku(data.sku) ?? undefined) : undefined,
  });
  if (!listing) throw new BundleError("no single listing matches");
  const skus = data.components.map((c) => normalizeSku(c.sku)!);
  if (new Set(skus).size !== skus.length) throw new BundleError("a component is listed twice");
  const items = await catalog.itemsBySku(shop.id, skus);
  const unknown = skus.filter((s) => !items.has(s));
  if (unknown.length > 0) throw new BundleError(`unknown SKU(s): ${unknown.join(", ")}`);
  const components = data.components.map((c, i) => ({
    itemId: items.get(skus[i]!)!,
    quantity: c.quantity,
  }));
  await transaction(async (tx) => {
    await ledger.lockItemsWithBundlePartners(
      tx,
      shop.id,
      components.map((c) => c.itemId),
    );
    await ledger.replaceComponents(tx, listing.id, components);
  });
  const touched = await republishListings(shop.id, [listing.id], true);
  if (shop.syncEnabled) await enqueueSafely("push", () => enqueuePushes(touched));
  return {
    listingId: listing.id,
    components: data.components.map((c, i) => ({ sku: skus[i]!, quantity: c.quantity })),
  };
}
