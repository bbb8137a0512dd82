/**
 * The ingest job: one stored receipt → what it means (the channel adapter's inbound port) → one
 * ledger transaction, a level observation, or a catalog refresh. Safe to run twice: the receipt
 * status is checked first and every ledger effect is keyed, so a retried or swept job changes
 * nothing the second time.
 */
import { adapterFor } from "../../channels/registry.server";
import { DomainError } from "../../domain/errors";
import { describeError, isUnstorableValue } from "../../lib/data-errors";
import { metrics } from "../../lib/metrics.server";
import { lazyLog } from "../../logger.server";
import { enqueueMaintenance, enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import type { LedgerOperation } from "../../domain/operations";
import { toContext } from "../../repositories/connections.server";
import {
  loadReceiptForIngest,
  markReceipt,
  recordRejected,
  type LoadedReceipt,
} from "../../repositories/receipts.server";
import { applyLedgerEventUnless } from "../ledger/apply-event.server";
import { eraseDeletedAccount } from "../inbound/account-deletion.server";
import { applyIfNoOp } from "./noop-snapshot.server";
import { observeLevel } from "./observe-level.server";
import { recountSourceLevels } from "./read-source-levels.server";

export type IngestOutcome =
  | { status: "missing" | "already" }
  | {
      status: "applied";
      applied: number;
      duplicates: number;
      unmatched: number;
      incidents: number;
      pushes: number;
    }
  | { status: "ignored"; reason: string }
  | { status: "observed"; action: string };

/**
 * `stored`: the receipt as it was just stored (the web's fast lane), instead of reading it back.
 */
export async function ingestReceipt(
  receiptId: bigint,
  stored?: LoadedReceipt,
): Promise<IngestOutcome> {
  const loaded = stored ?? (await loadReceiptForIngest(receiptId));
  if (!loaded) return { status: "missing" };
  const { receipt, connection } = loaded;
  if (receipt.status !== "pending") return { status: "already" };
  if (!connection) {
    await markReceipt(receiptId, "ignored", "connection removed");
    return { status: "ignored", reason: "connection removed" };
  }
  const topic = receipt.topic;
  const logger = lazyLog({
    shop: connection.shopDomain,
    receiptId: receiptId.toString(),
    topic,
    connectionId: connection.id,
  });
  const inbound = adapterFor(connection.kind).inbound;
  const checked = inbound.check(topic, receipt.payload);
  if (!checked.ok) {
    await markReceipt(
      receiptId,
      "failed",
      `payload no longer matches its schema: ${checked.reason}`,
    );
    throw new DomainError(
      "invalid_command",
      `receipt ${receiptId} has an invalid ${topic} payload`,
    );
  }
  const meaning = inbound.translate(connection.id, topic, checked.payload);
  let operations: LedgerOperation[] = [];
  switch (meaning.kind) {
    case "ignored":
      await markReceipt(receiptId, "ignored", meaning.reason);
      return { status: "ignored", reason: meaning.reason };
    case "level": {
      const { action } = await observeLevel(connection, meaning.level, receipt.receivedAt);
      await markReceipt(receiptId, "applied");
      return { status: "observed", action };
    }
    case "catalog_changed":
      await enqueueMaintenance({ task: "import_catalog", connectionId: connection.id }, 1_000);
      await markReceipt(receiptId, "applied");
      return { status: "observed", action: "catalog import scheduled" };
    case "account_deleted": {
      const erased = await eraseDeletedAccount(connection.kind, meaning.accountRefSha256);
      await markReceipt(receiptId, "applied");
      return { status: "observed", action: `account erased from ${erased} connection(s)` };
    }
    case "order_reference": {
      // The event names the order only (eBay): read it back, then apply it like any snapshot.
      const adapter = adapterFor(connection.kind);
      const order = adapter.fetchOrder
        ? await adapter.fetchOrder(toContext(connection), meaning.orderId)
        : null;
      if (!order) {
        await markReceipt(receiptId, "ignored", `order ${meaning.orderId} could not be read`);
        return { status: "ignored", reason: "order not found" };
      }
      operations = order.operations;
      break;
    }
    case "ledger":
      operations = meaning.operations;
      break;
  }
  const lineOperations = operations.filter((op) => op.type === "line");
  try {
    const result = await applyLedgerEventUnless(
      {
        shopId: connection.shopId,
        receiptId,
        actor: `${connection.kind}:${topic}`,
        receivedAt: receipt.receivedAt,
        operations,
        markReceiptApplied: true,
      },
      (tx) =>
        lineOperations.length === operations.length
          ? applyIfNoOp(tx, {
              shopId: connection.shopId,
              connectionId: connection.id,
              receiptId,
              operations: lineOperations,
            })
          : Promise.resolve(false),
    );
    metrics().ingestSeconds.observe({ topic }, (Date.now() - receipt.receivedAt.getTime()) / 1000);
    if (result === null) {
      return {
        status: "applied",
        applied: 0,
        duplicates: operations.length,
        unmatched: 0,
        incidents: 0,
        pushes: 0,
      };
    }
    if (result.incidents.length > 0) {
      // Provisional: counted (metric, alerts) only once the item settles (services/incidents).
      const units = result.incidents.reduce((s, i) => s + i.shortfall, 0);
      logger().info(
        { incidents: result.incidents.length, units },
        "provisional shortfall recorded",
      );
    }
    if (result.sourceRecounts && connection.role === "source")
      await recountSourceLevels(connection.id, result.sourceRecounts);
    const touched = new Set(result.changedListings.map((l) => l.connectionId));
    if (connection.syncEnabled) await enqueueSafely("push", () => enqueuePushes(touched));
    return {
      status: "applied",
      applied: result.applied,
      duplicates: result.duplicates,
      unmatched: result.unmatched,
      incidents: result.incidents.length,
      pushes: touched.size,
    };
  } catch (error) {
    if (error instanceof DomainError) await markReceipt(receiptId, "failed", error.message);
    if (isUnstorableValue(error)) {
      // The database refuses the values themselves: failing now beats retrying forever.
      const reason = `cannot be stored: ${describeError(error)}`;
      await markReceipt(receiptId, "failed", reason);
      await recordRejected({
        shopDomain: connection.shopDomain,
        shopId: connection.shopId,
        topic,
        reason,
        webhookId: null,
        eventId: null,
      });
      throw new DomainError("invalid_command", `receipt ${receiptId} ${reason}`);
    }
    throw error;
  }
}
