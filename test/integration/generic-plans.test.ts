import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "../../app/lib/sql.server";
import { transaction, type Tx } from "../../app/repositories/tx.server";
import { applyLedgerEventUnless } from "../../app/services/ledger/apply-event.server";

/**
 * Generic plans for the ledger's transactions only (decision 0020): `SET LOCAL` with BEGIN, so
 * the setting ends with the transaction and the pooled connection goes back to PostgreSQL's
 * default for whatever runs on it next.
 */
const planMode = async (tx: Tx) =>
  (await tx.query<{ plan_cache_mode: string }>(sql`SHOW plan_cache_mode`))[0]!.plan_cache_mode;

describe("generic plans", () => {
  it("hold inside a transaction that asks for them, and only there", async () => {
    expect(await transaction(planMode, { genericPlans: true })).toBe("force_generic_plan");
    // The pool's connections (one of them just ran the transaction above) are back to auto.
    const after = await Promise.all(Array.from({ length: 4 }, () => transaction(planMode)));
    expect(after).toEqual(["auto", "auto", "auto", "auto"]);
  });

  it("are what a ledger event's statements run with", async () => {
    let inEvent: string | null = null;
    const result = await applyLedgerEventUnless(
      { shopId: randomUUID(), actor: "test:generic-plans", operations: [] },
      async (tx) => {
        inEvent = await planMode(tx);
        return true;
      },
    );
    expect(result).toBeNull();
    expect(inEvent).toBe("force_generic_plan");
  });
});
