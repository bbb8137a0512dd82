/**
 * Step 1 of a ledger event: which stock items each order line consumes. Existing commitments
 * first (a line's mapping is fixed at first sight), then the connection's listings (by remote
 * ref, then SKU: a bundle consumes each of its components), then the merchant's own mappings of
 * lines once unmatched, then the shop's SKUs. A line nothing matches is recorded as an unmatched
 * line for the merchant to map.
 */
import type { LineOperation } from "../../domain/operations";
import { normalizeSku } from "../../domain/sku";
import * as ledger from "../../repositories/ledger.server";
import type { Tx } from "../../repositories/tx.server";

export type ResolvedComponent = {
  itemId: string;
  perUnit: number;
  listingId: string | null;
  /** Fixed by an existing commitment; null: choose at commit time. */
  locationId: string | null;
};

export async function resolveLines(
  tx: Tx,
  shopId: string,
  lineOps: LineOperation[],
  /** Off for a look ahead (which items events not applied yet will touch): records nothing. */
  options: { recordUnmatched: boolean } = { recordUnmatched: true },
): Promise<{ resolved: Map<LineOperation, ResolvedComponent[]>; unmatched: number }> {
  const resolved = new Map<LineOperation, ResolvedComponent[]>();
  let unmatched = 0;
  const byOrder = new Map<string, LineOperation[]>();
  for (const op of lineOps) {
    const k = `${op.connectionId}|${op.orderId}`;
    byOrder.set(k, [...(byOrder.get(k) ?? []), op]);
  }
  for (const ops of byOrder.values()) {
    const first = ops[0]!;
    const { existing, listings, items, mappings } = await ledger.resolveOrderLines(tx, {
      shopId,
      connectionId: first.connectionId,
      orderId: first.orderId,
      lineIds: ops.map((o) => o.lineId),
      refs: ops.map((o) => o.remoteRef).filter((r): r is string => Boolean(r)),
      skus: ops.map((o) => normalizeSku(o.sku)).filter((s): s is string => s !== null),
    });
    for (const op of ops) {
      const rows = existing.filter((r) => r.lineId === op.lineId);
      if (rows.length > 0) {
        resolved.set(
          op,
          rows.map((r) => ({
            itemId: r.itemId,
            perUnit: r.perUnit,
            listingId: r.listingId,
            locationId: r.locationId,
          })),
        );
        continue;
      }
      const sku = normalizeSku(op.sku);
      const listing =
        (op.remoteRef &&
          listings.find(
            (l) => l.remoteRef === op.remoteRef || l.remoteVariantRef === op.remoteRef,
          )) ||
        (sku !== null ? listings.find((l) => l.sku === sku) : undefined);
      if (listing && listing.components.length > 0) {
        resolved.set(
          op,
          listing.components.map((c) => ({
            itemId: c.itemId,
            perUnit: c.quantity,
            listingId: listing.id,
            locationId: null,
          })),
        );
        continue;
      }
      // A reference the merchant mapped by hand (an unmatched line they resolved).
      const mapped = mappings.find(
        (m) =>
          (op.remoteRef && m.reference === op.remoteRef) || (sku !== null && m.reference === sku),
      );
      const item = mapped
        ? { id: mapped.itemId }
        : sku !== null
          ? items.find((i) => i.sku === sku)
          : undefined;
      if (item) {
        resolved.set(op, [{ itemId: item.id, perUnit: 1, listingId: null, locationId: null }]);
        continue;
      }
      if (options.recordUnmatched)
        await ledger.recordUnmatched(tx, {
          shopId,
          connectionId: op.connectionId,
          orderId: op.orderId,
          lineId: op.lineId,
          sku: op.sku,
          remoteRef: op.remoteRef ?? null,
          quantity: "quantity" in op.command ? op.command.quantity : 0,
        });
      unmatched++;
    }
  }
  return { resolved, unmatched };
}
