/**
 * Fault injection and daily call limits for the REST APIs. A fault targets one operation
 * (`bulkUpdatePriceQuantity`, `getOrders`, `token`, … or `*`) and answers 429 / 500 / 503 with
 * eBay's bodies instead of running it. Call limits model eBay's per-application daily quotas:
 * once an operation has been called `perDay` times on the current eBay day, it answers 429.
 */
import type { Rng } from "../shopify/rng";

export type FaultKind = "http429" | "http500" | "http503";
export const FAULT_KINDS: readonly FaultKind[] = ["http429", "http500", "http503"];

/**
 * `count`: the next N matching requests (with `probability`: N requests picked at random);
 * `probability` alone: each matching request with probability p until cleared;
 * `durationMs`: every matching request (or a fraction p) for T real ms.
 */
export type FaultRule = {
  operation?: string;
  kind: FaultKind;
  count?: number;
  probability?: number;
  durationMs?: number;
  /** `Retry-After` seconds sent with http429 (default none: eBay does not document one). */
  retryAfterSeconds?: number;
};

export type ActiveFault = {
  id: number;
  operation: string;
  kind: FaultKind;
  remaining: number | null;
  probability: number | null;
  until: number | null;
  retryAfterSeconds: number | null;
  triggered: number;
};

export class FaultError extends Error {}

export class FaultInjector {
  private rules: ActiveFault[] = [];
  private nextId = 1;

  constructor(private readonly rng: () => Rng) {}

  add(rule: FaultRule, now = Date.now()): ActiveFault {
    if (typeof rule !== "object" || rule === null) throw new FaultError("expected a fault object");
    if (!FAULT_KINDS.includes(rule.kind))
      throw new FaultError(`unknown fault kind ${String(rule.kind)}`);
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
    if (rule.operation !== undefined && typeof rule.operation !== "string") {
      throw new FaultError("operation must be a string");
    }
    const fault: ActiveFault = {
      id: this.nextId++,
      operation: rule.operation ?? "*",
      kind: rule.kind,
      remaining: rule.count ?? null,
      probability: rule.probability ?? null,
      until: rule.durationMs === undefined ? null : now + rule.durationMs,
      retryAfterSeconds: rule.retryAfterSeconds ?? null,
      triggered: 0,
    };
    this.rules.push(fault);
    return { ...fault };
  }

  /** The fault that applies to a request for `operation` arriving now (consumes a count). */
  next(operation: string, now = Date.now()): ActiveFault | null {
    this.rules = this.rules.filter((r) => r.until === null || r.until > now);
    for (const rule of this.rules) {
      if (rule.operation !== "*" && rule.operation !== operation) continue;
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
  }
}

/** Per application, per operation, per eBay day call counters against configured limits. */
export class CallLimiter {
  limits: Record<string, number> = {};
  private readonly counts = new Map<string, number>();

  /** Counts the call; false when the limit of the day is already used up. */
  take(clientId: string, operation: string, day: string): boolean {
    const limit = this.limits[operation];
    if (limit === undefined) return true;
    const key = `${clientId}|${operation}|${day}`;
    const used = this.counts.get(key) ?? 0;
    if (used >= limit) return false;
    this.counts.set(key, used + 1);
    return true;
  }

  usage(day: string): { clientId: string; operation: string; used: number; limit: number }[] {
    const out: { clientId: string; operation: string; used: number; limit: number }[] = [];
    for (const [key, used] of this.counts) {
      const [clientId = "", operation = "", keyDay] = key.split("|");
      if (keyDay !== day) continue;
      out.push({ clientId, operation, used, limit: this.limits[operation] ?? Infinity });
    }
    return out;
  }

  reset(): void {
    this.counts.clear();
    this.limits = {};
  }
}
