/** Fault injection for one shop's Admin API: HTTP errors, GraphQL THROTTLED, added latency. */
import type { Rng } from "./rng";

export type FaultKind = "http500" | "http429" | "http503" | "throttled";
export const FAULT_KINDS: readonly FaultKind[] = ["http500", "http429", "http503", "throttled"];

/**
 * `count`: the next N requests (with `probability`: the next N requests picked at random);
 * `probability` alone: each request with probability p until cleared;
 * `durationMs`: every request (or a fraction p) for the next T ms.
 */
export type FaultRule = {
  kind: FaultKind;
  count?: number;
  probability?: number;
  durationMs?: number;
  /** `Retry-After` seconds sent with http429 (default 2) and http503 (default none). */
  retryAfterSeconds?: number;
};

export type ActiveFault = {
  id: number;
  kind: FaultKind;
  remaining: number | null;
  probability: number | null;
  until: number | null;
  retryAfterSeconds: number | null;
  triggered: number;
};

export class FaultInjector {
  private rules: ActiveFault[] = [];
  private nextId = 1;
  latency: { minMs: number; maxMs: number } | null = null;

  constructor(private readonly rng: () => Rng) {}

  add(rule: FaultRule, now = Date.now()): ActiveFault {
    if (!FAULT_KINDS.includes(rule.kind)) throw new FaultError(`unknown fault kind ${rule.kind}`);
    if (
      rule.count === undefined &&
      rule.probability === undefined &&
      rule.durationMs === undefined
    ) {
      throw new FaultError("a fault needs count, probability or durationMs");
    }
    if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count > 0)) {
      throw new FaultError("count must be a positive integer");
    }
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new FaultError("probability must be within [0, 1]");
    }
    if (rule.durationMs !== undefined && !(rule.durationMs >= 0)) {
      throw new FaultError("durationMs must be >= 0");
    }
    const fault: ActiveFault = {
      id: this.nextId++,
      kind: rule.kind,
      remaining: rule.count ?? null,
      probability: rule.probability ?? null,
      until: rule.durationMs === undefined ? null : now + rule.durationMs,
      retryAfterSeconds: rule.retryAfterSeconds ?? (rule.kind === "http429" ? 2 : null),
      triggered: 0,
    };
    this.rules.push(fault);
    return fault;
  }

  /** The fault that applies to the request arriving now, if any (consumes a count). */
  next(now = Date.now()): ActiveFault | null {
    this.rules = this.rules.filter((r) => r.until === null || r.until > now);
    for (const rule of this.rules) {
      if (rule.probability !== null && !this.rng().chance(rule.probability)) continue;
      rule.triggered += 1;
      if (rule.remaining !== null) {
        rule.remaining -= 1;
        if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
      }
      return { ...rule };
    }
    return null;
  }

  list(now = Date.now()): ActiveFault[] {
    return this.rules.filter((r) => r.until === null || r.until > now).map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
    this.latency = null;
  }

  setLatency(minMs: number, maxMs: number): void {
    if (!(minMs >= 0 && maxMs >= minMs)) throw new FaultError("latency needs 0 <= minMs <= maxMs");
    this.latency = maxMs === 0 ? null : { minMs, maxMs };
  }

  latencyMs(): number {
    return this.latency ? this.rng().between(this.latency.minMs, this.latency.maxMs) : 0;
  }
}

export class FaultError extends Error {}
