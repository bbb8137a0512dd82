/**
 * Risk checks, the use cases behind `/app/risks` and the Overview tile: every variant or listing
 * that defeats StockGuard (app/domain/risk.ts decides which, with its fix), and the one-click
 * fix the channel's API allows — "stop selling at zero" (Shopify inventoryPolicy DENY), sent
 * only after the merchant confirmed it.
 */
import { z } from "zod";
import { ChannelAuthError, ChannelPermanentError } from "../../channels/errors";
import { adapterFor } from "../../channels/registry.server";
import { findRisks, riskSummary, type Risk, type RiskKind } from "../../domain/risk";
import { loadConnection, toContext } from "../../repositories/connections.server";
import * as risk from "../../repositories/risk.server";
import { requireShop } from "../admin/shop.server";
import { STALE_PAGE, type FormFailure } from "../admin/forms.server";

/** Sales older than this no longer make an item "sold without a listing". */
export const SOLD_WINDOW_DAYS = 90;

export const ZRiskAction = z.object({
  intent: z.literal("set_deny", STALE_PAGE),
  connectionId: z.uuid(STALE_PAGE),
  variantRef: z.string().regex(/^gid:\/\/shopify\/ProductVariant\/\d{1,18}$/, STALE_PAGE),
  confirm: z.literal("yes", "Confirm that the store should stop selling this variant at 0"),
});
export type RiskAction = z.infer<typeof ZRiskAction>;

async function risksOf(shopId: string): Promise<Risk[]> {
  const [listings, catalogIssues, sold] = await Promise.all([
    risk.riskyListings(shopId),
    risk.openCatalogIssues(shopId),
    risk.soldWithoutListing(shopId, SOLD_WINDOW_DAYS),
  ]);
  return findRisks({ listings, catalogIssues, soldWithoutListing: sold });
}

export async function getRisksPage(shopDomain: string) {
  const shop = await requireShop(shopDomain);
  const risks = await risksOf(shop.id);
  return { risks, summary: riskSummary(risks) };
}

/** The Overview tile: findings per kind. */
export async function getRiskSummary(
  shopDomain: string,
): Promise<{ total: number; byKind: Record<RiskKind, number> }> {
  const shop = await requireShop(shopDomain);
  return riskSummary(await risksOf(shop.id));
}

export type RiskActionResult = { ok: true; message: string } | FormFailure;

/**
 * Sets a variant's inventory policy to DENY on its store, after confirmation. Refused (422,
 * nothing changed) when the variant is not one of this shop's listings, the channel has no such
 * fix, or the store did not grant StockGuard `write_products` (then the admin link is the fix).
 */
export async function stopSellingAtZero(input: {
  shopDomain: string;
  action: RiskAction;
}): Promise<RiskActionResult> {
  const shop = await requireShop(input.shopDomain);
  const { action } = input;
  const refuse = (formError: string): FormFailure => ({
    ok: false,
    intent: "set_deny",
    fieldErrors: {},
    formError,
    status: 422,
  });
  const row = await loadConnection(action.connectionId);
  if (!row || row.shopId !== shop.id) return refuse(STALE_PAGE);
  const variant = await risk.variantOfConnection(shop.id, row.id, action.variantRef);
  if (!variant?.productRef) return refuse(STALE_PAGE);
  const adapter = adapterFor(row.kind);
  if (!adapter.stopSellingWhenOutOfStock)
    return refuse("This channel has no such setting StockGuard can change");
  let results;
  try {
    results = await adapter.stopSellingWhenOutOfStock(toContext(row), [
      { variantRef: action.variantRef, productRef: variant.productRef },
    ]);
  } catch (error) {
    if (error instanceof ChannelAuthError)
      return refuse(
        "The store has not allowed StockGuard to edit products (write_products). Use the Shopify admin link to turn off Continue selling when out of stock.",
      );
    if (error instanceof ChannelPermanentError)
      return refuse(`The store refused: ${error.message}`);
    throw error;
  }
  const result = results[0];
  if (!result?.ok) return refuse(`The store did not change it: ${result?.message ?? "no answer"}`);
  await risk.markStopsAtZero(row.id, [action.variantRef]);
  return { ok: true, message: "The store now stops selling this variant at 0" };
}
