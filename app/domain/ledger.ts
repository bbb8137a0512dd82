/**
 * Translation of channel-neutral commands into ledger movements (fact deltas).
 *
 * Order lines keep a small state per (connection, order, line, item). Every command on a line is
 * either last-writer-wins on a version (placed, edited) or additive under a unique idempotency
 * key (cancellations, shipments, returns), and the commitment is a function of the final state:
 *
 *   committed = cancelledAll ? 0 : max(0, ordered − cancelled − shipped)
 *
 * so any set of commands, delivered in any order and any number of times (duplicates stopped by
 * their keys), ends in the same state. The committed delta of a command is the difference of
 * that function before and after it.
 */
import { DomainError, InvalidQuantityError, MissingIdempotencyKeyError } from "./errors";
import { isInt, isNonNegativeInt, ZERO_FACTS, type FactDelta, type LevelFacts } from "./types";

export type LineState = {
  /** Units ordered on the line after edits (per stock item: line quantity × units per listing). */
  ordered: number;
  /** Version of the value in `ordered` (ISO timestamp); null until placed or edited is seen. */
  orderedVersion: string | null;
  cancelledAll: boolean;
  cancelled: number;
  shipped: number;
  returned: number;
};

export const EMPTY_LINE: LineState = {
  ordered: 0,
  orderedVersion: null,
  cancelledAll: false,
  cancelled: 0,
  shipped: 0,
  returned: 0,
};

/**
 * `version` orders a line's own updates (last writer wins: the order's update time); `soldAt`,
 * when the channel says, is when the order was placed — the sale time of the units the line's
 * first appearance takes (an order first seen through a later update carries a later version).
 */
export type LineCommand =
  /** The order was placed with this quantity (the channel's creation event). */
  | { kind: "placed"; quantity: number; version: string; soldAt?: string }
  /** The line's ordered quantity is now `quantity` (edit up/down; 0 = line removed). */
  | { kind: "edited"; quantity: number; version: string; soldAt?: string }
  /** The whole order was cancelled: every unshipped unit is released. */
  | { kind: "cancelled_all" }
  /** Part of the line was cancelled (partial cancel, refund with restock of unfulfilled units). */
  | { kind: "cancelled"; quantity: number }
  /** Units shipped: committed units leave on hand. */
  | { kind: "shipped"; quantity: number }
  /** Refund with restock of shipped units: back on hand, held until inspected. */
  | { kind: "returned"; quantity: number }
  /** Refund without restock: releases the commitment of unshipped units, nothing comes back. */
  | { kind: "refunded_no_restock"; quantity: number };

export type LineCommandKind = LineCommand["kind"];

export function lineCommitment(state: LineState): number {
  if (state.cancelledAll) return 0;
  return Math.max(0, state.ordered - state.cancelled - state.shipped);
}

/** Commands that are idempotent by themselves (LWW) rather than by a key. */
export function isLastWriterWins(command: LineCommand): boolean {
  return command.kind === "placed" || command.kind === "edited";
}

function newerVersion(
  candidate: { version: string; quantity: number },
  current: { version: string | null; quantity: number },
): boolean {
  if (current.version === null) return true;
  if (candidate.version !== current.version) return candidate.version > current.version;
  // Same version twice with different quantities: pick the larger, deterministically.
  return candidate.quantity > current.quantity;
}

export function validateLineCommand(command: LineCommand): void {
  if ("quantity" in command) {
    const allowZero = command.kind === "edited";
    if (!isNonNegativeInt(command.quantity) || (!allowZero && command.quantity === 0)) {
      throw new InvalidQuantityError(`${command.kind}.quantity`, command.quantity);
    }
  }
  if ((command.kind === "placed" || command.kind === "edited") && !command.version) {
    throw new DomainError("invalid_command", `${command.kind} needs a version (event time)`);
  }
}

/** Scales a listing-level command to one component (a 3-pack line of 2 commits 6 units). */
export function scaleLineCommand(command: LineCommand, perUnit: number): LineCommand {
  if (perUnit === 1 || !("quantity" in command)) return command;
  return { ...command, quantity: command.quantity * perUnit };
}

export function applyLineCommand(
  state: LineState,
  command: LineCommand,
): { state: LineState; delta: FactDelta } {
  validateLineCommand(command);
  const next: LineState = { ...state };
  const delta: FactDelta = { ...ZERO_FACTS };
  switch (command.kind) {
    case "placed":
    case "edited": {
      // Both are last-writer-wins on the event time: a creation event (version = creation time)
      // never overrides an edit that arrived earlier, whose version is later.
      if (newerVersion(command, { version: state.orderedVersion, quantity: state.ordered })) {
        next.ordered = command.quantity;
        next.orderedVersion = command.version;
      }
      break;
    }
    case "cancelled_all":
      next.cancelledAll = true;
      break;
    case "cancelled":
    case "refunded_no_restock":
      next.cancelled += command.quantity;
      break;
    case "shipped":
      next.shipped += command.quantity;
      delta.onHand = -command.quantity;
      break;
    case "returned":
      next.returned += command.quantity;
      delta.onHand = command.quantity;
      delta.held = command.quantity;
      break;
  }
  delta.committed = lineCommitment(next) - lineCommitment(state);
  return { state: next, delta };
}

/** Item-level commands (not tied to an order line). */
export type ItemCommand =
  | { kind: "inspection_passed"; quantity: number }
  | { kind: "inspection_failed"; quantity: number }
  /** Damaged units disposed of: they leave on hand. */
  | { kind: "written_off"; quantity: number }
  /**
   * The source reports an absolute on-hand. `pendingToSource` is the net on-hand change the
   * ledger has applied but not yet written to the source (a marketplace shipment on its way to
   * Shopify's `reserved`), so the source is expected to show `onHand − pendingToSource`.
   */
  | {
      kind: "on_hand_counted";
      onHand: number;
      pendingToSource: number;
      /**
       * The ledger's on_hand the count was decided against, read before the store was. If it
       * moved by the time the count is applied (a shipment or restock applied meanwhile), the
       * store's figure may predate that event or not: the count is stale and not applied. (New
       * orders move only `committed`, so a selling SKU does not keep its counts waiting.)
       */
      basis?: { onHand: number };
    }
  | { kind: "manual_adjustment"; delta: number; reason: string }
  /** An approved cycle count: on hand moves by counted − expected (app/domain/counts.ts). */
  | { kind: "cycle_counted"; delta: number }
  | { kind: "safety_stock_set"; quantity: number }
  /** Opening balance of the non-sellable states found on the source at import. */
  | { kind: "unsellable_set"; held: number; damaged: number };

export type ItemCommandKind = ItemCommand["kind"];

export function applyItemCommand(facts: LevelFacts, command: ItemCommand): FactDelta {
  const delta: FactDelta = { ...ZERO_FACTS };
  switch (command.kind) {
    case "inspection_passed":
    case "inspection_failed":
    case "written_off": {
      if (!isNonNegativeInt(command.quantity) || command.quantity === 0) {
        throw new InvalidQuantityError(`${command.kind}.quantity`, command.quantity);
      }
      const pool = command.kind === "written_off" ? facts.damaged : facts.held;
      if (command.quantity > pool) {
        throw new DomainError(
          "invalid_command",
          `${command.kind}: only ${pool} unit(s) are ${command.kind === "written_off" ? "damaged" : "held"}, cannot process ${command.quantity}`,
        );
      }
      if (command.kind === "inspection_passed") delta.held = -command.quantity;
      if (command.kind === "inspection_failed") {
        delta.held = -command.quantity;
        delta.damaged = command.quantity;
      }
      if (command.kind === "written_off") {
        delta.damaged = -command.quantity;
        delta.onHand = -command.quantity;
      }
      return delta;
    }
    case "on_hand_counted": {
      // Shopify can report a negative on_hand (stock adjusted below zero): record what it says.
      if (!isInt(command.onHand)) throw new InvalidQuantityError("onHand", command.onHand);
      if (!isInt(command.pendingToSource)) {
        throw new InvalidQuantityError("pendingToSource", command.pendingToSource);
      }
      delta.onHand = command.onHand - (facts.onHand - command.pendingToSource);
      return delta;
    }
    case "manual_adjustment": {
      if (!isInt(command.delta) || command.delta === 0) {
        throw new DomainError(
          "invalid_quantity",
          `adjustment must be a non-zero integer, got ${command.delta}`,
        );
      }
      if (!command.reason.trim())
        throw new DomainError("invalid_command", "a manual adjustment needs a reason");
      delta.onHand = command.delta;
      return delta;
    }
    case "cycle_counted": {
      if (!isInt(command.delta) || command.delta === 0) {
        throw new DomainError(
          "invalid_quantity",
          `a count correction must be a non-zero integer, got ${command.delta}`,
        );
      }
      delta.onHand = command.delta;
      return delta;
    }
    case "safety_stock_set": {
      if (!isNonNegativeInt(command.quantity))
        throw new InvalidQuantityError("safetyStock", command.quantity);
      delta.safetyStock = command.quantity - facts.safetyStock;
      return delta;
    }
    case "unsellable_set": {
      if (!isNonNegativeInt(command.held)) throw new InvalidQuantityError("held", command.held);
      if (!isNonNegativeInt(command.damaged))
        throw new InvalidQuantityError("damaged", command.damaged);
      delta.held = command.held - facts.held;
      delta.damaged = command.damaged - facts.damaged;
      return delta;
    }
  }
}

export function requireKey(key: string | undefined | null): string {
  if (typeof key !== "string" || key.trim() === "") throw new MissingIdempotencyKeyError();
  if (key.length > 300)
    throw new DomainError("invalid_command", "idempotency key longer than 300 characters");
  return key;
}
