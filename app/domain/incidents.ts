/**
 * Oversell incidents: how much of an item is really oversold (its physical shortfall), when a
 * shortfall seen by the ledger is confirmed (settling), and why it happened — one of the five
 * causes the merchant reads about, decided from stored evidence. Pure: callers load the facts.
 *
 * A shortfall is *provisional* when first seen: events still in flight (a cancel's restock, a
 * late receipt, a count about to be corrected) may explain it. Once the item has settled, its
 * shortfall is compared with what was already confirmed for it, and only the growth becomes
 * confirmed units (`settleItem`): settling is a function of the settled state, so duplicate and
 * reordered deliveries, which end in the same state, confirm the same units.
 */
import type { LevelFacts } from "./types";

/**
 * The five causes of overselling, plus `unknown` (always with a stated reason):
 * - `sync_delay`: a channel sold after StockGuard had received the other sale (and lowered, or
 *   was about to lower, the quantity) but before the change was written to it (write time after
 *   sale time);
 * - `simultaneous_channels`: sales on two channels inside one sync window — the other sale had
 *   not reached StockGuard when this one happened, every write was current — and no buffer was
 *   held back from the selling channel;
 * - `low_buffer`: as above, but a buffer was held back and it was below the demand in the window;
 * - `allocation_error`: stock taken away below what was already sold (a count or adjustment at
 *   the source, a write-off, a failed inspection, an approved cycle count), a bundle component;
 * - `integration_failure`: the selling channel's writes failed, were throttled or paused, the
 *   channel showed more than we wrote, reconcile found drift, a subscription was missing, or it
 *   sold something StockGuard had no listing for (unmatched SKU).
 */
export const ROOT_CAUSES = [
  "sync_delay",
  "simultaneous_channels",
  "low_buffer",
  "allocation_error",
  "integration_failure",
  "unknown",
] as const;
export type RootCause = (typeof ROOT_CAUSES)[number];

/** Movement kinds that take physical or sellable stock away (not sales). */
const STOCK_CORRECTIONS = new Set([
  "on_hand_counted",
  "manual_adjustment",
  "inspection_failed",
  "written_off",
  "unsellable_set",
  "cycle_counted",
]);

/**
 * Physically sellable units of an item: on hand less committed, held and damaged, summed over
 * its source locations. Safety stock is the merchant's own margin: selling into it is no
 * oversell, so it is not subtracted here.
 */
export function sellable(levels: readonly LevelFacts[]): number {
  let total = 0;
  for (const l of levels) total += l.onHand - l.committed - l.held - l.damaged;
  return total;
}

/** Units sold beyond physical stock: max(0, −sellable). */
export function shortfallOf(levels: readonly LevelFacts[]): number {
  return Math.max(0, -sellable(levels));
}

/** Growth of the shortfall when sellable units move from `before` to `after`. */
export function shortfallGrowth(before: number, after: number): number {
  return Math.max(0, Math.max(0, -after) - Math.max(0, -before));
}

/**
 * A change made by the merchant in the admin or CLI (an adjustment, a count, safety stock):
 * their decision, never an oversell incident of a channel (issue 17).
 */
export function isMerchantChange(kind: string, actor: string): boolean {
  return (
    (STOCK_CORRECTIONS.has(kind) || kind === "safety_stock_set" || kind === "unsellable_set") &&
    (actor.startsWith("admin") || actor === "cli" || actor.startsWith("cli:"))
  );
}

export type ProvisionalShortfall = {
  id: string;
  /** Units this effect added to the shortfall when it was applied (in arrival order). */
  shortfall: number;
  /** When the sale happened on its channel (ms); the latest sales are the ones that oversold. */
  saleAt: number;
  merchant: boolean;
};

export type Settlement = {
  confirm: { id: string; units: number; merchant: boolean }[];
  explain: string[];
  /** The item's confirmed shortfall after this settlement (the new watermark). */
  confirmedShortfall: number;
};

/**
 * Settles one item: `shortfall` is its physical shortfall now that nothing is in flight,
 * `confirmedBefore` what earlier settlements confirmed (lowered again when stock covered it).
 * The growth is confirmed on the provisional rows, latest sale first (in reality the last sales
 * are the ones beyond the stock, whatever order the deliveries arrived in), each up to its own
 * shortfall; anything left goes to the latest row. Rows given nothing are explained away.
 */
export function settleItem(input: {
  shortfall: number;
  confirmedBefore: number;
  provisional: readonly ProvisionalShortfall[];
}): Settlement {
  const growth = Math.max(0, input.shortfall - input.confirmedBefore);
  const rows = [...input.provisional].sort(
    (a, b) => b.saleAt - a.saleAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
  const confirm: Settlement["confirm"] = [];
  const explain: string[] = [];
  let remaining = growth;
  for (const row of rows) {
    const units = Math.min(Math.max(0, row.shortfall), remaining);
    if (units > 0) {
      confirm.push({ id: row.id, units, merchant: row.merchant });
      remaining -= units;
    } else explain.push(row.id);
  }
  if (remaining > 0 && rows.length > 0) {
    const first = confirm[0];
    if (first) first.units += remaining;
    else {
      const latest = rows[0]!;
      explain.splice(explain.indexOf(latest.id), 1);
      confirm.unshift({ id: latest.id, units: remaining, merchant: latest.merchant });
    }
  }
  return { confirm, explain, confirmedShortfall: Math.max(0, input.shortfall) };
}

/** One sale of the item on some channel, as the ledger saw it. */
export type SaleFact = {
  connectionId: string;
  /** The channel's own time of the sale (ms). */
  saleAt: number;
  /** When its event reached StockGuard (ms; the receipt), null when unknown. */
  receivedAt?: number | null;
  /** When StockGuard applied it (ms); null if never. */
  appliedAt: number | null;
  units: number;
  /** When the change it caused was written to each other connection (ms), when it was. */
  writtenAt: Record<string, number>;
};

export type CauseFacts = {
  movementKind: string;
  /** The sale (or change) that is oversold; null for a stock change without a channel. */
  sale: SaleFact | null;
  /** What the selling channel's listing was showing when the shortfall was seen. */
  selling: {
    published: number;
    pushed: number | null;
    remote: number | null;
    /** Units of the item one sale of this listing consumes, and how many items it has. */
    componentCount: number;
  } | null;
  /** The selling channel has a listing for the item (false: sold something unmatched). */
  listed: boolean;
  connectionStatus: string | null;
  /** Write, throttle, auth and subscription failures open on the selling channel at the sale. */
  failures: { kind: string; reason: string; at: number }[];
  /** Drift reconcile found on the selling channel's listing of the item before the sale. */
  drift: { expected: number; observed: number; cause: string; at: number }[];
  /** Sales of the item on other channels around the sale. */
  otherSales: SaleFact[];
  /** Units held back from the selling channel by buffer rules when it sold. */
  bufferHeldBack: number;
};

export type Classification = { cause: RootCause; evidence: Record<string, unknown> };

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/**
 * When `sale`'s change first reached `connectionId`: its own push trace, or else the first write
 * there, carrying any sale, made after it was applied (a push writes the ledger's state at the
 * time, so it carries every sale applied before it; a sale whose write was coalesced into
 * another's has no trace of its own). Null when no such write is known.
 */
function firstWriteWith(
  sale: SaleFact,
  connectionId: string,
  sales: readonly SaleFact[],
): number | null {
  const own = sale.writtenAt[connectionId];
  if (own !== undefined) return own;
  if (sale.appliedAt === null) return null;
  let first: number | null = null;
  for (const s of sales) {
    const at = s.writtenAt[connectionId];
    if (at !== undefined && at >= sale.appliedAt && (first === null || at < first)) first = at;
  }
  return first;
}

/** The root cause of one confirmed oversell and the evidence that decided it. */
export function classifyIncident(f: CauseFacts): Classification {
  if (STOCK_CORRECTIONS.has(f.movementKind)) {
    return {
      cause: "allocation_error",
      evidence: {
        kind: "stock_taken_below_sold",
        movementKind: f.movementKind,
        reason: "stock was counted, adjusted or written off below what was already sold",
      },
    };
  }
  if (f.sale && !f.listed) {
    return {
      cause: "integration_failure",
      evidence: {
        kind: "unmatched",
        reason: "the channel sold a SKU StockGuard has no listing for there",
      },
    };
  }
  if (f.connectionStatus && f.connectionStatus !== "active") {
    return {
      cause: "integration_failure",
      evidence: {
        kind: "channel_not_syncing",
        status: f.connectionStatus,
        reason: `writes to the channel were ${f.connectionStatus}`,
      },
    };
  }
  if (f.failures.length > 0) {
    return {
      cause: "integration_failure",
      evidence: {
        kind: "write_failures",
        failures: f.failures.map((x) => ({ kind: x.kind, reason: x.reason, at: iso(x.at) })),
        reason: "writes to the selling channel were failing when it sold",
      },
    };
  }
  if (f.selling && f.selling.remote !== null && f.selling.pushed !== null) {
    if (f.selling.remote > f.selling.pushed)
      return {
        cause: "integration_failure",
        evidence: {
          kind: "channel_showed_more",
          shown: f.selling.remote,
          written: f.selling.pushed,
          reason:
            "the channel showed more than StockGuard last wrote (a write that never landed or an edit there)",
        },
      };
  }
  if (f.drift.length > 0) {
    return {
      cause: "integration_failure",
      evidence: {
        kind: "drift",
        drift: f.drift.map((d) => ({ ...d, at: iso(d.at) })),
        reason: "reconcile found the channel showing a different quantity",
      },
    };
  }
  // Pairs of sales on different channels where the later channel did not yet show the earlier sale.
  const sale = f.sale;
  if (sale) {
    const delayed: Record<string, unknown>[] = [];
    const concurrent: Record<string, unknown>[] = [];
    for (const other of f.otherSales) {
      if (other.connectionId === sale.connectionId) continue;
      const [first, second] = other.saleAt <= sale.saleAt ? [other, sale] : [sale, other];
      const written = firstWriteWith(first, second.connectionId, [sale, ...f.otherSales]);
      if (written !== null && written <= second.saleAt) continue;
      const pair = {
        firstSale: { connectionId: first.connectionId, at: iso(first.saleAt), units: first.units },
        secondSale: {
          connectionId: second.connectionId,
          at: iso(second.saleAt),
          units: second.units,
        },
        firstReceived: iso(first.receivedAt),
        firstApplied: iso(first.appliedAt),
        writtenToSecond: iso(written),
      };
      // StockGuard knew of the first sale once its event reached it (then applied, then wrote).
      const known = first.receivedAt ?? first.appliedAt;
      if (known !== null && known <= second.saleAt)
        delayed.push({ ...pair, lagMs: written === null ? null : written - known });
      else concurrent.push(pair);
    }
    if (delayed.length > 0)
      return {
        cause: "sync_delay",
        evidence: {
          kind: "write_after_sale",
          pairs: delayed,
          reason:
            "StockGuard had lowered the quantity but not yet written it when the channel sold",
        },
      };
    if (concurrent.length > 0) {
      const demand = f.otherSales
        .filter((o) => o.connectionId !== sale.connectionId)
        .reduce((s, o) => s + o.units, sale.units);
      const channels = new Set([sale.connectionId, ...f.otherSales.map((o) => o.connectionId)]);
      const evidence = {
        pairs: concurrent,
        channels: channels.size,
        demandInWindow: demand,
        bufferHeldBack: f.bufferHeldBack,
      };
      return f.bufferHeldBack > 0
        ? {
            cause: "low_buffer",
            evidence: {
              kind: "buffer_below_demand",
              ...evidence,
              reason: `a buffer of ${f.bufferHeldBack} was below the ${demand} units sold inside one sync window`,
            },
          }
        : {
            cause: "simultaneous_channels",
            evidence: {
              kind: "sales_inside_sync_window",
              ...evidence,
              reason:
                "two channels sold the last units inside one sync window with no buffer held back",
            },
          };
    }
  }
  if (f.selling && f.selling.componentCount > 1) {
    return {
      cause: "allocation_error",
      evidence: {
        kind: "bundle_component",
        reason: "a bundle consumed a component that was already sold",
      },
    };
  }
  return {
    cause: "unknown",
    evidence: {
      kind: "unexplained",
      reason: sale
        ? "no other sale, failed write, drift or stock change explains it"
        : "the shortfall came from a change without a sale or channel",
    },
  };
}
