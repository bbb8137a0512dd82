/**
 * What the StockGuard product block shows, computed from the data StockGuard's
 * /extensions/product-stock answers (app/services/flow/product-block.server.ts). Pure: no
 * imports, no I/O, so the block's behaviour is tested without the admin
 * (test/integration/flow-product-block.test.ts) and the component only lays these lines out.
 */

export type BlockBuffer = { kind: string; value: number; scope: string };
export type BlockChannel = {
  channel: string;
  kind: string;
  status: string;
  publishes: number;
  shows: number | null;
  lastWrite: string | null;
  pending: boolean;
  buffers: BlockBuffer[];
};
export type BlockVariant = {
  variantId: string;
  sku: string;
  title: string | null;
  availableToSell: number;
  openIncidents: number;
  appPath: string;
  channels: BlockChannel[];
};
export type BlockData = { product: string; variants: BlockVariant[]; untracked: string[] };

export type Tone = "success" | "warning" | "critical" | "info" | "neutral";

export type ChannelLine = {
  channel: string;
  shows: string;
  tone: Tone;
  note: string;
  buffer: string;
  lastWrite: string;
};

export type VariantView = {
  heading: string;
  ats: string;
  incidents: { label: string; tone: Tone } | null;
  link: string;
  channels: ChannelLine[];
};

export type BlockView =
  | { state: "empty"; message: string }
  | { state: "ready"; variants: VariantView[]; footnote: string | null };

const KIND_TEXT: Record<string, (value: number) => string> = {
  reserve_units: (v) => `holds back ${v}`,
  percent_of_ats: (v) => `shows ${v}% of stock`,
  max_shown: (v) => `shows at most ${v}`,
  zero_at_or_below: (v) => `shows 0 at or below ${v}`,
};

/** "holds back 2 (this SKU on this channel)"; "no buffer" without rules. */
export function bufferText(buffers: BlockBuffer[]): string {
  if (buffers.length === 0) return "no buffer";
  return buffers
    .map((b) => `${(KIND_TEXT[b.kind] ?? ((v: number) => `${b.kind} ${v}`))(b.value)} (${b.scope})`)
    .join("; ");
}

/** "12 min ago", "3 h ago", "2 d ago"; "never written" without a write. */
export function ago(iso: string | null, now: number): string {
  if (!iso) return "never written";
  const minutes = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  if (minutes < 1) return "written just now";
  if (minutes < 60) return `written ${minutes} min ago`;
  if (minutes < 48 * 60) return `written ${Math.round(minutes / 60)} h ago`;
  return `written ${Math.round(minutes / 1440)} d ago`;
}

function channelLine(c: BlockChannel, now: number): ChannelLine {
  let tone: Tone = "success";
  let note = "in sync";
  if (c.status !== "active") {
    tone = "warning";
    note = `sync ${c.status}`;
  } else if (c.pending) {
    tone = "info";
    note = `writing ${c.publishes}`;
  } else if (c.shows === null) {
    tone = "neutral";
    note = "not read yet";
  } else if (c.shows !== c.publishes) {
    tone = "critical";
    note = `should show ${c.publishes}`;
  }
  return {
    channel: c.channel,
    shows: c.shows === null ? "?" : String(c.shows),
    tone,
    note,
    buffer: bufferText(c.buffers),
    lastWrite: ago(c.lastWrite, now),
  };
}

export function blockView(data: BlockData, now: number): BlockView {
  if (data.variants.length === 0) {
    return {
      state: "empty",
      message:
        data.untracked.length > 0
          ? "StockGuard does not track this product's variants yet (give them a SKU, then import the catalog)."
          : "This product has no variants StockGuard tracks.",
    };
  }
  return {
    state: "ready",
    variants: data.variants.map((v) => ({
      heading: v.title ? `${v.title} · ${v.sku}` : v.sku,
      ats: `${v.availableToSell} available to sell`,
      incidents:
        v.openIncidents > 0
          ? {
              label: `${v.openIncidents} open incident${v.openIncidents === 1 ? "" : "s"}`,
              tone: "critical",
            }
          : null,
      link: `app:${v.appPath}`,
      channels: v.channels.map((c) => channelLine(c, now)),
    })),
    footnote:
      data.untracked.length > 0
        ? `${data.untracked.length} variant${data.untracked.length === 1 ? " is" : "s are"} not tracked by StockGuard.`
        : null,
  };
}
