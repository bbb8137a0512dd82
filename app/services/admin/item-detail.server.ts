/**
 * The item detail page: one stock item of the shop with its levels per source location, the
 * listings that sell it, its latest movements, and fresh idempotency keys for the page's forms.
 * Reads through `repositories/admin/item-detail.server.ts`.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { ats } from "../../domain/availability";
import {
  findItemDetail,
  listActionLocations,
  listConnectionNames,
  listMerchantDecisions,
  listRecentMovements,
  loadPublishInputs,
} from "../../repositories/admin/item-detail.server";
import { explainPublished, type ExplainStep } from "./explain";
import { requireShop } from "./shop.server";

export const MOVEMENT_LIMIT = 50;

export type ItemDetail = {
  now: string;
  item: { id: string; sku: string; title: string | null };
  totals: {
    onHand: number;
    committed: number;
    held: number;
    damaged: number;
    safetyStock: number;
    ats: number;
  };
  levels: {
    locationId: string;
    locationName: string;
    isPrimary: boolean;
    onHand: number;
    committed: number;
    held: number;
    damaged: number;
    safetyStock: number;
    ats: number;
  }[];
  /** Source locations an action can target (the primary first). */
  locations: { id: string; name: string; isPrimary: boolean }[];
  listings: {
    id: string;
    connectionName: string;
    connectionRole: string;
    kind: string;
    remoteRef: string;
    sku: string | null;
    status: string;
    statusReason: string | null;
    /** Units of this item one unit of the listing consumes; >1 or `bundle` for packs. */
    perUnit: number;
    bundle: boolean;
    published: number;
    pushed: number | null;
    remote: number | null;
    remoteObservedAt: string | null;
    lastPushedAt: string | null;
    pending: boolean;
    lastError: string | null;
    /** Why it publishes what it does: ATS → each rule → shows (see explain.ts). */
    explain: ExplainStep[];
  }[];
  /** Changes the merchant confirmed although orders already exceeded what was left. */
  decisions: {
    id: string;
    kind: string;
    shortfall: number;
    atsBefore: number;
    atsAfter: number;
    actor: string;
    reason: string | null;
    decidedAt: string;
  }[];
  movements: {
    id: string;
    kind: string;
    locationName: string;
    dOnHand: number;
    dCommitted: number;
    dHeld: number;
    dDamaged: number;
    dSafetyStock: number;
    actor: string;
    reason: string | null;
    orderRef: string | null;
    createdAt: string;
  }[];
  /**
   * One idempotency key per form, minted for this render: a double submit (or a retried request)
   * sends the same key and the ledger applies it once; after a successful action the page
   * reloads and every form gets a new key.
   */
  formKeys: { adjust: string; inspect: string; safetyStock: string };
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `$itemId` route parameter: anything but a UUID names no item (answered with 404, never
 * handed to the database, whose uuid cast would fail).
 */
export const ZItemParams = z.object({ itemId: z.string().regex(UUID) });

/** The item detail page; null when the item does not exist in this shop. */
export async function getItemDetail(input: {
  shopDomain: string;
  itemId: string;
}): Promise<ItemDetail | null> {
  if (!UUID.test(input.itemId)) return null;
  const shop = await requireShop(input.shopDomain);
  const item = await findItemDetail({ shopId: shop.id, itemId: input.itemId });
  if (!item) return null;

  const [locations, movements, inputs, connections, decisions] = await Promise.all([
    listActionLocations({ shopId: shop.id }),
    listRecentMovements({ shopId: shop.id, itemId: item.id, limit: MOVEMENT_LIMIT }),
    loadPublishInputs({ shopId: shop.id, itemId: item.id }),
    listConnectionNames({ shopId: shop.id }),
    listMerchantDecisions({ shopId: shop.id, itemId: item.id, limit: 10 }),
  ]);
  const connectionName = new Map(
    connections.map((c) => [c.id, c.role === "source" ? `${c.name} (source store)` : c.name]),
  );
  const explained = explainPublished({
    ...inputs,
    connectionName: (id) => connectionName.get(id) ?? "a channel",
  });
  const locationName = new Map(item.levels.map((l) => [l.locationId, l.location.name]));
  for (const l of locations) locationName.set(l.id, l.name);

  const levels = item.levels
    .filter((l) => l.location.isSource)
    .sort(
      (a, b) =>
        Number(b.location.isPrimary) - Number(a.location.isPrimary) ||
        a.location.name.localeCompare(b.location.name),
    )
    .map((l) => ({
      locationId: l.locationId,
      locationName: l.location.name,
      isPrimary: l.location.isPrimary,
      onHand: l.onHand,
      committed: l.committed,
      held: l.held,
      damaged: l.damaged,
      safetyStock: l.safetyStock,
      ats: ats(l),
    }));
  const sum = (pick: (l: (typeof levels)[number]) => number) =>
    levels.reduce((s, l) => s + pick(l), 0);

  return {
    now: new Date().toISOString(),
    item: { id: item.id, sku: item.sku, title: item.title },
    totals: {
      onHand: sum((l) => l.onHand),
      committed: sum((l) => l.committed),
      held: sum((l) => l.held),
      damaged: sum((l) => l.damaged),
      safetyStock: sum((l) => l.safetyStock),
      ats: sum((l) => l.ats),
    },
    levels,
    locations,
    listings: item.components
      .map(({ listing, quantity }) => ({
        id: listing.id,
        connectionName: listing.connection.name,
        connectionRole: listing.connection.role,
        kind: listing.connection.kind,
        remoteRef: listing.remoteRef,
        sku: listing.sku,
        status: listing.status,
        statusReason: listing.statusReason,
        perUnit: quantity,
        bundle: listing._count.components > 1,
        published: listing.publishedQuantity,
        pushed: listing.pushedQuantity,
        remote: listing.remoteQuantity,
        remoteObservedAt: listing.remoteObservedAt?.toISOString() ?? null,
        lastPushedAt: listing.lastPushedAt?.toISOString() ?? null,
        pending: listing.publishedVersion > listing.pushedVersion,
        lastError: listing.lastError,
        explain: explained.get(listing.id) ?? [],
      }))
      .sort(
        (a, b) =>
          a.connectionRole.localeCompare(b.connectionRole) ||
          a.connectionName.localeCompare(b.connectionName),
      ),
    movements: movements.map((m) => ({
      id: m.id.toString(),
      kind: m.kind,
      locationName: locationName.get(m.locationId) ?? m.locationId,
      dOnHand: m.dOnHand,
      dCommitted: m.dCommitted,
      dHeld: m.dHeld,
      dDamaged: m.dDamaged,
      dSafetyStock: m.dSafetyStock,
      actor: m.actor,
      reason: m.reason,
      orderRef: m.orderRef,
      createdAt: m.createdAt.toISOString(),
    })),
    decisions: decisions.map((d) => ({
      id: d.id.toString(),
      kind: d.kind,
      shortfall: d.shortfall,
      atsBefore: d.atsBefore,
      atsAfter: d.atsAfter,
      actor: d.actor,
      reason: d.reason,
      decidedAt: d.decidedAt.toISOString(),
    })),
    formKeys: { adjust: randomUUID(), inspect: randomUUID(), safetyStock: randomUUID() },
  };
}
