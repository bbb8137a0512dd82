/**
 * Records a shortfall the ledger just saw as a *provisional* oversell incident, inside the
 * event's transaction, with what every channel was showing for the item at that moment. It is
 * confirmed (with its units and root cause) or explained away when the item settles
 * (`settle.server.ts`). A merchant's own change is kept as such, never counted as an oversell.
 */
import { isMerchantChange } from "../../domain/incidents";
import { insertIncident } from "../../repositories/incidents.server";
import type { Tx } from "../../repositories/tx.server";

export type ListingAtShortfall = {
  listingId: string;
  connectionId: string;
  role: string;
  published: number;
  pushed: number | null;
  lastPushedAt: Date | null;
  remote: number | null;
  remoteObservedAt: Date | null;
  components: number;
};

export async function recordProvisionalIncident(
  tx: Tx,
  input: {
    shopId: string;
    itemId: string;
    sku: string;
    kind: string;
    connectionId: string | null;
    listingId: string | null;
    orderRef: string | null;
    lineRef: string | null;
    merchant: boolean;
    actor: string;
    movementId: bigint;
    receiptId: bigint | null;
    shortfall: number;
    atsBefore: number;
    atsAfter: number;
    listings: ListingAtShortfall[];
  },
): Promise<{ id: bigint; status: "provisional" | "merchant_decision" }> {
  const merchant = input.merchant || isMerchantChange(input.kind, input.actor);
  // The selling listing first, so the evidence reads it without guessing.
  const listings = [...input.listings].sort(
    (a, b) =>
      Number(b.listingId === input.listingId) - Number(a.listingId === input.listingId) ||
      Number(b.connectionId === input.connectionId) - Number(a.connectionId === input.connectionId),
  );
  const id = await insertIncident(tx, {
    shopId: input.shopId,
    itemId: input.itemId,
    sku: input.sku,
    connectionId: input.connectionId,
    orderRef: input.orderRef,
    lineRef: input.lineRef,
    movementId: input.movementId,
    receiptId: input.receiptId,
    shortfall: input.shortfall,
    atsBefore: input.atsBefore,
    atsAfter: input.atsAfter,
    snapshot: listings,
    merchant,
  });
  return { id, status: merchant ? "merchant_decision" : "provisional" };
}
