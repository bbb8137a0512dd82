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
  sync_delay: {
    label: "Sync delay",
    explanation:
      "The channel sold from a quantity StockGuard had already lowered but not yet written to it (the write came after the sale).",
  },
  simultaneous_channels: {
    label: "Simultaneous channels",
    explanation:
      "Two channels sold the last units inside one sync window, before either sale could reach the other; no buffer was held back.",
  },
  low_buffer: {
    label: "No/low buffer",
    explanation:
      "Every write was current, but the buffer held back was below what sold inside one sync window. A larger buffer would have covered it.",
  },
  allocation_error: {
    label: "Allocation error",
    explanation:
      "Stock was counted, adjusted or written off below what was already sold, or a bundle used a component that was already sold.",
  },
  integration_failure: {
    label: "Integration failure",
    explanation:
      "Writes to the channel failed, were throttled or paused, the channel showed more than StockGuard wrote, reconcile found drift, a subscription was missing, or the SKU was not matched.",
  },
  unknown: {
    label: "Unknown",
    explanation: "Nothing recorded explains it; the incident's evidence states why.",
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
