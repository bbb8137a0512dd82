/**
 * Settling oversell incidents: an item whose provisional shortfalls are older than the settle
 * window, with nothing of its shop in flight (no pending receipt, no recent movement of the
 * item, no source level waiting for a read), is settled under its lock: its physical shortfall
 * now is compared with what earlier settlements confirmed, the growth is confirmed on the
 * provisional rows (latest sale first) with a root cause decided from stored evidence, the rest
 * explained away. When the stock covers every sold unit again, the item's incidents resolve.
 * Runs from the sweeper (every 5 s) and on demand (tests, CLI).
 */
import { resolvePolicy, publishedQuantity } from "../../domain/buffers";
import {
  classifyIncident,
  settleItem,
  type CauseFacts,
  type SaleFact,
} from "../../domain/incidents";
import type { BufferKind } from "../../domain/types";
import { env } from "../../env.server";
import { metrics } from "../../lib/metrics.server";
import { log } from "../../logger.server";
import * as incidents from "../../repositories/incidents.server";
import { transaction, type Tx } from "../../repositories/tx.server";
import { recordOversellTrigger } from "../flow/triggers.server";

/** Sales of the item this close to an oversold sale are looked at for its cause. */
export const CAUSE_LOOKBACK_MS = 5 * 60_000;

export type SettleOutcome = {
  settled: number;
  deferred: number;
  confirmed: { id: bigint; itemId: string; shopId: string; units: number; cause: string }[];
  explained: number;
};

export async function settleIncidents(
  options: { settleMs?: number; shopId?: string } = {},
): Promise<SettleOutcome> {
  const settleMs = options.settleMs ?? env().INCIDENT_SETTLE_MS;
  const items = await incidents.itemsToSettle(settleMs, 500, options.shopId);
  const outcome: SettleOutcome = { settled: 0, deferred: 0, confirmed: [], explained: 0 };
  const busyShops = new Map<string, boolean>();
  for (const item of items) {
    // A shop with receipts in flight settles nothing yet: skip its items without locking them.
    if (!busyShops.has(item.shopId))
      busyShops.set(item.shopId, (await incidents.pendingReceiptsOfShop(item.shopId)) > 0);
    if (busyShops.get(item.shopId)) {
      outcome.deferred++;
      continue;
    }
    const result = await transaction((tx) => settleOne(tx, item, settleMs));
    if (result === "deferred") outcome.deferred++;
    else if (result) {
      outcome.settled++;
      outcome.confirmed.push(...result.confirmed);
      outcome.explained += result.explained;
    }
  }
  const units = outcome.confirmed.reduce((s, c) => s + c.units, 0);
  if (outcome.confirmed.length > 0 || outcome.explained > 0)
    log({ confirmed: outcome.confirmed.length, units, explained: outcome.explained }).info(
      "oversell incidents settled",
    );
  return outcome;
}

async function settleOne(
  tx: Tx,
  item: { shopId: string; itemId: string },
  settleMs: number,
): Promise<"deferred" | null | { confirmed: SettleOutcome["confirmed"]; explained: number }> {
  const state = await incidents.lockItemForSettle(tx, item.itemId, settleMs);
  if (!state) return null;
  if (state.pendingReceipts > 0 || state.recentMovements > 0 || state.flaggedLevels > 0)
    return "deferred";
  const rows = await incidents.provisionalIncidents(tx, item.itemId);
  const shortfall = Math.max(0, -state.sellable);
  if (rows.length === 0 && shortfall >= state.confirmedShortfall) return null;
  const settlement = settleItem({
    shortfall,
    confirmedBefore: state.confirmedShortfall,
    provisional: rows.map((r) => ({
      id: r.id.toString(),
      shortfall: r.shortfall,
      saleAt: r.saleAt.getTime(),
      merchant: r.merchant,
    })),
  });
  const confirmed: SettleOutcome["confirmed"] = [];
  for (const c of settlement.confirm) {
    const id = BigInt(c.id);
    if (c.merchant) {
      await incidents.confirmIncident(tx, {
        id,
        units: c.units,
        status: "merchant_decision",
        cause: "allocation_error",
        evidence: { kind: "merchant_decision", reason: "the merchant's own change in the admin" },
      });
      continue;
    }
    const { cause, evidence } = await decideCause(tx, id, c.units);
    await incidents.confirmIncident(tx, {
      id,
      units: c.units,
      status: "confirmed",
      cause,
      evidence,
    });
    // Shopify Flow "Oversell incident confirmed" (outbox row, commits with the confirmation).
    await recordOversellTrigger(tx, {
      id,
      shopId: item.shopId,
      itemId: item.itemId,
      units: c.units,
      cause,
    });
    confirmed.push({ id, itemId: item.itemId, shopId: item.shopId, units: c.units, cause });
    metrics().oversells.inc(c.units);
  }
  const explained = await incidents.explainIncidents(
    tx,
    settlement.explain.map((id) => BigInt(id)),
  );
  await incidents.saveSettlement(tx, {
    shopId: item.shopId,
    itemId: item.itemId,
    confirmedShortfall: settlement.confirmedShortfall,
  });
  if (shortfall === 0) await incidents.resolveCovered(tx, item.itemId);
  return { confirmed, explained };
}

/** Loads what one confirmed incident's cause is decided from, and decides it. */
export async function decideCause(
  tx: Tx,
  id: bigint,
  units: number,
): Promise<{ cause: string; evidence: Record<string, unknown> }> {
  const row = await incidents.incidentFacts(tx, id);
  if (!row)
    return { cause: "unknown", evidence: { kind: "unexplained", reason: "incident not found" } };
  const snapshot = Array.isArray(row.snapshot) ? row.snapshot : [];
  const selling = row.connectionId
    ? (snapshot.find((l) => l.connectionId === row.connectionId) ?? null)
    : null;
  const around = await incidents.salesAround(tx, {
    itemId: row.itemId,
    at: row.saleAt,
    windowMs: CAUSE_LOOKBACK_MS,
  });
  const toSale = (s: (typeof around)[number]): SaleFact => ({
    connectionId: s.connectionId,
    saleAt: s.saleAt.getTime(),
    receivedAt: s.receivedAt?.getTime() ?? null,
    appliedAt: s.appliedAt.getTime(),
    units: s.units,
    writtenAt: Object.fromEntries(
      Object.entries(s.writtenAt ?? {}).map(([k, v]) => [
        k,
        new Date(`${v}`.endsWith("Z") ? v : `${v}Z`).getTime(),
      ]),
    ),
  });
  const own = around.find((s) => row.receiptId !== null && s.receiptId === row.receiptId);
  const sale: SaleFact | null = row.connectionId
    ? own
      ? toSale(own)
      : {
          connectionId: row.connectionId,
          saleAt: row.saleAt.getTime(),
          appliedAt: row.appliedAt?.getTime() ?? null,
          units: row.units,
          writtenAt: {},
        }
    : null;
  const others = around.filter((s) => s !== own && s.connectionId !== row.connectionId).map(toSale);
  const failures = row.connectionId
    ? await incidents.failuresAt(tx, row.connectionId, row.saleAt)
    : [];
  const drift = row.connectionId
    ? await incidents.driftBefore(tx, {
        connectionId: row.connectionId,
        itemId: row.itemId,
        at: row.saleAt,
      })
    : [];
  let bufferHeldBack = 0;
  if (row.connectionId && selling) {
    const rules = await incidents.bufferRulesFor(tx, {
      shopId: row.shopId,
      connectionId: row.connectionId,
      sku: row.sku,
    });
    const policy = resolvePolicy(
      rules.map((r, i) => ({
        id: String(i),
        connectionId: null,
        sku: null,
        kind: r.kind as BufferKind,
        value: r.value,
      })),
      { connectionId: row.connectionId, sku: row.sku },
    );
    // The pool at the start of the window: what the sales in it used, less what was oversold.
    const demand = (sale?.units ?? 0) + others.reduce((s, o) => s + o.units, 0);
    const pool = Math.max(0, demand - units);
    bufferHeldBack =
      pool > 0 ? pool - publishedQuantity(pool, policy) : (policy.reserve_units?.value ?? 0);
  }
  const facts: CauseFacts = {
    movementKind: row.movementKind,
    sale,
    selling: selling
      ? {
          published: selling.published,
          pushed: selling.pushed,
          // What the channel showed counts only if seen after our last write (else it is stale).
          remote: observedAfterWrite(selling) ? selling.remote : null,
          componentCount: selling.components ?? 1,
        }
      : null,
    listed: row.connectionId === null || selling !== null,
    connectionStatus: row.connectionStatus,
    failures: failures.map((f) => ({ kind: f.kind, reason: f.reason, at: f.at.getTime() })),
    drift: drift.map((d) => ({ ...d, at: d.at.getTime() })),
    otherSales: others,
    bufferHeldBack,
  };
  const decided = classifyIncident(facts);
  return {
    cause: decided.cause,
    evidence: { ...decided.evidence, saleAt: row.saleAt.toISOString(), units },
  };
}

/**
 * Whether what a channel showed can be compared with what we wrote: seen after our last write,
 * and not the source store (its available is moved between states, not written absolute, and
 * its observed levels carry its own sales: decision 0003).
 */
function observedAfterWrite(listing: {
  role?: string;
  lastPushedAt?: string | null;
  remoteObservedAt?: string | null;
}): boolean {
  if (listing.role === "source") return false;
  if (!listing.lastPushedAt || !listing.remoteObservedAt) return true;
  return Date.parse(listing.remoteObservedAt) >= Date.parse(listing.lastPushedAt);
}
