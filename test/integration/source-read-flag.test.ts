/**
 * A source level flagged for the counting read (an inbound level change at the source store, a
 * receipt not counted yet) stays flagged through a write to it and through the push's own re-read:
 * neither counts physical stock, and losing the flag left a receipt uncounted for good (the
 * ledger below the shelf, every channel short — seen in the chaos convergence run).
 */
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import * as listings from "../../app/repositories/listings.server";
import { seedShop, type SeededShop } from "../factories/shop";

let shop: SeededShop;
let listingId: string;

beforeAll(async () => {
  shop = await seedShop(prisma, { items: [{ sku: "TEE", onHand: 7 }] });
  listingId = (
    await prisma.listing.findFirstOrThrow({ where: { connectionId: shop.sourceConnectionId } })
  ).id;
});

const flagged = async () =>
  (
    await listings.flaggedSourceListings(
      shop.sourceConnectionId,
      "00000000-0000-0000-0000-000000000000",
      10,
    )
  ).map((l) => l.id);

describe("the source read flag", () => {
  it("survives a write and the push's re-read, and is cleared by the counting read", async () => {
    await listings.flagForSourceRead([listingId]);
    expect(await flagged()).toEqual([listingId]);

    await listings.recordPushed({
      listingId,
      connectionId: shop.sourceConnectionId,
      version: 1,
      quantity: 5,
      wrote: true,
      at: new Date(),
      receiptIds: [],
    });
    expect(await flagged()).toEqual([listingId]);

    await listings.recordRemote({
      listingId,
      quantity: 5,
      state: { available: 5, on_hand: 10 },
      source: "read",
      at: new Date(),
    });
    expect(await flagged()).toEqual([listingId]);

    // The counting read (read-source-levels) records what it read: the flag is cleared.
    await listings.recordRemoteBatch(
      [{ listingId, quantity: 5, state: { available: 5, on_hand: 10 }, at: new Date() }],
      "read",
    );
    expect(await flagged()).toEqual([]);
  });
});
