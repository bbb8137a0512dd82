/**
 * A source level flagged for the counting read (an inbound level change at the source store, a
 * receipt not counted yet) stays flagged through a write to it and through the push's own re-read:
 * neither counts physical stock, and losing the flag left a receipt uncounted for good (the
 * ledger below the shelf, every channel short — seen in the chaos convergence run).
 */
import { beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import * as listings from "../../app/repositories/listings.server";
import { addSalesConnection, seedShop, type SeededShop } from "../factories/shop";

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

describe("recording what channels showed, several listings at once", () => {
  it("keeps only newer observations, and a source level's flag", async () => {
    const other = await seedShop(prisma, {
      items: [
        { sku: "A", onHand: 4 },
        { sku: "B", onHand: 4 },
      ],
    });
    const sales = await addSalesConnection(prisma, other);
    const source = await prisma.listing.findFirstOrThrow({
      where: { connectionId: other.sourceConnectionId, sku: "A" },
    });
    const [a, b] = [sales.listingIds.get("A")!, sales.listingIds.get("B")!];
    const t0 = new Date("2026-12-01T10:00:00.000Z");
    const later = new Date(t0.getTime() + 1_000);
    await listings.flagForSourceRead([source.id]);
    await listings.recordRemotes([
      { listingId: a, quantity: 3, source: "webhook", at: later },
      { listingId: b, quantity: 2, state: { available: 2 }, source: "read", at: t0 },
      {
        listingId: source.id,
        quantity: 4,
        state: { available: 4, on_hand: 4 },
        source: "read",
        at: t0,
      },
    ]);
    // An observation older than the one recorded changes nothing.
    await listings.recordRemotes([
      { listingId: a, quantity: 9, source: "read", at: t0 },
      { listingId: b, quantity: 1, source: "read", at: later },
    ]);
    const row = (id: string) => prisma.listing.findUniqueOrThrow({ where: { id } });
    expect(await row(a)).toMatchObject({
      remoteQuantity: 3,
      remoteSource: "webhook",
      remoteObservedAt: later,
    });
    // A state is kept when a later observation brings none.
    expect(await row(b)).toMatchObject({
      remoteQuantity: 1,
      remoteState: { available: 2 },
      remoteSource: "read",
      remoteObservedAt: later,
    });
    expect(await row(source.id)).toMatchObject({ remoteQuantity: 4, remoteSource: "webhook" });
  });
});
