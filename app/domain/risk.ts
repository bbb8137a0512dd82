/**
 * Risk checks, the pure part: the variants and listings that defeat StockGuard whatever it
 * publishes — a variant that keeps selling at zero (Shopify inventoryPolicy CONTINUE), inventory
 * that is not tracked, empty or duplicate SKUs (never synced), a channel listing that matches no
 * stock item, and items a channel sold where StockGuard has no listing to limit — each with its
 * fix: a one-click fix where the channel's API allows it, otherwise where to fix it.
 */

export type RiskKind =
  | "continue_selling"
  | "untracked"
  | "empty_sku"
  | "duplicate_sku"
  | "listing_without_item"
  | "sold_without_listing";

export const RISK_KINDS: readonly RiskKind[] = [
  "continue_selling",
  "untracked",
  "empty_sku",
  "duplicate_sku",
  "listing_without_item",
  "sold_without_listing",
];

export type RiskListing = {
  listingId: string;
  connectionId: string;
  connectionName: string;
  channel: string;
  /** Shop domain for Shopify (admin links). */
  accountRef: string;
  sku: string | null;
  title: string | null;
  remoteRef: string;
  remoteVariantRef: string | null;
  remoteProductRef: string | null;
  /** Null: the catalog never said (imported before StockGuard stored it). */
  tracked: boolean | null;
  sellsWhenOutOfStock: boolean | null;
};

export type RiskCatalogIssue = {
  connectionId: string;
  connectionName: string;
  channel: string;
  accountRef: string;
  kind: string;
  sku: string | null;
  remoteRefs: string[];
  details: string;
};

export type SoldWithoutListing = {
  connectionId: string;
  connectionName: string;
  channel: string;
  itemId: string;
  sku: string;
  orders: number;
  units: number;
};

export type RiskFix =
  /** One click (after confirmation): set the variant's inventory policy to DENY. */
  | { type: "set_deny"; connectionId: string; variantRefs: string[]; url: string | null }
  /** Fixed in the channel's own admin. */
  | { type: "link"; url: string; label: string }
  /** Fixed in a StockGuard page. */
  | { type: "page"; path: string; label: string }
  /** No link can be built: what to do, in words. */
  | { type: "text"; label: string };

export type Risk = {
  kind: RiskKind;
  /** Stable per finding (one per variant and channel): React keys, tests. */
  key: string;
  connectionId: string;
  connectionName: string;
  sku: string | null;
  title: string | null;
  why: string;
  fix: RiskFix;
};

/** The numeric tail of a Shopify gid (`gid://shopify/ProductVariant/42` → `42`). */
export function gidTail(gid: string | null): string | null {
  if (!gid) return null;
  const m = /\/(\d+)$/.exec(gid);
  return m ? m[1]! : null;
}

/** The variant's page in the Shopify admin, or a product search when the product is unknown. */
export function shopifyVariantUrl(
  shopDomain: string,
  productRef: string | null,
  variantRef: string | null,
  search: string | null,
): string {
  const product = gidTail(productRef);
  const variant = gidTail(variantRef);
  if (product && variant)
    return `https://${shopDomain}/admin/products/${product}/variants/${variant}`;
  if (product) return `https://${shopDomain}/admin/products/${product}`;
  return `https://${shopDomain}/admin/products${search ? `?query=${encodeURIComponent(search)}` : ""}`;
}

const WHY: Record<RiskKind, string> = {
  continue_selling:
    "Continue selling when out of stock is on: the store keeps selling at 0, so no buffer StockGuard publishes can stop an oversell.",
  untracked:
    "Inventory is not tracked: the store never counts this variant down, so whatever StockGuard writes is ignored and every sale goes through.",
  empty_sku: "No SKU: StockGuard matches channels by SKU, so this variant is not synced anywhere.",
  duplicate_sku:
    "Several variants share this SKU: StockGuard cannot tell them apart, so none of them is synced until the SKUs are unique.",
  listing_without_item:
    "Listed on this channel, but no stock item of the source store has this SKU: its quantity is never written, so the channel sells whatever it shows.",
  sold_without_listing:
    "This channel sold the item, but StockGuard has no listing of it there: the channel's quantity is never lowered.",
};

/**
 * Every finding, one per variant and channel (a source-store variant has one listing per
 * location), in a stable order: by kind, then channel, then SKU.
 */
export function findRisks(input: {
  listings: RiskListing[];
  catalogIssues: RiskCatalogIssue[];
  soldWithoutListing: SoldWithoutListing[];
}): Risk[] {
  const risks: Risk[] = [];
  const seen = new Set<string>();
  const add = (risk: Risk) => {
    if (seen.has(risk.key)) return;
    seen.add(risk.key);
    risks.push(risk);
  };
  for (const l of input.listings) {
    const variant = l.remoteVariantRef ?? l.remoteRef;
    const isShopify = l.channel === "shopify";
    const adminUrl = isShopify
      ? shopifyVariantUrl(l.accountRef, l.remoteProductRef, l.remoteVariantRef, l.sku)
      : null;
    const where = (label: string): RiskFix =>
      adminUrl
        ? { type: "link", url: adminUrl, label }
        : { type: "text", label: `${label} in ${l.connectionName}'s seller tools` };
    // Untracked inventory: the policy cannot matter (Shopify applies it to tracked variants only).
    if (l.tracked === false) {
      add({
        kind: "untracked",
        key: `untracked|${l.connectionId}|${variant}`,
        connectionId: l.connectionId,
        connectionName: l.connectionName,
        sku: l.sku,
        title: l.title,
        why: WHY.untracked,
        fix: where("Turn on Track quantity"),
      });
    } else if (l.sellsWhenOutOfStock === true) {
      add({
        kind: "continue_selling",
        key: `continue_selling|${l.connectionId}|${variant}`,
        connectionId: l.connectionId,
        connectionName: l.connectionName,
        sku: l.sku,
        title: l.title,
        why: WHY.continue_selling,
        fix:
          isShopify && l.remoteVariantRef
            ? {
                type: "set_deny",
                connectionId: l.connectionId,
                variantRefs: [l.remoteVariantRef],
                url: adminUrl,
              }
            : where("Turn off Continue selling when out of stock"),
      });
    }
  }
  for (const issue of input.catalogIssues) {
    const kind: RiskKind | null =
      issue.kind === "empty_sku"
        ? "empty_sku"
        : issue.kind === "duplicate_sku"
          ? "duplicate_sku"
          : issue.kind === "unmatched_sku"
            ? "listing_without_item"
            : null;
    if (!kind) continue;
    const variants = issue.remoteRefs.length > 0 ? issue.remoteRefs : [issue.sku ?? ""];
    // One finding per variant for empty SKUs (each needs its own SKU), one per SKU otherwise.
    const groups = kind === "empty_sku" ? variants.map((v) => [v]) : [variants];
    for (const refs of groups) {
      const isShopify = issue.channel === "shopify";
      const fix: RiskFix =
        kind === "listing_without_item"
          ? {
              type: "text",
              label: `Give it the SKU of a source-store item, or add SKU ${issue.sku ?? ""} to the source store`,
            }
          : isShopify
            ? {
                type: "link",
                url:
                  refs.length === 1 && kind === "empty_sku"
                    ? shopifyVariantUrl(issue.accountRef, null, refs[0]!, null)
                    : shopifyVariantUrl(issue.accountRef, null, null, issue.sku),
                label: kind === "empty_sku" ? "Give it a SKU" : "Make the SKUs unique",
              }
            : {
                type: "text",
                label: kind === "empty_sku" ? "Give it a SKU" : "Make the SKUs unique",
              };
      add({
        kind,
        key: `${kind}|${issue.connectionId}|${kind === "empty_sku" ? refs[0] : (issue.sku ?? "")}`,
        connectionId: issue.connectionId,
        connectionName: issue.connectionName,
        sku: issue.sku,
        title: null,
        why:
          kind === "duplicate_sku"
            ? `${WHY.duplicate_sku} (${refs.length} variants)`
            : kind === "empty_sku"
              ? WHY.empty_sku
              : WHY.listing_without_item,
        fix,
      });
    }
  }
  for (const s of input.soldWithoutListing) {
    add({
      kind: "sold_without_listing",
      key: `sold_without_listing|${s.connectionId}|${s.itemId}`,
      connectionId: s.connectionId,
      connectionName: s.connectionName,
      sku: s.sku,
      title: null,
      why: `${WHY.sold_without_listing} (${s.units} unit(s) in ${s.orders} order(s))`,
      fix: {
        type: "page",
        path: "/app/channels",
        label: `Re-import ${s.connectionName}'s catalog after listing SKU ${s.sku} there`,
      },
    });
  }
  const rank = (k: RiskKind) => RISK_KINDS.indexOf(k);
  return risks.sort(
    (a, b) =>
      rank(a.kind) - rank(b.kind) ||
      a.connectionName.localeCompare(b.connectionName) ||
      (a.sku ?? "").localeCompare(b.sku ?? "") ||
      a.key.localeCompare(b.key),
  );
}

/** Findings per kind (the Overview tile). */
export function riskSummary(risks: Risk[]): { total: number; byKind: Record<RiskKind, number> } {
  const byKind = Object.fromEntries(RISK_KINDS.map((k) => [k, 0])) as Record<RiskKind, number>;
  for (const r of risks) byKind[r.kind]++;
  return { total: risks.length, byKind };
}
