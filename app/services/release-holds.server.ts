/**
 * Leaving cleanly: StockGuard keeps the source storefront at the published quantity by moving
 * units into states it owns (`reserved` for other channels' orders, `safety_stock` for buffers).
 * Before an uninstall (Shopify revokes the token before `app/uninstalled` arrives, so it cannot be
 * done after) the merchant releases them: sync is paused first (nothing re-projects), then every
 * unit StockGuard holds in those states goes back to `available`, with compare-and-set on the
 * state so a concurrent change is re-read rather than overwritten. Units in `quality_control` and
 * `damaged` are left where they are: they describe goods (returns awaiting inspection, damage),
 * not StockGuard's choices.
 */
import { adapterFor } from "../channels/registry.server";
import type { StateMove } from "../channels/channel-adapter";
import { acquireConnectionLock, ConnectionBusyError } from "../lib/locks.server";
import { log } from "../logger.server";
import * as connections from "../repositories/connections.server";
import * as listings from "../repositories/listings.server";
import * as shops from "../repositories/shops.server";

export const RELEASED_STATES = ["reserved", "safety_stock"] as const;

export class ReleaseError extends Error {}

export async function releaseHolds(
  shopDomain: string,
): Promise<{ levels: number; units: number; rounds: number }> {
  const shop = await shops.shopDetails(shopDomain);
  if (!shop || shop.status !== "active")
    throw new ReleaseError(`shop ${shopDomain} is not installed`);
  await shops.setSyncEnabled(shop.id, false);
  const sourceRow = (await connections.shopConnections(shop.id)).find((c) => c.role === "source");
  if (!sourceRow) throw new ReleaseError("the shop has no source store");
  const row = (await connections.loadConnection(sourceRow.id))!;
  const conn = connections.toContext(row);
  const adapter = adapterFor(row.kind);
  const store = adapter.source;
  if (!store) throw new ReleaseError(`${row.kind} holds no stock for StockGuard`);
  const release = await acquireConnectionLock(conn.id);
  if (!release) throw new ConnectionBusyError(conn.id);
  const total = { levels: 0, units: 0, rounds: 0 };
  // Each release is a new operation: a second release of the same amounts (after sync took the
  // holds again) must not be answered with the first one's stored result.
  const releaseId = `${Date.now()}`;
  const levels = new Set<string>();
  try {
    const refs = await listings.sourceListingRefs(conn.id);
    for (let round = 0; round < 5; round++) {
      total.rounds = round + 1;
      const reads = await adapter.readQuantities(conn, refs);
      // One batch per state: a move mutation names each item × location at most once.
      const batches: StateMove[][] = [];
      for (const state of RELEASED_STATES) {
        const moves: StateMove[] = [];
        for (const read of reads) {
          const held = read.states[state] ?? 0;
          if (held <= 0) continue;
          moves.push({
            inventoryItemId: read.remoteRef,
            locationId: read.remoteLocationRef,
            quantity: held,
            from: state,
            to: "available",
            ownedState: state,
            ownedExpected: held,
          });
        }
        for (let i = 0; i < moves.length; i += 250) batches.push(moves.slice(i, i + 250));
      }
      if (batches.length === 0) break;
      let stale = false;
      for (const chunk of batches) {
        const result = await store.move(conn, chunk, [
          "release",
          releaseId,
          round,
          ...chunk.flatMap((m) => [m.inventoryItemId, m.locationId, m.from, m.quantity]),
        ]);
        if (!result.ok) {
          if (result.stale) {
            stale = true;
            continue;
          }
          throw new ReleaseError(
            `the store refused to release units: ${result.errors.map((e) => e.message).join("; ")}`,
          );
        }
        total.units += chunk.reduce((s, m) => s + m.quantity, 0);
        for (const m of chunk) levels.add(`${m.inventoryItemId}|${m.locationId}`);
        total.levels = levels.size;
      }
      if (!stale) break;
    }
  } finally {
    await release();
  }
  await shops.markHoldsReleased(shop.id, new Date());
  log({ shop: shopDomain, ...total }).info("holds released on the source store; sync paused");
  return total;
}
