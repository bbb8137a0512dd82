/**
 * Fault injection for the /v3 API: forced 429 / 500 / 503 answers for one operation (or all),
 * one seller (or all). `count` = the next N matching requests (with `probability`: N picked at
 * random); `probability` alone = each matching request until cleared; `durationMs` = every
 * matching request (or a fraction p) for T ms.
 */
import type { Rng } from "../shopify/rng";
import { isOperation, type Operation } from "./throttle";

export type ApiFaultKind = "http429" | "http500" | "http503";
export const API_FAULT_KINDS: readonly ApiFaultKind[] = ["http429", "http500", "http503"];

export type ApiFaultRule = {
  kind: ApiFaultKind;
  /** An operation name (see throttle.ts OPERATIONS) or "*" (default). */
  operation?: Operation | "*";
  /** Only this seller's requests (default: every seller). */
  partnerId?: string;
  count?: number;
  probability?: number;
  durationMs?: number;
  /** Retry-After seconds sent with http429 (default 1) and http503 (default none). */
  retryAfterSeconds?: number;
};

export type ActiveApiFault = {
  id: number;
  kind: ApiFaultKind;
  operation: Operation | "*";
  partnerId: string | null;
  remaining: number | null;
  probability: number | null;
  until: number | null;
  retryAfterSeconds: number | null;
  triggered: number;
};

export class FaultError extends Error {}

export class ApiFaults {
  private rules: ActiveApiFault[] = [];
  private nextId = 1;

  constructor(private readonly rng: () => Rng) {}

  add(rule: ApiFaultRule, now = Date.now()): ActiveApiFault {
    if (!API_FAULT_KINDS.includes(rule.kind))
      throw new FaultError(`unknown fault kind ${rule.kind}`);
    const operation = rule.operation ?? "*";
    if (operation !== "*" && !isOperation(operation)) {
      throw new FaultError(`unknown operation ${String(operation)}`);
    }
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
    const fault: ActiveApiFault = {
      id: this.nextId++,
      kind: rule.kind,
      operation,
      partnerId: rule.partnerId ?? null,
      remaining: rule.count ?? null,
      probability: rule.probability ?? null,
      until: rule.durationMs === undefined ? null : now + rule.durationMs,
      retryAfterSeconds: rule.retryAfterSeconds ?? (rule.kind === "http429" ? 1 : null),
      triggered: 0,
    };
    this.rules.push(fault);
    return { ...fault };
  }

  /** The fault that applies to this request, if any (consumes a count). */
  next(operation: Operation, partnerId: string | null, now = Date.now()): ActiveApiFault | null {
    this.rules = this.rules.filter((r) => r.until === null || r.until > now);
    for (const rule of this.rules) {
      if (rule.operation !== "*" && rule.operation !== operation) continue;
      if (rule.partnerId !== null && rule.partnerId !== partnerId) continue;
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

  list(now = Date.now()): ActiveApiFault[] {
    return this.rules.filter((r) => r.until === null || r.until > now).map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
  }
}
