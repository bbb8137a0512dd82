/**
 * The working state of one ledger event inside its transaction, after its items are locked: the
 * balances of every locked item (exact under the locks, kept current in memory as movements are
 * recorded), the listings that depend on them, and `record`, which writes one effect — the
 * movement (idempotent by key), the source outbox row, and an oversell incident when the effect
 * takes an item below zero (a merchant decision instead, for the merchant's own confirmed change).
 */
import { ats, isZeroDelta, newlyOversold } from "../../domain/availability";
import { chooseCommitLocation } from "../../domain/allocation";
import { DomainError } from "../../domain/errors";
import { shortfallGrowth } from "../../domain/incidents";
import type { LineState } from "../../domain/ledger";
import type { LedgerEvent } from "../../domain/operations";
import { recountAfter, sourceAdjustmentFor } from "../../domain/source-adjustments";
import type { FactDelta, LevelFacts } from "../../domain/types";
import { insertMerchantDecision } from "../../repositories/merchant-decisions.server";
import * as ledger from "../../repositories/ledger.server";
import { recordProvisionalIncident } from "../incidents/record.server";
import type { Tx } from "../../repositories/tx.server";

export type ApplyResult = {
  applied: number;
  duplicates: number;
  unmatched: number;
  incidents: { id: bigint; itemId: string; shortfall: number; rootCause: string }[];
  changedListings: { listingId: string; connectionId: string; publishedQuantity: number }[];
  /** Shortfalls recorded as the merchant's decision (`LedgerEvent.merchantDecision`). */
  merchantDecisions?: number;
  /** Source levels the source's own order moved on_hand at: to be read again (`recountAfter`). */
  sourceRecounts?: { itemId: string; locationId: string }[];
  /** Units of provisional holds this event released unexplained (expired: apply-holds). */
  holdUnitsReleased?: number;
  /** Keys of counts not applied because the ledger moved since they were decided (`basis`). */
  staleCounts?: string[];
};

export type Effect = {
  itemId: string;
  locationId: string;
  key: string;
  kind: string;
  delta: FactDelta;
  connectionId: string | null;
  orderRef: string | null;
  lineRef: string | null;
  listingId: string | null;
  line: { id: bigint; state: LineState; committed: number } | null;
};

const levelKey = (itemId: string, locationId: string) => `${itemId}|${locationId}`;

export class EventContext {
  readonly result: ApplyResult = {
    applied: 0,
    duplicates: 0,
    unmatched: 0,
    incidents: [],
    changedListings: [],
  };
  /** Levels whose balances this event changed. */
  readonly touched = new Set<string>();
  /** Items whose provisional holds this event changed (their listings are republished). */
  readonly heldItems = new Set<string>();
  private readonly levels = new Map<string, ledger.LevelRow>();
  /**
   * The source outbox of each loaded level (read under the item locks, plus what this event
   * queued): no other event can change it while the locks are held, and the source's own writes
   * wait for the push lock a source read holds.
   */
  private readonly outbox = new Map<string, number>();
  private locations: { id: string; isPrimary: boolean }[] | null = null;

  constructor(
    readonly tx: Tx,
    readonly event: LedgerEvent,
    readonly shop: ledger.ShopState,
    readonly locked: Awaited<ReturnType<typeof ledger.lockAndLoad>>,
  ) {
    for (const { pendingToSource, ...row } of locked.levels) {
      const key = levelKey(row.itemId, row.locationId);
      this.levels.set(key, row);
      this.outbox.set(key, pendingToSource);
    }
  }

  /** Net on_hand change applied but not yet written to the source store, at this level. */
  async pendingToSource(itemId: string, locationId: string): Promise<number> {
    const pending = this.outbox.get(levelKey(itemId, locationId));
    return pending ?? ledger.pendingToSource(this.tx, itemId, locationId);
  }

  get shopId(): string {
    return this.event.shopId;
  }

  get receiptId(): bigint | null {
    return this.event.receiptId ?? null;
  }

  get sourceConnectionId(): string | null {
    return this.shop.connections.find((c) => c.role === "source")?.id ?? null;
  }

  allLevels(): ledger.LevelRow[] {
    return [...this.levels.values()];
  }

  isTouched(itemId: string, locationId: string): boolean {
    return this.touched.has(levelKey(itemId, locationId));
  }

  async shopLocations(): Promise<{ id: string; isPrimary: boolean }[]> {
    this.locations ??= await ledger.sourceLocations(this.tx, this.shopId);
    return this.locations;
  }

  /** The shop's primary source location (where item operations default to). */
  async primaryLocation(): Promise<string> {
    const locations = await this.shopLocations();
    const id = locations.find((l) => l.isPrimary)?.id ?? locations[0]?.id;
    if (!id) throw new DomainError("unknown_location", "the shop has no source location");
    return id;
  }

  /** The level row of an item at a source location, created (at zero) when missing. */
  async level(itemId: string, locationId: string): Promise<ledger.LevelRow> {
    const key = levelKey(itemId, locationId);
    let row = this.levels.get(key);
    if (!row) {
      const location = (await this.shopLocations()).find((l) => l.id === locationId);
      if (!location)
        throw new DomainError(
          "unknown_location",
          `location ${locationId} is not a source location of this shop`,
        );
      await ledger.ensureLevel(this.tx, this.shopId, itemId, locationId);
      row = {
        itemId,
        locationId,
        isPrimary: location.isPrimary,
        onHand: 0,
        committed: 0,
        held: 0,
        damaged: 0,
        safetyStock: 0,
      };
      this.levels.set(key, row);
    }
    return row;
  }

  /** Held units per item (provisional holds of the listings loaded under the locks). */
  holdsByItem(): Map<string, number> {
    const { listings, components } = this.locked;
    const holds = new Map<string, number>();
    for (const listing of listings) {
      if (!(listing.holdUnits > 0)) continue;
      for (const c of components.filter((c) => c.listingId === listing.id))
        holds.set(c.itemId, (holds.get(c.itemId) ?? 0) + listing.holdUnits * c.quantity);
    }
    return holds;
  }

  /** A listing's hold changed by `delta` units (kept in memory for this event's publishing). */
  holdChanged(listingId: string, delta: number): void {
    const listing = this.locked.listings.find((l) => l.id === listingId);
    if (!listing || delta === 0) return;
    listing.holdUnits = Math.max(0, listing.holdUnits + delta);
    for (const c of this.locked.components.filter((c) => c.listingId === listingId))
      this.heldItems.add(c.itemId);
  }

  /** Physically sellable units of an item (ATS without safety stock: domain/incidents.ts). */
  itemSellable(itemId: string): number {
    let total = 0;
    for (const row of this.levels.values())
      if (row.itemId === itemId) total += row.onHand - row.committed - row.held - row.damaged;
    return total;
  }

  itemAts(itemId: string): number {
    let total = 0;
    for (const row of this.levels.values()) if (row.itemId === itemId) total += ats(row);
    return total;
  }

  /** Where a sale of this item is committed: the source location with the most ATS. */
  async commitLocation(itemId: string): Promise<string> {
    const candidates = [...this.levels.values()]
      .filter((r) => r.itemId === itemId)
      .map((r) => ({ locationId: r.locationId, ats: ats(r), isPrimary: r.isPrimary }));
    const chosen = chooseCommitLocation(candidates);
    if (chosen) return chosen;
    try {
      return await this.primaryLocation();
    } catch {
      throw new DomainError(
        "unknown_location",
        "the shop has no source location to commit stock at",
      );
    }
  }

  /** Writes one effect; false when its key was seen before (a duplicate). */
  async record(effect: Effect): Promise<boolean> {
    const movementId = await ledger.recordMovement(
      this.tx,
      {
        shopId: this.shopId,
        itemId: effect.itemId,
        locationId: effect.locationId,
        key: effect.key,
        kind: effect.kind,
        delta: effect.delta,
        receiptId: this.receiptId,
        connectionId: effect.connectionId,
        orderRef: effect.orderRef,
        lineRef: effect.lineRef,
        actor: this.event.actor,
        reason: this.event.reason ?? null,
      },
      effect.line,
    );
    if (movementId === null) return false;
    const source = this.sourceConnectionId;
    if (recountAfter(effect.kind, effect.delta, effect.connectionId, source)) {
      const recounts = (this.result.sourceRecounts ??= []);
      if (!recounts.some((r) => r.itemId === effect.itemId && r.locationId === effect.locationId))
        recounts.push({ itemId: effect.itemId, locationId: effect.locationId });
    }
    const adjustment = sourceAdjustmentFor(effect.kind, effect.delta, effect.connectionId, source);
    if (adjustment && source) {
      await ledger.insertSourceAdjustment(this.tx, {
        shopId: this.shopId,
        connectionId: source,
        itemId: effect.itemId,
        locationId: effect.locationId,
        movementId,
        ...adjustment,
      });
      const key = levelKey(effect.itemId, effect.locationId);
      const pending = this.outbox.get(key);
      if (pending !== undefined) this.outbox.set(key, pending + adjustment.delta);
    }
    const before = this.itemAts(effect.itemId);
    const sellableBefore = this.itemSellable(effect.itemId);
    if (!isZeroDelta(effect.delta)) {
      addInPlace(await this.level(effect.itemId, effect.locationId), effect.delta);
      this.touched.add(levelKey(effect.itemId, effect.locationId));
    }
    const shortfall = newlyOversold(before, this.itemAts(effect.itemId));
    // A merchant's own confirmed change is their decision, not an oversell (a separate path).
    if (shortfall > 0 && this.event.merchantDecision)
      await this.recordMerchantDecision(effect, movementId, before, shortfall);
    // Physical shortfall (safety stock excluded): a provisional incident, confirmed or explained
    // once the item settles (services/incidents); a merchant's decision is kept there too (as
    // such) so settling never counts it as a channel's oversell.
    const physical = shortfallGrowth(sellableBefore, this.itemSellable(effect.itemId));
    if (physical > 0) await this.recordIncident(effect, movementId, before, physical);
    this.result.applied++;
    return true;
  }

  private async recordMerchantDecision(
    effect: Effect,
    movementId: bigint,
    before: number,
    shortfall: number,
  ): Promise<void> {
    await insertMerchantDecision(this.tx, {
      shopId: this.shopId,
      itemId: effect.itemId,
      sku: this.locked.skuOf.get(effect.itemId) ?? "",
      movementId,
      kind: effect.kind,
      actor: this.event.actor,
      reason: this.event.reason ?? null,
      shortfall,
      atsBefore: before,
      atsAfter: this.itemAts(effect.itemId),
    });
    this.result.merchantDecisions = (this.result.merchantDecisions ?? 0) + 1;
  }

  private async recordIncident(
    effect: Effect,
    movementId: bigint,
    before: number,
    shortfall: number,
  ): Promise<void> {
    const { listings, components, skuOf } = this.locked;
    const itemListings = listings.filter((l) =>
      components.some((c) => c.listingId === l.id && c.itemId === effect.itemId),
    );
    const recorded = await recordProvisionalIncident(this.tx, {
      shopId: this.shopId,
      itemId: effect.itemId,
      sku: skuOf.get(effect.itemId) ?? "",
      kind: effect.kind,
      connectionId: effect.connectionId,
      listingId: effect.listingId,
      orderRef: effect.orderRef,
      lineRef: effect.lineRef,
      merchant: !!this.event.merchantDecision,
      actor: this.event.actor,
      movementId,
      receiptId: this.receiptId,
      shortfall,
      atsBefore: before,
      atsAfter: this.itemAts(effect.itemId),
      listings: itemListings.map((l) => ({
        listingId: l.id,
        connectionId: l.connectionId,
        role: l.connectionRole,
        published: l.publishedQuantity,
        pushed: l.pushedQuantity,
        lastPushedAt: l.lastPushedAt,
        remote: l.remoteQuantity,
        remoteObservedAt: l.remoteObservedAt,
        components: components.filter((c) => c.listingId === l.id).length,
      })),
    });
    if (recorded.status === "provisional")
      this.result.incidents.push({
        id: recorded.id,
        itemId: effect.itemId,
        shortfall,
        rootCause: recorded.status,
      });
  }
}

function addInPlace(target: LevelFacts, delta: FactDelta): void {
  target.onHand += delta.onHand;
  target.committed += delta.committed;
  target.held += delta.held;
  target.damaged += delta.damaged;
  target.safetyStock += delta.safetyStock;
}
