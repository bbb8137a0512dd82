import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { metrics } from "../../app/lib/metrics.server";
import { sqlPool } from "../../app/lib/sql.server";
import { recordPushedBatch } from "../../app/repositories/listings.server";
import { addSalesConnection, seedShop } from "../factories/shop";
import { untilSomeoneWaitsForALock } from "../helpers/lock-waits";

/**
 * A push records its answers for many listings in one statement while the ledger's transactions
 * update the same listings (published quantities, the model of what a channel shows) in an order
 * of their own. At 100 orders/s Postgres found them deadlocked and aborted the push's statement:
 * the push failed after its writes had landed, their answers unrecorded, and one store stayed
 * ~13 s behind (bench). A statement run on its own that Postgres aborts as a deadlock's victim
 * changed nothing and runs again (`lib/sql.server.ts`).
 */
describe("a push's statement and a ledger transaction on the same listings", () => {
  it("records the push's answers when Postgres aborts its statement as a deadlock's victim", async () => {
    const shop = await seedShop(prisma, {
      items: [
        { sku: "DL-A", onHand: 5 },
        { sku: "DL-B", onHand: 5 },
      ],
      sourceListings: false,
    });
    const { connectionId, listingIds } = await addSalesConnection(prisma, shop);
    const [first, second] = [listingIds.get("DL-A")!, listingIds.get("DL-B")!];
    await prisma.listing.updateMany({
      where: { id: { in: [first, second] } },
      data: { publishedQuantity: 5, publishedVersion: 1, pushedVersion: 0 },
    });

    const retried = async () =>
      (await metrics().sqlRetries.get()).values.find(
        (v) => v.labels.scope === "statement" && v.labels.reason === "deadlock",
      )?.value ?? 0;
    const retriedBefore = await retried();
    const ledger = await sqlPool().connect();
    let ledgerOutcome: string;
    let pushOutcome: Promise<string>;
    try {
      await ledger.query("BEGIN");
      await ledger.query("SET LOCAL lock_timeout = '10s'");
      // The ledger holds the second listing …
      await ledger.query("UPDATE listing SET updated_at = now() WHERE id = $1", [second]);
      // … the push's statement takes the first and waits for the second …
      let settled = false;
      pushOutcome = recordPushedBatch(
        connectionId,
        [first, second].map((listingId) => ({
          listingId,
          version: 1,
          quantity: 5,
          wrote: true,
          receiptIds: [],
        })),
        new Date(),
      ).then(
        () => "done",
        (error: Error) => error.message,
      );
      void pushOutcome.finally(() => (settled = true));
      expect(await untilSomeoneWaitsForALock(prisma, "the push", () => settled)).toBe(true);
      // … and the ledger asks for the first: a deadlock, the push's statement its victim.
      ledgerOutcome = await ledger
        .query("UPDATE listing SET updated_at = now() WHERE id = $1", [first])
        .then(
          () => "locked",
          (error: Error) => error.message,
        );
      await ledger.query(ledgerOutcome === "locked" ? "COMMIT" : "ROLLBACK");
    } finally {
      ledger.release();
    }
    expect({ ledger: ledgerOutcome, push: await pushOutcome }).toEqual({
      ledger: "locked",
      push: "done",
    });
    // Counted where an on-call engineer sees it: the retry hides the failure, not the cost.
    expect((await retried()) - retriedBefore).toBe(1);
    const rows = await prisma.listing.findMany({
      where: { id: { in: [first, second] } },
      select: { pushedVersion: true, pushedQuantity: true },
    });
    expect(rows).toEqual([
      { pushedVersion: 1, pushedQuantity: 5 },
      { pushedVersion: 1, pushedQuantity: 5 },
    ]);
  }, 20_000);
});
