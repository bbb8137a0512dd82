/**
 * The merchant's switches: start or pause a shop's sync (webhooks are still recorded and applied
 * to the ledger while paused; nothing is written to any channel; starting catches every channel
 * up), pause or resume one channel, disconnect a channel (writes stop, credentials deleted,
 * history kept). Used by the admin and the CLI (`sync:start`, `sync:pause`, `channel:pause`, …).
 */
import { enqueuePush, enqueuePushes, enqueueSafely } from "../queues/jobs.server";
import { adapterFor } from "../channels/registry.server";
import { log } from "../logger.server";
import * as connections from "../repositories/connections.server";
import { webhookUrl } from "./connect-marketplace.server";
import * as shops from "../repositories/shops.server";
import { republishListings } from "./ledger/republish.server";
import { activeListingIds } from "../repositories/ledger.server";
import * as listings from "../repositories/listings.server";

export class SyncControlError extends Error {}

async function activeShop(domain: string) {
  const shop = await shops.shopDetails(domain);
  if (!shop || shop.status !== "active")
    throw new SyncControlError(`shop ${domain} is not installed`);
  if (shop.linkedToShopId)
    throw new SyncControlError(
      `${domain} is linked as another store's sales channel; manage it there`,
    );
  return shop;
}

/** Starts syncing: every listing is published again and every channel written. */
export async function startSync(shopDomain: string): Promise<{ connections: number }> {
  const shop = await activeShop(shopDomain);
  await shops.setSyncEnabled(shop.id, true);
  if (shop.holdsReleasedAt) await shops.markHoldsReleased(shop.id, null);
  const touched = await republishListings(shop.id, await activeListingIds(shop.id), true);
  await enqueueSafely("push", () => enqueuePushes(touched));
  return { connections: touched.size };
}

/** Pauses every write of the shop; inbound events keep being recorded. */
export async function pauseSync(shopDomain: string): Promise<void> {
  const shop = await activeShop(shopDomain);
  await shops.setSyncEnabled(shop.id, false);
}

async function ownConnection(shopDomain: string, connectionId: string) {
  const shop = await activeShop(shopDomain);
  const row = await connections.loadConnection(connectionId);
  if (!row || row.shopId !== shop.id) throw new SyncControlError("unknown channel for this shop");
  return { shop, row };
}

export async function pauseChannel(shopDomain: string, connectionId: string): Promise<void> {
  const { row } = await ownConnection(shopDomain, connectionId);
  if (row.status === "disconnected") throw new SyncControlError("this channel is disconnected");
  await connections.setConnectionStatus(connectionId, "paused", "paused by the merchant");
}

/** Resumes a paused channel and catches it up (every listing checked and written if needed). */
export async function resumeChannel(shopDomain: string, connectionId: string): Promise<void> {
  const { shop, row } = await ownConnection(shopDomain, connectionId);
  if (row.status === "disconnected")
    throw new SyncControlError("a disconnected channel is connected again, not resumed");
  await connections.setConnectionStatus(connectionId, "active", null);
  // What changed while paused: republish the shop, then look at every listing of the channel.
  await republishListings(shop.id, await activeListingIds(shop.id));
  await listings.markConnectionDirty(connectionId, new Date());
  await enqueueSafely("push", () => enqueuePush(connectionId, 0));
}

/** Stops a channel for good: no more writes, credentials deleted, its history kept. */
export async function disconnectChannel(shopDomain: string, connectionId: string): Promise<void> {
  const { row } = await ownConnection(shopDomain, connectionId);
  if (row.role === "source")
    throw new SyncControlError(
      "the source store cannot be disconnected; uninstall the app instead",
    );
  // A store connected with a token got its subscriptions from StockGuard: remove them while the
  // credentials still exist. Best effort — a revoked token must not keep a merchant connected.
  const adapter = adapterFor(row.kind);
  if (adapter.removeSubscriptions) {
    try {
      const loaded = await connections.loadConnection(connectionId);
      if (loaded)
        await adapter.removeSubscriptions(connections.toContext(loaded), {
          callbackUrl: webhookUrl(row.kind, connectionId),
        });
    } catch (error) {
      log({ connectionId, err: error }).warn(
        "could not remove the channel's webhook subscriptions; disconnecting anyway",
      );
    }
  }
  await connections.disconnect(connectionId, "disconnected by the merchant");
  // A linked store (it installed StockGuard) is free again: its own hub, or linkable elsewhere.
  if (row.kind === "shopify") await shops.unlinkStore(row.accountRef, row.shopId);
}
