import type { TopicPayload } from "../../channels/shopify/webhook-schemas";
import { db, sql } from "../../lib/sql.server";
import { enqueueMaintenance, enqueuePush, enqueueSafely } from "../../queues/jobs.server";
import * as push from "../../repositories/push.server";

type LevelUpdate = TopicPayload<"inventory_levels/update">;

/** Whether the update told us something new (recorded), and what was done about it. */
export type LevelObservation = { recorded: boolean; action: string };

/**
 * `inventory_levels/update`: Shopify tells us a level's `available` changed — after a sale, a
 * merchant's edit, or our own write (the echo). It carries no on_hand and no actor, so:
 *
 * - older than our last write, or equal to what we know the channel shows → an echo or a
 *   replay: nothing is counted and nothing is written;
 * - on the source store → the level is flagged and read back (coalesced per connection); the
 *   read compares the physical on_hand with the ledger (allowing for our own writes still on
 *   their way) and counts only a real change at the source;
 * - on another store → recorded as an observation; the push planner lowers the store at once
 *   if it shows more than published, and waits for the order if it shows less.
 */
export async function observeInventoryLevel(
  connection: Pick<push.ConnectionRow, "id" | "role">,
  update: LevelUpdate,
  receivedAt: Date,
): Promise<LevelObservation> {
  const remoteRef = `gid://shopify/InventoryItem/${update.inventory_item_id}`;
  const remoteLocationRef = `gid://shopify/Location/${update.location_id}`;
  const rows = await db().query<{
    id: string;
    remoteQuantity: number | null;
    remoteState: Record<string, number> | null;
    lastPushedAt: Date | null;
    remoteObservedAt: Date | null;
  }>(sql`
    SELECT id, remote_quantity AS "remoteQuantity", remote_state AS "remoteState",
           last_pushed_at AS "lastPushedAt", remote_observed_at AS "remoteObservedAt"
      FROM listing
     WHERE connection_id = ${connection.id}::uuid AND remote_ref = ${remoteRef} AND remote_location_ref = ${remoteLocationRef}`);
  const listing = rows[0];
  if (!listing) {
    // A level we do not track: a new variant, or a location we do not sync. Refresh the catalog.
    await enqueueSafely("catalog", () =>
      enqueueMaintenance({ task: "import_catalog", connectionId: connection.id }, 2_000),
    );
    return { recorded: false, action: "unknown level: catalog refresh scheduled" };
  }
  // Level timestamps may carry whole seconds only: only a payload clearly older than our last
  // write is a replay. On the source store nothing is dropped on time alone (a read decides).
  const at = new Date(update.updated_at);
  const clearlyOlder = (t: Date | null) => t !== null && at.getTime() < t.getTime() - 2_000;
  if (
    connection.role !== "source" &&
    (clearlyOlder(listing.lastPushedAt) || clearlyOlder(listing.remoteObservedAt))
  ) {
    return { recorded: false, action: "older than what we know: ignored" };
  }
  const known =
    connection.role === "source"
      ? (listing.remoteState?.available ?? listing.remoteQuantity)
      : listing.remoteQuantity;
  if (update.available === known)
    return { recorded: false, action: "echo: matches what the channel shows" };

  if (connection.role === "source") {
    // Flag for a read (remote_source = 'webhook' marks "observed, not read yet").
    await push.recordRemote(db(), {
      listingId: listing.id,
      quantity: update.available,
      source: "webhook",
      at: receivedAt,
    });
    await enqueueSafely("source read", () =>
      enqueueMaintenance(
        { task: "read_source_levels", connectionId: connection.id, attempt: 0 },
        250,
      ),
    );
    return { recorded: true, action: "source level changed: read scheduled" };
  }
  await push.recordRemote(db(), {
    listingId: listing.id,
    quantity: update.available,
    source: "webhook",
    at: receivedAt,
  });
  await push.markDirty(db(), [listing.id], receivedAt);
  await enqueueSafely("push", () => enqueuePush(connection.id));
  return { recorded: true, action: "channel quantity observed: push planned" };
}
