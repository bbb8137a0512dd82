/**
 * Buffer recommendations (issue 18): computes, per SKU and selling channel, the buffer the
 * shop's own demand and measured sync delays call for, each with its explanation; backtests
 * current vs recommended rules on the shop's recent orders; and applies the recommendations the
 * merchant accepted as buffer rules through the rules service — only those, only at the values
 * the merchant saw, each logged. Maths in `domain/recommend/`, SQL in
 * `repositories/recommendations.server.ts`.
 */
import { resolvePolicy } from "../domain/buffers";
import { runBacktest, type Arrival } from "../domain/recommend/backtest";
import {
  assumedDelayMs,
  DELAY_QUANTILES,
  recommendForSku,
  type ChannelProfile,
  type LeadTime,
} from "../domain/recommend/buffers";
import { demandBySku, type Sale } from "../domain/recommend/demand";
import type { BufferKind, BufferRule } from "../domain/types";
import { log } from "../logger.server";
import {
  claimDueKeepers,
  listChanges,
  listSellingChannels,
  loadAtsBySku,
  loadCancellationCounts,
  loadLeadTimes,
  loadListedSkus,
  loadOrderHistory,
  loadPropagationDelays,
  loadSettings,
  loadShopRules,
  loadSkuRules,
  logChanges,
  saveSettings,
  upsertLeadTime,
  type RecommendationChangeRow,
  type RecommendationSettings,
} from "../repositories/recommendations.server";
import { skuInShop } from "../repositories/rules.server";
import { applyRuleChange, createRule } from "./rules.server";

const DAY = 86_400_000;
/** Order history the demand model reads (its longest window). */
const HISTORY_DAYS = 90;
/** Delays kept by push_trace (pruned after 7 days). */
const DELAY_DAYS = 7;
/** Recent orders the backtest replays. */
const BACKTEST_DAYS = 7;
/** Cancellation rates over the last 30 days. */
const CANCEL_DAYS = 30;

export type RecommendationRow = {
  /** `<connection id or "all">|<sku>|<kind>`: what the merchant accepts. */
  key: string;
  sku: string;
  title: string | null;
  ats: number;
  connectionId: string | null;
  channelName: string;
  kind: BufferKind;
  value: number;
  /** The shop's rule of this scope and kind today, if any. */
  current: number | null;
  /** applied: the rule already has this value; change: a rule with another value exists. */
  status: "new" | "change" | "applied";
  race: number;
  safety: number;
  lambdaPerHour: number;
  delayMs: number;
  z: number;
  tailOwner: boolean;
  flash: boolean;
  pooled: boolean;
  /** Expected units oversold per sell-out without the buffer minus with it. */
  oversoldAvoided: number;
  formula: string;
  explanation: string;
};

export type ChannelSummary = {
  id: string;
  name: string;
  kind: string;
  delayMs: number;
  delayMeasured: boolean;
  samples: number;
  cancellationRate: number | null;
};

export type Recommendations = {
  settings: RecommendationSettings;
  channels: ChannelSummary[];
  /** Non-zero recommendations, and zeros where a rule of another value exists. */
  rows: RecommendationRow[];
  skus: number;
  orders: number;
  generatedAt: string;
};

const keyOf = (connectionId: string | null, sku: string, kind: BufferKind) =>
  `${connectionId ?? "all"}|${sku}|${kind}`;

/** Everything the recommendations of one shop are computed from, read once. */
async function loadInputs(shopId: string, now: Date) {
  const [history, delays, channels, cancellations, stock, settings, leadTimes, rules, listed] =
    await Promise.all([
      loadOrderHistory({ shopId, since: new Date(now.getTime() - HISTORY_DAYS * DAY) }),
      loadPropagationDelays({
        shopId,
        since: new Date(now.getTime() - DELAY_DAYS * DAY),
        quantiles: DELAY_QUANTILES,
      }),
      listSellingChannels({ shopId }),
      loadCancellationCounts({ shopId, since: new Date(now.getTime() - CANCEL_DAYS * DAY) }),
      loadAtsBySku({ shopId }),
      loadSettings({ shopId }),
      loadLeadTimes({ shopId }),
      loadSkuRules({ shopId, kinds: ["zero_at_or_below", "reserve_units"] }),
      loadListedSkus({ shopId }),
    ]);
  const delayBy = new Map(delays.map((d) => [d.connectionId, d]));
  const cancelBy = new Map(cancellations.map((c) => [c.connectionId, c]));
  const profiles: ChannelProfile[] = channels.map((c) => {
    const delay = delayBy.get(c.id);
    const cancel = cancelBy.get(c.id);
    return {
      channelId: c.id,
      name: c.name,
      kind: c.kind,
      delayP99Ms: delay ? delay.p99Ms : null,
      delayQuantilesMs: delay ? delay.quantilesMs.map(Number) : null,
      delaySamples: delay?.samples ?? 0,
      // Fewer than 20 lines say little about a rate measured in percent.
      cancellationRate: cancel && cancel.lines >= 20 ? cancel.cancelled / cancel.lines : null,
      // Backorder tolerance is not stored per listing yet: no channel is relaxed.
      toleratesBackorders: false,
    };
  });
  const sales: Sale[] = history.map((h) => ({
    at: h.at.getTime(),
    channelId: h.channelId,
    sku: h.sku,
    units: h.units,
  }));
  const listedBy = new Map<string, Set<string>>();
  for (const l of listed) {
    const set = listedBy.get(l.sku) ?? new Set<string>();
    set.add(l.connectionId);
    listedBy.set(l.sku, set);
  }
  return { sales, profiles, stock, settings, leadTimes, rules, delayBy, listedBy };
}

/** The recommendations of one shop, biggest expected oversells avoided first. */
export async function computeRecommendations(
  shopId: string,
  now: Date = new Date(),
): Promise<Recommendations> {
  const input = await loadInputs(shopId, now);
  const { sales, profiles, stock, settings, leadTimes, rules, listedBy } = input;
  const demand = demandBySku(
    sales,
    { now: now.getTime() },
    stock.map((s) => s.sku),
  );
  const defaultLead = leadTimes.find((l) => l.sku === null) ?? null;
  const leadBy = new Map(leadTimes.filter((l) => l.sku !== null).map((l) => [l.sku!, l]));
  const ruleBy = new Map(rules.map((r) => [keyOf(r.connectionId, r.sku!, r.kind), r.value]));
  const names = new Map(profiles.map((p) => [p.channelId, p.name]));

  const rows: RecommendationRow[] = [];
  for (const item of stock) {
    const d = demand.get(item.sku);
    // Only channels that list the item race for it (and only they can sell its last units).
    const sellers = profiles.filter((p) => listedBy.get(item.sku)?.has(p.channelId));
    if (!d || sellers.length === 0) continue;
    const lead = leadBy.get(item.sku) ?? defaultLead;
    const leadTime: LeadTime | null = lead
      ? { days: lead.days, sdDays: lead.sdDays, supplier: lead.supplier }
      : null;
    const rec = recommendForSku({
      demand: d,
      channels: sellers,
      ats: item.ats,
      serviceLevel: settings.serviceLevel,
      tailOwner: settings.tailOwner,
      leadTime,
    });
    const candidates: RecommendationRow[] = rec.channels.map((r) => ({
      key: keyOf(r.channelId, r.sku, r.kind),
      sku: r.sku,
      title: item.title,
      ats: item.ats,
      connectionId: r.channelId,
      channelName: names.get(r.channelId) ?? r.channelName,
      kind: r.kind,
      value: r.value,
      current: ruleBy.get(keyOf(r.channelId, r.sku, r.kind)) ?? null,
      status: "new",
      race: r.race,
      safety: r.safety,
      lambdaPerHour: r.lambdaPerHour,
      delayMs: r.delayMs,
      z: r.z,
      tailOwner: r.tailOwner,
      flash: r.flash,
      pooled: r.pooled,
      oversoldAvoided: r.oversoldAvoidedPerSellOut,
      formula: r.formula,
      explanation: r.explanation,
    }));
    if (rec.safety) {
      const s = rec.safety;
      candidates.push({
        key: keyOf(null, s.sku, s.kind),
        sku: s.sku,
        title: item.title,
        ats: item.ats,
        connectionId: null,
        channelName: "All channels",
        kind: s.kind,
        value: s.value,
        current: ruleBy.get(keyOf(null, s.sku, s.kind)) ?? null,
        status: "new",
        race: 0,
        safety: s.value,
        lambdaPerHour: d.ratePerHour,
        delayMs: 0,
        z: s.z,
        tailOwner: false,
        flash: d.flash,
        pooled: d.pooled,
        oversoldAvoided: 0,
        formula: s.formula,
        explanation: s.explanation,
      });
    }
    for (const c of candidates) {
      c.status = c.current === null ? "new" : c.current === c.value ? "applied" : "change";
      if (c.value > 0 || (c.current !== null && c.current !== 0)) rows.push(c);
    }
  }
  rows.sort(
    (a, b) =>
      b.oversoldAvoided - a.oversoldAvoided ||
      b.value - a.value ||
      a.sku.localeCompare(b.sku) ||
      a.channelName.localeCompare(b.channelName),
  );
  return {
    settings,
    channels: profiles.map((p) => ({
      id: p.channelId,
      name: p.name,
      kind: p.kind,
      delayMs: p.delayP99Ms ?? assumedDelayMs(p),
      delayMeasured: p.delayP99Ms !== null,
      samples: p.delaySamples,
      cancellationRate: p.cancellationRate,
    })),
    rows,
    skus: stock.length,
    orders: sales.length,
    generatedAt: now.toISOString(),
  };
}

/** The merchant's selection: each recommendation by key, at the value the page showed. */
export type Acceptance = { key: string; value: number };

export class RecommendationChangedError extends Error {
  constructor(readonly keys: string[]) {
    super(
      `${keys.length} recommendation${keys.length === 1 ? " has" : "s have"} changed since the page was loaded; review them again`,
    );
    this.name = "RecommendationChangedError";
  }
}

/**
 * Applies accepted recommendations as buffer rules. Every accepted key must still be
 * recommended at the value the merchant saw, else nothing is applied
 * (`RecommendationChangedError`). Each rule goes through the rules service (scope checks,
 * validation) and is logged with its explanation and the value it replaced; the shop is
 * republished once at the end, even after a failure half-way (what was applied is logged).
 */
export async function applyRecommendations(
  shopId: string,
  accepted: readonly Acceptance[],
  actor: string,
  now: Date = new Date(),
): Promise<{ applied: number; unchanged: number }> {
  const current = await computeRecommendations(shopId, now);
  const byKey = new Map(current.rows.map((r) => [r.key, r]));
  const stale = accepted.filter((a) => byKey.get(a.key)?.value !== a.value).map((a) => a.key);
  if (stale.length > 0) throw new RecommendationChangedError(stale);
  const changes: RecommendationChangeRow[] = [];
  let unchanged = 0;
  try {
    for (const a of new Map(accepted.map((x) => [x.key, x])).values()) {
      const row = byKey.get(a.key)!;
      if (row.current === row.value) {
        unchanged++;
        continue;
      }
      await createRule(
        shopId,
        { connectionId: row.connectionId, sku: row.sku, kind: row.kind, value: row.value },
        { replace: true, republish: false },
      );
      changes.push({
        connectionId: row.connectionId,
        sku: row.sku,
        kind: row.kind,
        value: row.value,
        previousValue: row.current,
        explanation: row.explanation,
        actor,
      });
    }
  } finally {
    await logChanges({ shopId, changes });
    if (changes.length > 0) await applyRuleChange(shopId);
  }
  return { applied: changes.length, unchanged };
}

/**
 * Every recommendation not applied yet, accepted at the value computed now (the page's "accept
 * all" for an operator: `npm run cli -- recommend:apply`). Logged like the page's.
 */
export async function applyAllRecommendations(
  shopId: string,
  actor: string,
  now: Date = new Date(),
): Promise<{ applied: number; unchanged: number; rows: number }> {
  const current = await computeRecommendations(shopId, now);
  const pending = current.rows.filter((r) => r.status !== "applied");
  const result = await applyRecommendations(
    shopId,
    pending.map((r) => ({ key: r.key, value: r.value })),
    actor,
    now,
  );
  return { ...result, rows: current.rows.length };
}

/** How often "keep recommendations applied" re-evaluates a shop. */
export const KEEP_EVERY_MS = 24 * 3_600_000;

/**
 * The opt-in "keep recommendations applied": for each shop due (opted in, not re-evaluated in
 * the last day, claimed atomically so one worker runs it), recomputes the recommendations and
 * applies every one that changed, logged with the actor `auto:daily` like a merchant's accept.
 * One shop's failure does not stop the others (it is tried again the next day).
 */
export async function keepRecommendationsApplied(
  now: Date = new Date(),
): Promise<{ shops: number; applied: number; failed: number }> {
  const due = await claimDueKeepers({ everyMs: KEEP_EVERY_MS, now });
  let applied = 0;
  let failed = 0;
  for (const shopId of due) {
    try {
      applied += (await applyAllRecommendations(shopId, "auto:daily", now)).applied;
    } catch (error) {
      failed++;
      log({ shopId, err: error }).error("keeping recommendations applied failed");
    }
  }
  return { shops: due.length, applied, failed };
}

export async function recentChanges(shopId: string, limit = 20) {
  return listChanges({ shopId, limit });
}

export async function updateSettings(
  shopId: string,
  settings: RecommendationSettings,
): Promise<void> {
  await saveSettings({ shopId, settings });
}

/** Changes only the shop's service level (the other settings stay as saved). */
export async function setServiceLevel(shopId: string, serviceLevel: number): Promise<void> {
  const current = await loadSettings({ shopId });
  await saveSettings({ shopId, settings: { ...current, serviceLevel } });
}

export class UnknownSkuError extends Error {
  constructor(sku: string) {
    super(`no stock item or listing has SKU ${sku}`);
    this.name = "UnknownSkuError";
  }
}

/** Sets the lead time of a SKU (or, with `sku` null, the shop default). */
export async function setLeadTime(
  shopId: string,
  input: { sku: string | null; supplier: string | null; days: number; sdDays: number },
): Promise<void> {
  if (input.sku !== null && !(await skuInShop({ shopId, sku: input.sku }))) {
    throw new UnknownSkuError(input.sku);
  }
  await upsertLeadTime({ shopId, ...input });
}

export type BacktestSummary = {
  days: number;
  orders: number;
  current: { oversoldUnits: number; hiddenShare: number; hiddenUnitMinutes: number };
  recommended: { oversoldUnits: number; hiddenShare: number; hiddenUnitMinutes: number };
};

/**
 * Replays the shop's last `BACKTEST_DAYS` of orders against its current rules and against the
 * current rules with every recommendation applied: each channel learns of another's sale after
 * its measured median delay (p99 where only that is known), stock starts at today's ATS plus
 * what sold since (no restocks). Recorded orders are what was bought when shown, so this
 * understates demand on SKUs that sold out.
 */
export async function backtestShop(
  shopId: string,
  now: Date = new Date(),
): Promise<BacktestSummary> {
  const [rec, input, rules] = await Promise.all([
    computeRecommendations(shopId, now),
    loadInputs(shopId, now),
    loadShopRules({ shopId }),
  ]);
  const start = now.getTime() - BACKTEST_DAYS * DAY;
  const arrivals: Arrival[] = input.sales
    .filter((s) => s.at > start && s.at <= now.getTime())
    .map((s) => ({ ...s, at: s.at - start }));
  const sold = new Map<string, number>();
  for (const a of arrivals) sold.set(a.sku, (sold.get(a.sku) ?? 0) + a.units);
  const stock: Record<string, number> = {};
  for (const s of input.stock) stock[s.sku] = Math.max(0, s.ats) + (sold.get(s.sku) ?? 0);
  const channels = input.profiles.map((p) => {
    const d = input.delayBy.get(p.channelId);
    return { id: p.channelId, inMs: 0, outMs: d ? d.p50Ms : assumedDelayMs(p) };
  });
  const recommendedRules: BufferRule[] = rules.filter(
    (r) =>
      !rec.rows.some(
        (x) => x.connectionId === r.connectionId && x.sku === r.sku && x.kind === r.kind,
      ),
  );
  for (const r of rec.rows) {
    recommendedRules.push({
      id: `rec-${r.key}`,
      connectionId: r.connectionId,
      sku: r.sku,
      kind: r.kind,
      value: r.value,
    });
  }
  const run = (set: readonly BufferRule[]) => {
    const result = runBacktest({
      stock,
      channels,
      arrivals: arrivals.filter((a) => a.sku in stock),
      horizonMs: BACKTEST_DAYS * DAY,
      mode: { kind: "event", jitter: 0.5, seed: 1 },
      policy: (connectionId, sku) => resolvePolicy(set, { connectionId, sku }),
    });
    return {
      oversoldUnits: result.oversoldUnits,
      hiddenShare: result.hiddenShare,
      hiddenUnitMinutes: Math.round(result.hiddenUnitMinutes),
    };
  };
  return {
    days: BACKTEST_DAYS,
    orders: arrivals.length,
    current: run(rules),
    recommended: run(recommendedRules),
  };
}
