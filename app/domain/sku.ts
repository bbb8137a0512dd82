/**
 * SKU normalisation for matching across channels: trim, collapse inner whitespace, upper-case.
 * "ab-1 " and "AB-1" are the same SKU; "AB 1" and "AB-1" are not (we never guess further).
 * An empty result means "no SKU": such variants are reported to the merchant, never matched.
 */
export function normalizeSku(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const normalized = raw.normalize("NFKC").trim().replace(/\s+/g, " ").toUpperCase();
  return normalized.length > 0 ? normalized : null;
}
