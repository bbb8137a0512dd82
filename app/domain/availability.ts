/**
 * Available to sell (ATS) from a level's facts, per level and per item, small helpers on fact
 * deltas, and the units a change of ATS newly oversells (what the ledger records as incidents).
 */
import type { LevelFacts } from "./types";

/**
 * Available to sell: ATS = onHand − committed − held − damaged − safetyStock.
 * Derived, never stored. It may be negative: that is an oversell, and it is reported as an
 * incident rather than hidden by clamping (`newlyOversold`).
 */
export function ats(facts: LevelFacts): number {
  return facts.onHand - facts.committed - facts.held - facts.damaged - facts.safetyStock;
}

/** Item-level ATS: the sum over the source locations that feed the channels. */
export function itemAts(levels: readonly LevelFacts[]): number {
  let total = 0;
  for (const level of levels) total += ats(level);
  return total;
}

export function addFacts(a: LevelFacts, b: LevelFacts): LevelFacts {
  return {
    onHand: a.onHand + b.onHand,
    committed: a.committed + b.committed,
    held: a.held + b.held,
    damaged: a.damaged + b.damaged,
    safetyStock: a.safetyStock + b.safetyStock,
  };
}

export function isZeroDelta(d: LevelFacts): boolean {
  return (
    d.onHand === 0 && d.committed === 0 && d.held === 0 && d.damaged === 0 && d.safetyStock === 0
  );
}

/**
 * Units that became oversold when ATS moved from `before` to `after`: the growth of the
 * shortfall max(0, −ATS). Summed over every movement of an item, it equals the item's
 * current shortfall plus whatever later movements (cancels, restocks) resolved.
 */
export function newlyOversold(before: number, after: number): number {
  return Math.max(0, Math.max(0, -after) - Math.max(0, -before));
}
