/**
 * Recommended buffers, explained: the race buffer per channel (units the other channels are
 * likely to sell while this channel still shows the old quantity), safety stock per SKU against
 * replenishment, and the service level per channel (tightened near a marketplace's
 * cancellation-rate limit, relaxed where the channel takes backorders). Pure maths; the numbers
 * and the words that explain them come out together.
 */
import type { ChannelKind } from "../types";
import { otherChannelsRate, type SkuDemand } from "./demand";
import { normalQuantile, poissonExcess } from "./stats";

const HOUR = 3_600_000;

/**
 * Seller cancellation (defect) rate a marketplace tolerates before it acts on the account:
 * Amazon 2.5 % (seller-cancel rate), Walmart 2 %, eBay 2 % (transaction defect rate). A
 * Shopify store of the merchant's own has no platform limit.
 */
export const CANCELLATION_LIMITS: Record<ChannelKind, number | null> = {
  amazon: 0.025,
  walmart: 0.02,
  ebay: 0.02,
  shopify: null,
};

/** The z of a one-sided service level (0.95 → 1.645). */
export function zFor(serviceLevel: number): number {
  return normalQuantile(serviceLevel);
}

/** One point of a channel's measured delay distribution: this delay, with this probability. */
export type DelayPoint = { ms: number; weight: number };

/**
 * Quantile levels of the measured delays the race is computed over (`delayPoints`): deciles up
 * to the p90, then the p95 and the p99.
 */
export const DELAY_QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99] as const;

/**
 * The delay distribution as weighted points, from its quantiles at DELAY_QUANTILES (in that
 * order): each bin between two levels is represented by its upper end, so every delay in it is
 * taken as at least as long as it was; the last 5 % by the p99. A single delay (assumed, or
 * every sample equal) is one point of weight 1.
 */
export function delayPoints(quantilesMs: readonly number[]): DelayPoint[] {
  if (quantilesMs.length !== DELAY_QUANTILES.length)
    throw new RangeError(`expected ${DELAY_QUANTILES.length} delay quantiles`);
  const points: DelayPoint[] = [];
  let below = 0;
  for (const [i, level] of DELAY_QUANTILES.entries()) {
    const upTo = i === DELAY_QUANTILES.length - 1 ? 1 : level;
    // Monotone even if the quantiles given are not (rounding): a bin never shorter than the last.
    const ms = Math.max(0, quantilesMs[i]!, points.at(-1)?.ms ?? 0);
    const last = points.at(-1);
    if (last && last.ms === ms) last.weight += upTo - below;
    else points.push({ ms, weight: upTo - below });
    below = upTo;
  }
  return points;
}

/**
 * Expected oversells on this channel (c) per sell-out of the SKU with `buffer` units held back
 * (c shows 0 at or below the buffer), weighed over its delays D. The sale that takes the stock
 * down to the buffer leaves c showing stock until D later; if the last `buffer` units go before
 * then (Γ, the time they take to sell on any channel), c shows stock that is gone for D − Γ,
 * and each buyer of c in that time is an oversell: λc·E[(D − Γ)⁺] = share·E[(N − b)⁺], N the
 * sales of every channel within D (Poisson, mean λ·D), share = λc/λ. With no buffer, the last
 * unit's own sale leaves c showing 0: only the 1 − share sold elsewhere open the window, so
 * b = 0 counts share·(1 − share)·λD (never less than b = 1 asks, so the risk falls with b).
 * Errs high: c's own sales inside the window lower what it shows, and c oversells at most that.
 * Bursty demand (dispersion > 1) is taken as that many times the other channels' rate. 0 when
 * no other channel sells the SKU or nobody buys it here; increasing in either rate, the delays
 * and the dispersion; decreasing in the buffer.
 */
export function raceRisk(input: {
  ratePerHour: number;
  delays: readonly DelayPoint[];
  buffer: number;
  ownRatePerHour: number;
  dispersion?: number;
}): number {
  const others = Math.max(0, input.ratePerHour) * Math.max(1, input.dispersion ?? 1);
  const own = Math.max(0, input.ownRatePerHour);
  if (!(others > 0) || !(own > 0)) return 0;
  const total = others + own;
  const share = own / total;
  const b = Math.max(0, Math.floor(input.buffer));
  let risk = 0;
  for (const { ms, weight } of input.delays) {
    if (weight <= 0 || !(ms > 0)) continue;
    const mean = (total * ms) / HOUR;
    const beyond = share * poissonExcess(mean, Math.max(1, b));
    risk += weight * (b === 0 ? Math.max(share * (1 - share) * mean, beyond) : beyond);
  }
  return risk;
}

/**
 * Race buffer: the fewest units to hold back so that `raceRisk` (expected oversells here per
 * sell-out) stays within the accepted risk 1 − Φ(z), weighed over the measured delays (`delays`,
 * or the single `delayMs`), so a p99 that is rare costs only its share. Monotone in both rates,
 * the delays, z and the dispersion; 0 without demand elsewhere or here; never negative.
 */
export function raceBuffer(input: {
  ratePerHour: number;
  delayMs?: number;
  delays?: readonly DelayPoint[];
  z: number;
  dispersion?: number;
  ownRatePerHour: number;
}): number {
  const delays = input.delays ?? [{ ms: input.delayMs ?? 0, weight: 1 }];
  const accepted = 1 - standardNormalCdf(input.z);
  const risk = (buffer: number) => raceRisk({ ...input, delays, buffer });
  if (risk(0) <= accepted) return 0;
  // Doubling, then bisection: risk(lo) > accepted ≥ risk(hi).
  let lo = 0;
  let hi = 1;
  while (risk(hi) > accepted) {
    lo = hi;
    hi *= 2;
    if (hi > 1e9) return hi;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (risk(mid) > accepted) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Safety stock against replenishment: `ceil(z·√(L·σd² + d̄²·σL²))` with L and σL the lead time
 * and its standard deviation (days), d̄ and σd² the daily demand's mean and variance.
 */
export function safetyStock(input: {
  dailyMean: number;
  dailyVariance: number;
  leadTimeDays: number;
  leadTimeSdDays: number;
  z: number;
}): number {
  const l = Math.max(0, input.leadTimeDays);
  const v =
    l * Math.max(0, input.dailyVariance) +
    Math.max(0, input.dailyMean) ** 2 * Math.max(0, input.leadTimeSdDays) ** 2;
  if (!(v > 0) || input.z <= 0) return 0;
  return Math.ceil(input.z * Math.sqrt(v) - 1e-9);
}

/** Φ(z), by the complementary error function (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7). */
export function standardNormalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export type ChannelProfile = {
  channelId: string;
  name: string;
  kind: ChannelKind;
  /** p99 of the measured propagation delay (sale anywhere → this channel shows it), or null. */
  delayP99Ms: number | null;
  /**
   * The measured delays' quantiles at DELAY_QUANTILES (the race is weighed over their spread);
   * without them the p99 stands for every delay.
   */
  delayQuantilesMs?: readonly number[] | null;
  delaySamples: number;
  /** Share of this channel's recent order lines cancelled, or null when unknown. */
  cancellationRate: number | null;
  /** The channel keeps selling at zero (backorders): an oversell there costs little. */
  toleratesBackorders: boolean;
};

export type ServiceLevel = { level: number; z: number; reason: string };

/**
 * The service level one channel gets: the shop's, raised to 99 % on a marketplace with a
 * cancellation limit, to 99.9 % once its measured rate is past half that limit; lowered to 80 %
 * where the channel takes backorders.
 */
export function serviceLevelFor(base: number, channel: ChannelProfile): ServiceLevel {
  const limit = CANCELLATION_LIMITS[channel.kind];
  let level = base;
  let reason = `shop service level ${pct(base)}`;
  if (channel.toleratesBackorders) {
    level = Math.min(base, 0.8);
    reason = `${pct(level)}: ${channel.name} takes backorders`;
  } else if (limit !== null) {
    const rate = channel.cancellationRate;
    if (rate !== null && rate >= limit / 2) {
      level = Math.max(base, 0.999);
      reason = `${pct(level)}: ${channel.name} cancels ${pct(rate)} of lines, limit ${pct(limit)}`;
    } else {
      level = Math.max(base, 0.99);
      reason = `${pct(level)}: ${channel.name} suspends sellers above ${pct(limit)} cancellations`;
    }
  }
  return { level, z: zFor(level), reason };
}

/** Delay assumed for a channel with no measurement yet, by how its writes are confirmed. */
export function assumedDelayMs(channel: Pick<ChannelProfile, "kind">): number {
  // Queued marketplace writes (Amazon feeds/listings, Walmart feeds ~30 min) vs. direct writes.
  if (channel.kind === "walmart") return 30 * 60_000;
  if (channel.kind === "amazon") return 15 * 60_000;
  if (channel.kind === "ebay") return 60_000;
  return 5_000;
}

export type ChannelRecommendation = {
  channelId: string;
  channelName: string;
  sku: string;
  /** The buffer rule it becomes: show 0 at or below `value` units of ATS. */
  kind: "zero_at_or_below";
  value: number;
  race: number;
  safety: number;
  lambdaPerHour: number;
  delayMs: number;
  delayMeasured: boolean;
  serviceLevel: number;
  z: number;
  /** Expected units oversold at each sell-out without the buffer, minus with it. */
  oversoldAvoidedPerSellOut: number;
  flash: boolean;
  pooled: boolean;
  /** This channel sells the last units (no race buffer; see `recommendForSku`). */
  tailOwner: boolean;
  formula: string;
  explanation: string;
};

export type SafetyRecommendation = {
  sku: string;
  kind: "reserve_units";
  value: number;
  leadTimeDays: number;
  leadTimeSdDays: number;
  dailyMean: number;
  dailySd: number;
  z: number;
  formula: string;
  explanation: string;
};

export type LeadTime = { days: number; sdDays: number; supplier?: string | null };

/**
 * The recommendations for one SKU: per channel its race buffer (plus the safety stock, so the
 * channel shows 0 before the race can eat into it), and the safety stock itself when the SKU
 * has a lead time. Capped at the SKU's ATS (a buffer beyond what exists hides nothing more).
 */
export function recommendForSku(input: {
  demand: SkuDemand;
  channels: readonly ChannelProfile[];
  ats: number;
  serviceLevel: number;
  leadTime?: LeadTime | null;
  /**
   * Leave the last units to one channel (the fastest, then the busiest): it keeps no race
   * buffer, every other channel shows 0 once the race on its side could reach them. Without it
   * every channel holds back its race buffer and the last units sell nowhere.
   */
  tailOwner?: boolean;
}): { channels: ChannelRecommendation[]; safety: SafetyRecommendation | null } {
  const { demand } = input;
  const cap = Math.max(0, input.ats);
  const base = zFor(input.serviceLevel);
  let safety: SafetyRecommendation | null = null;
  if (input.leadTime && input.leadTime.days > 0) {
    const needed = safetyStock({
      dailyMean: demand.dailyMean,
      dailyVariance: demand.dailyVariance,
      leadTimeDays: input.leadTime.days,
      leadTimeSdDays: input.leadTime.sdDays,
      z: base,
    });
    const value = Math.min(cap, needed);
    const dailySd = Math.sqrt(demand.dailyVariance);
    safety = {
      sku: demand.sku,
      kind: "reserve_units",
      value,
      leadTimeDays: input.leadTime.days,
      leadTimeSdDays: input.leadTime.sdDays,
      dailyMean: demand.dailyMean,
      dailySd,
      z: base,
      formula: `z·√(L·σd² + d̄²·σL²) = ${fmt(base)}·√(${fmt(input.leadTime.days)}·${fmt(dailySd)}² + ${fmt(demand.dailyMean)}²·${fmt(input.leadTime.sdDays)}²)`,
      explanation:
        `d̄=${fmt(demand.dailyMean)}/day, σd=${fmt(dailySd)}, L=${fmt(input.leadTime.days)} d ± ${fmt(input.leadTime.sdDays)}, z=${fmt(base)} → ${units(value)}` +
        ` held back on every channel against a late or short delivery` +
        (input.leadTime.supplier ? ` from ${input.leadTime.supplier}` : "") +
        (needed > cap ? ` (${units(needed)} needed, capped at the ${units(cap)} available)` : ""),
    };
  }
  const safetyUnits = safety?.value ?? 0;

  const inputs = input.channels.map((channel) => {
    const service = serviceLevelFor(input.serviceLevel, channel);
    const delayMeasured = channel.delayP99Ms !== null && channel.delaySamples > 0;
    const delayMs = delayMeasured ? channel.delayP99Ms! : assumedDelayMs(channel);
    const delays =
      delayMeasured && channel.delayQuantilesMs
        ? delayPoints(channel.delayQuantilesMs)
        : [{ ms: delayMs, weight: 1 }];
    const lambda = otherChannelsRate(demand, channel.channelId);
    return {
      channel,
      service,
      delayMeasured,
      delayMs,
      delays,
      lambda,
      own: demand.channelRates[channel.channelId] ?? 0,
    };
  });
  const owner =
    input.tailOwner && inputs.length > 1
      ? [...inputs].sort(
          (a, b) =>
            a.delayMs - b.delayMs ||
            b.own - a.own ||
            (a.channel.channelId < b.channel.channelId ? -1 : 1),
        )[0]!.channel.channelId
      : null;
  const ownerName = inputs.find((i) => i.channel.channelId === owner)?.channel.name ?? "";

  const channels = inputs.map(
    ({ channel, service, delayMeasured, delayMs, delays, lambda, own }): ChannelRecommendation => {
      const isOwner = channel.channelId === owner;
      // This channel's own buyers, taken as at least an average other channel's: a channel
      // without sales of the SKU yet is not assumed to sell nothing.
      const others = inputs.length - 1;
      const ownRate = Math.max(own, others > 0 ? lambda / others : 0);
      const mu = (lambda * delayMs) / HOUR;
      const raceInput = {
        ratePerHour: lambda,
        delays,
        ownRatePerHour: ownRate,
        dispersion: demand.dispersion,
      };
      const race = isOwner ? 0 : raceBuffer({ ...raceInput, z: service.z });
      // The safety stock is its own "hold back" rule; a channel with a race buffer shows 0 once
      // the race could reach into it, one without needs no threshold at all.
      const value = race > 0 ? Math.min(cap, race + safetyUnits) : 0;
      const riskAt = (buffer: number) => raceRisk({ ...raceInput, buffer });
      const risk = isOwner ? 0 : riskAt(Math.min(race, cap));
      const ownSale = 1 - Math.exp(-(ownRate * delayMs) / HOUR);
      // Expected oversells per sell-out (about one unit each) without the buffer, less with it.
      const avoided = isOwner ? 0 : Math.max(0, riskAt(0) - risk);
      const spread = delays.length > 1;
      const notes: string[] = [];
      if (isOwner)
        notes.push("sells the last units: every other channel shows 0 before they can race it");
      else if (owner) notes.push(`the last units are left to ${ownerName}`);
      if (demand.flash)
        notes.push(
          `flash sale: last hour ${rate(demand.recentPerHour)} vs ${rate(demand.baselinePerHour)}`,
        );
      if (demand.pooled) notes.push(`only ${demand.orders} orders: blended with similar SKUs`);
      if (demand.dispersion > 1.05)
        notes.push(`bursty demand (dispersion ${fmt(demand.dispersion)})`);
      notes.push(service.reason);
      if (!isOwner && mu > 0)
        notes.push(`a buyer here within W: ${pct(ownSale)} (λc=${rate(ownRate)})`);
      notes.push(
        delayMeasured
          ? `W is the p99 of ${channel.delaySamples} measured updates` +
              (spread
                ? `, the race weighed over their spread (p50 ${duration(channel.delayQuantilesMs![DELAY_QUANTILES.indexOf(0.5)]!)})`
                : "")
          : `W assumed (no measured updates yet)`,
      );
      if (safetyUnits > 0 && race > 0) notes.push(`includes ${units(safetyUnits)} safety stock`);
      if (race > 0 && race + safetyUnits > cap) notes.push(`capped at the ${units(cap)} available`);
      const accepted = 1 - standardNormalCdf(service.z);
      return {
        channelId: channel.channelId,
        channelName: channel.name,
        sku: demand.sku,
        kind: "zero_at_or_below",
        value,
        race,
        safety: safetyUnits,
        lambdaPerHour: lambda,
        delayMs,
        delayMeasured,
        serviceLevel: service.level,
        z: service.z,
        oversoldAvoidedPerSellOut: avoided,
        flash: demand.flash,
        pooled: demand.pooled,
        tailOwner: isOwner,
        formula: isOwner
          ? "tail owner: no race buffer"
          : `fewest b with Σ P(delay D)·share here·E[sales within D beyond b] ≤ 1 − service level: b = ${race}, ${fmt(risk)} ≤ ${fmt(accepted)}` +
            (race > 0 ? ` (b = ${race - 1}: ${fmt(riskAt(race - 1))})` : ""),
        explanation:
          `λ=${rate(lambda)} on other channels, W=${duration(delayMs)}, oversell risk ${isOwner ? "—" : pct(risk)} (accepted ${pct(accepted)}) → ${units(value)}` +
          ` (${notes.join("; ")})`,
      };
    },
  );
  return { channels, safety };
}

function fmt(n: number): string {
  if (n === 0) return "0";
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return String(Number(n.toFixed(2)));
  return String(Number(n.toPrecision(2)));
}

function pct(p: number): string {
  return `${Number((p * 100).toPrecision(3))}%`;
}

function units(n: number): string {
  return `${n} unit${n === 1 ? "" : "s"}`;
}

/** A rate in the unit that reads best: per minute, hour or day. */
export function rate(perHour: number): string {
  if (perHour >= 60) return `${fmt(perHour / 60)}/min`;
  if (perHour >= 1) return `${fmt(perHour)}/h`;
  return `${fmt(perHour * 24)}/day`;
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${fmt(ms / 1_000)} s`;
  if (ms < HOUR) return `${fmt(ms / 60_000)} min`;
  return `${fmt(ms / HOUR)} h`;
}
