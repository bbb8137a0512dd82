/**
 * Catalog import, on connect and after catalog webhooks. Entries are matched by normalised SKU;
 * duplicate or empty SKUs are reported to the merchant as catalog issues and left out, never
 * guessed.
 *
 * - Source store: its active locations become the hub's source locations; every SKU becomes a
 *   stock item with one listing per location. On the first import the physical quantities open
 *   the ledger (on_hand, plus orders already committed at the store as an opening commitment,
 *   and safety stock, quality control and damaged units as found).
 * - Another channel: its entries become listings of the hub's items at the channel's sync
 *   location.
 */
import type {
  CatalogEntry,
  ChannelAdapter,
  ConnectionContext,
  RemoteLocation,
} from "../../channels/channel-adapter";
import type { ItemOperation, LineOperation } from "../../domain/operations";
import { normalizeSku } from "../../domain/sku";
import { log } from "../../logger.server";
import * as catalog from "../../repositories/catalog.server";
import * as connections from "../../repositories/connections.server";
import * as listings from "../../repositories/listings.server";
import { OPENING_ORDER_ID } from "../ingest/read-source-levels.server";
import { applyLedgerEvent } from "../ledger/apply-event.server";
import { republishListings } from "../ledger/republish.server";

export type ImportSummary = {
  connectionId: string;
  role: "source" | "sales";
  variants: number;
  listings: number;
  items: number;
  duplicateSkus: number;
  emptySkus: number;
  unmatchedSkus: number;
  locations: number;
};

/**
 * A large catalog spends the channel's API budget several times over; an import waits for it to
 * refill rather than failing half-way (an import cannot resume from the middle).
 */
const IMPORT_THROTTLE_WAIT_MS = 60_000;
const CHUNK = 250;

export async function importCatalog(
  connection: ConnectionContext,
  adapter: ChannelAdapter,
  /** Called after every catalog page read (entries so far). */
  onProgress?: (read: number) => Promise<void>,
): Promise<ImportSummary> {
  const conn: ConnectionContext = { ...connection, throttleWaitMs: IMPORT_THROTTLE_WAIT_MS };
  const logger = log({ connectionId: conn.id, shop: conn.accountRef });
  const locations = (await adapter.listLocations(conn)).filter((l) => l.isActive);
  const entries: CatalogEntry[] = [];
  const notSynced: CatalogEntry[] = [];
  for await (const page of adapter.listCatalog(conn)) {
    for (const entry of page) (entry.notSynced ? notSynced : entries).push(entry);
    await onProgress?.(entries.length + notSynced.length);
  }

  // Group by normalised SKU; report duplicates and empties.
  const bySku = new Map<string, CatalogEntry[]>();
  const empty: CatalogEntry[] = [];
  for (const entry of entries) {
    const sku = normalizeSku(entry.sku);
    if (sku === null) empty.push(entry);
    else bySku.set(sku, [...(bySku.get(sku) ?? []), entry]);
  }
  const unique = new Map<string, CatalogEntry>();
  const duplicates: [string, CatalogEntry[]][] = [];
  for (const [sku, list] of bySku) {
    if (list.length === 1) unique.set(sku, list[0]!);
    else duplicates.push([sku, list]);
  }
  await catalog.replaceCatalogIssues({
    shopId: conn.shopId,
    connectionId: conn.id,
    kinds: ["duplicate_sku", "empty_sku", "not_synced"],
    issues: [
      // Listed on the channel but never synced by design (Amazon FBA-only listings).
      ...notSynced.map((e) => ({
        kind: "not_synced" as const,
        sku: normalizeSku(e.sku) ?? e.remoteRef,
        remoteRefs: [e.remoteVariantRef ?? e.remoteRef],
        details: `${e.title} (SKU ${e.sku ?? e.remoteRef}) is not synced: ${e.notSynced ?? ""}.`,
      })),
      ...duplicates.map(([sku, list]) => ({
        kind: "duplicate_sku" as const,
        sku,
        remoteRefs: list.map((e) => e.remoteVariantRef ?? e.remoteRef),
        details: `${list.length} variants share SKU ${sku}: ${list.map((e) => e.title).join(", ")}. None of them is synced until the SKUs are unique.`,
      })),
      ...(empty.length > 0
        ? [
            {
              kind: "empty_sku" as const,
              sku: null,
              remoteRefs: empty.map((e) => e.remoteVariantRef ?? e.remoteRef),
              details: `${empty.length} variant(s) have no SKU and cannot be matched: ${empty
                .slice(0, 10)
                .map((e) => e.title)
                .join(", ")}${empty.length > 10 ? ", …" : ""}`,
            },
          ]
        : []),
    ],
  });

  const summary: ImportSummary = {
    connectionId: conn.id,
    role: conn.role,
    variants: entries.length,
    listings: 0,
    items: 0,
    duplicateSkus: duplicates.length,
    emptySkus: empty.length,
    unmatchedSkus: 0,
    locations: 0,
  };
  if (conn.role === "source") await importSource(conn, adapter, locations, unique, summary);
  else await importSales(conn, adapter, locations, unique, summary);
  // Fetched with the catalog and kept: risk checks (CONTINUE, untracked) and cycle counts read them.
  await catalog.recordCatalogFacts(
    conn.id,
    [...unique.values()].map((e) => ({
      remoteRef: e.remoteRef,
      tracked: e.tracked,
      sellsWhenOutOfStock: e.sellsWhenOutOfStock,
      barcode: e.barcode ?? null,
      unitPrice: e.unitPrice ?? null,
      remoteProductRef: e.remoteProductRef ?? null,
    })),
  );
  const previous = await connections.markImported(conn.id);
  // A first import can add tens of thousands of rows at once: refresh the planner's statistics.
  if (!previous && entries.length >= 500) {
    await catalog
      .analyzeCatalogTables()
      .catch((error: unknown) => logger.warn({ err: error }, "ANALYZE after import failed"));
  }
  logger.info(summary, "catalog imported");
  return summary;
}

async function importSource(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  locations: RemoteLocation[],
  entries: Map<string, CatalogEntry>,
  summary: ImportSummary,
): Promise<void> {
  const first = (await connections.importedAt(conn.id)) === null;
  const hubLocations = await catalog.upsertSourceLocations(conn.shopId, conn.id, locations);
  summary.locations = hubLocations.size;

  const all = [...entries.entries()];
  const listingIds: string[] = [];
  for (let i = 0; i < all.length; i += CHUNK) {
    const chunk = all.slice(i, i + CHUNK);
    const itemOf = await catalog.upsertItems(
      conn.shopId,
      chunk.map(([sku, e]) => ({ sku, title: e.title })),
    );
    summary.items += itemOf.size;
    for (const [remoteLocation, locationId] of hubLocations) {
      listingIds.push(
        ...(await catalog.upsertListings(
          conn.shopId,
          conn.id,
          chunk.map(([sku, e]) => ({
            remoteRef: e.remoteRef,
            remoteLocationRef: remoteLocation,
            remoteVariantRef: e.remoteVariantRef,
            sku,
            title: e.title,
            itemId: itemOf.get(sku)!,
            sourceLocationId: locationId,
          })),
        )),
      );
      await catalog.ensureLevels(conn.shopId, [...itemOf.values()], locationId);
    }
  }
  summary.listings = listingIds.length;

  // Quantities at every location, read in batches; they open (or correct) the ledger.
  const refs = await catalog.listingRefs(conn.id);
  const reads = await adapter.readQuantities(conn, refs);
  const readOf = new Map(reads.map((r) => [`${r.remoteRef}|${r.remoteLocationRef}`, r]));
  const importKey = new Date().toISOString();
  const operations: (ItemOperation | LineOperation)[] = [];
  for (const ref of refs) {
    const read = readOf.get(`${ref.remoteRef}|${ref.remoteLocationRef}`);
    if (!read) continue;
    await listings.recordRemote({
      listingId: ref.id,
      quantity: read.quantity,
      state: read.states,
      source: "read",
      at: read.observedAt,
    });
    const s = read.states;
    const at = (what: string) => `${conn.id}/import/${importKey}/${ref.id}/${what}`;
    const target = { itemId: ref.itemId, locationId: ref.sourceLocationId, connectionId: conn.id };
    operations.push({
      type: "item",
      key: at("on_hand"),
      ...target,
      command: { kind: "on_hand_counted", onHand: s.on_hand ?? 0, pendingToSource: 0 },
    });
    if (!first) continue;
    operations.push(
      {
        type: "item",
        key: at("safety"),
        ...target,
        command: { kind: "safety_stock_set", quantity: Math.max(0, s.safety_stock ?? 0) },
      },
      {
        type: "item",
        key: at("unsellable"),
        ...target,
        command: {
          kind: "unsellable_set",
          held: Math.max(0, s.quality_control ?? 0),
          damaged: Math.max(0, s.damaged ?? 0),
        },
      },
    );
    const opening = Math.max(0, (s.committed ?? 0) + (s.reserved ?? 0));
    if (opening > 0) {
      operations.push({
        type: "line",
        key: `${conn.id}/opening/${ref.itemId}/${ref.sourceLocationId}/ordered`,
        connectionId: conn.id,
        orderId: OPENING_ORDER_ID,
        lineId: `${ref.itemId}@${ref.sourceLocationId}`,
        sku: ref.sku,
        command: { kind: "placed", quantity: opening, version: importKey },
      });
    }
  }
  for (let i = 0; i < operations.length; i += 300) {
    await applyLedgerEvent({
      shopId: conn.shopId,
      actor: `${conn.kind}:import`,
      operations: operations.slice(i, i + 300),
    });
  }
  await republishListings(conn.shopId, listingIds, true);
}

async function importSales(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  locations: RemoteLocation[],
  entries: Map<string, CatalogEntry>,
  summary: ImportSummary,
): Promise<void> {
  const configured =
    typeof conn.settings.syncLocationId === "string" ? conn.settings.syncLocationId : null;
  const location =
    locations.find((l) => l.id === configured) ??
    locations.find((l) => l.fulfillsOnlineOrders) ??
    locations[0];
  if (!location) throw new Error(`${conn.accountRef} has no active location to sync`);
  if (configured !== location.id)
    await connections.mergeSettings(conn.id, { syncLocationId: location.id });
  summary.locations = 1;
  const all = [...entries.entries()];
  const itemOf = await catalog.itemsBySku(
    conn.shopId,
    all.map(([sku]) => sku),
  );
  const matched = all.filter(([sku]) => itemOf.has(sku));
  const unmatched = all.filter(([sku]) => !itemOf.has(sku));
  summary.unmatchedSkus = unmatched.length;
  await catalog.replaceCatalogIssues({
    shopId: conn.shopId,
    connectionId: conn.id,
    kinds: ["unmatched_sku"],
    issues: unmatched.map(([sku, e]) => ({
      kind: "unmatched_sku" as const,
      sku,
      remoteRefs: [e.remoteVariantRef ?? e.remoteRef],
      details: `${e.title} (SKU ${sku}) matches no SKU of the source store; it is not synced.`,
    })),
  });
  const listingIds: string[] = [];
  for (let i = 0; i < matched.length; i += CHUNK) {
    listingIds.push(
      ...(await catalog.upsertListings(
        conn.shopId,
        conn.id,
        matched.slice(i, i + CHUNK).map(([sku, e]) => ({
          remoteRef: e.remoteRef,
          remoteLocationRef: location.id,
          remoteVariantRef: e.remoteVariantRef,
          sku,
          title: e.title,
          itemId: itemOf.get(sku)!,
          sourceLocationId: null,
        })),
      )),
    );
  }
  summary.listings = listingIds.length;
  const refs = await catalog.listingRefs(conn.id);
  const refOf = new Map(refs.map((r) => [`${r.remoteRef}|${r.remoteLocationRef}`, r]));
  await listings.recordRemoteBatch(
    (await adapter.readQuantities(conn, refs)).flatMap((read) => {
      const ref = refOf.get(`${read.remoteRef}|${read.remoteLocationRef}`);
      return ref
        ? [{ listingId: ref.id, quantity: read.quantity, state: read.states, at: read.observedAt }]
        : [];
    }),
    "read",
  );
  await republishListings(conn.shopId, listingIds, true);
}
