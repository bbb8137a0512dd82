/**
 * Formatting shared by the admin pages. Pure and locale-independent on purpose: the server
 * renders the page and the browser hydrates it, so both must print the same characters (times
 * are shown in UTC and relative to the loader's `now`, never to the browser's clock).
 */

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

/** "2026-11-26 21:35 UTC" */
export function formatUtc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function ago(iso: string | null, now: string): string {
  if (!iso) return "never";
  return `${formatAge(new Date(now).getTime() - new Date(iso).getTime())} ago`;
}

export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

export const ROOT_CAUSE_TEXT: Record<string, { label: string; explanation: string }> = {
  stock_correction: {
    label: "Stock correction",
    explanation:
      "Physical stock dropped (a count, damage or manual adjustment) below what was already sold.",
  },
  sync_lag: {
    label: "Sync lag",
    explanation:
      "The channel still showed units StockGuard had already taken away: the write was pending, throttled or failing.",
  },
  channel_showed_more: {
    label: "Channel showed more",
    explanation:
      "The channel showed more than StockGuard last wrote: someone edited it there, or a write never landed.",
  },
  buffer_exhausted: {
    label: "Buffer exhausted",
    explanation:
      "The channel showed what StockGuard published, and sales elsewhere used up the rest within the sync window. A larger buffer would have covered it.",
  },
  unknown: {
    label: "Unknown",
    explanation: "No listing information for the selling channel at the time of the sale.",
  },
};

export function rootCauseLabel(cause: string): string {
  return ROOT_CAUSE_TEXT[cause]?.label ?? cause;
}

export const BUFFER_KIND_TEXT: Record<string, { label: string; value: string; help: string }> = {
  reserve_units: {
    label: "Hold back units",
    value: "Units held back",
    help: "Show ATS minus N.",
  },
  percent_of_ats: {
    label: "Percent of ATS",
    value: "Percent shown (0–100)",
    help: "Show P% of ATS, rounded down.",
  },
  max_shown: {
    label: "Show at most",
    value: "Maximum shown",
    help: "Never show more than N.",
  },
  zero_at_or_below: {
    label: "Show 0 at or below",
    value: "Threshold",
    help: "Show 0 when ATS is N or less.",
  },
};

export function describeRule(kind: string, value: number): string {
  switch (kind) {
    case "reserve_units":
      return `Hold back ${value} unit${value === 1 ? "" : "s"}`;
    case "percent_of_ats":
      return `Show ${value}% of ATS`;
    case "max_shown":
      return `Show at most ${value}`;
    case "zero_at_or_below":
      return `Show 0 when ATS ≤ ${value}`;
    default:
      return `${kind} ${value}`;
  }
}

export function movementKindLabel(kind: string): string {
  const text = kind.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
