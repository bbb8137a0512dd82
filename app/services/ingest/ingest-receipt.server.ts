import {
  fulfillmentOperations,
  orderOperations,
  refundOperations,
} from "../../channels/shopify/translate";
import { TOPIC_SCHEMAS, type ShopifyTopic } from "../../channels/shopify/webhook-schemas";
import { DomainError } from "../../domain/errors";
import { db } from "../../lib/sql.server";
import { metrics } from "../../lib/metrics.server";
import { log } from "../../logger.server";
import { enqueueMaintenance, enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import { loadConnection } from "../../repositories/push.server";
import { loadReceipt, markReceipt } from "../../repositories/receipts.server";
import { applyLedgerEvent, type LineOperation } from "../ledger/apply-event.server";
import { applyIfNoOp } from "./noop-snapshot.server";
import { observeInventoryLevel } from "./observe-level.server";

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
 * Applies one stored receipt. Safe to run twice: the receipt status is checked first and every
 * ledger effect is keyed, so a retried or swept job changes nothing the second time.
 */
export async function ingestReceipt(receiptId: bigint): Promise<IngestOutcome> {
  const receipt = await loadReceipt(db(), receiptId);
  if (!receipt) return { status: "missing" };
  if (receipt.status !== "pending") return { status: "already" };
  const connection = await loadConnection(db(), receipt.connectionId);
  if (!connection) {
    await markReceipt(db(), receiptId, "ignored", "connection removed");
    return { status: "ignored", reason: "connection removed" };
  }
  const topic = receipt.topic as ShopifyTopic;
  const logger = log({
    shop: connection.shopDomain,
    receiptId: receiptId.toString(),
    topic,
    connectionId: connection.id,
  });
  const parsed = TOPIC_SCHEMAS[topic]?.safeParse(receipt.payload);
  if (!parsed?.success) {
    await markReceipt(db(), receiptId, "failed", "payload no longer matches its schema");
    throw new DomainError(
      "invalid_command",
      `receipt ${receiptId} has an invalid ${topic} payload`,
    );
  }

  let operations: LineOperation[] = [];
  switch (topic) {
    case "orders/create":
    case "orders/updated":
    case "orders/cancelled":
      operations = orderOperations(connection.id, topic, parsed.data as never);
      break;
    case "refunds/create":
      operations = refundOperations(connection.id, parsed.data as never);
      break;
    case "fulfillments/create":
    case "fulfillments/update":
      operations = fulfillmentOperations(connection.id, parsed.data as never);
      break;
    case "orders/edited":
      // The edit's absolute result arrives as orders/updated (same order, later updated_at),
      // which is last-writer-wins per line; deltas here would double count against it.
      await markReceipt(
        db(),
        receiptId,
        "ignored",
        "applied through the orders/updated snapshot that follows every edit",
      );
      return { status: "ignored", reason: "superseded by orders/updated" };
    case "inventory_levels/update": {
      const { action } = await observeInventoryLevel(
        connection,
        parsed.data as never,
        receipt.receivedAt,
      );
      await markReceipt(db(), receiptId, "applied");
      return { status: "observed", action };
    }
    case "products/update":
    case "inventory_items/create":
    case "inventory_items/delete":
      await enqueueMaintenance({ task: "import_catalog", connectionId: connection.id }, 1_000);
      await markReceipt(db(), receiptId, "applied");
      return { status: "observed", action: "catalog import scheduled" };
  }

  if (
    await applyIfNoOp({
      shopId: connection.shopId,
      connectionId: connection.id,
      receiptId,
      operations,
    })
  ) {
    metrics().ingestSeconds.observe({ topic }, (Date.now() - receipt.receivedAt.getTime()) / 1000);
    return {
      status: "applied",
      applied: 0,
      duplicates: operations.length,
      unmatched: 0,
      incidents: 0,
      pushes: 0,
    };
  }
  try {
    const result = await applyLedgerEvent({
      shopId: connection.shopId,
      receiptId,
      actor: `shopify:${topic}`,
      receivedAt: receipt.receivedAt,
      operations,
      markReceiptApplied: true,
    });
    metrics().ingestSeconds.observe({ topic }, (Date.now() - receipt.receivedAt.getTime()) / 1000);
    if (result.incidents.length > 0) {
      const units = result.incidents.reduce((s, i) => s + i.shortfall, 0);
      metrics().oversells.inc(units);
      logger.warn({ incidents: result.incidents.length, units }, "oversell recorded");
    }
    const connections = new Set(result.changedListings.map((l) => l.connectionId));
    if (connection.syncEnabled) await enqueueSafely("push", () => enqueuePushes(connections));
    return {
      status: "applied",
      applied: result.applied,
      duplicates: result.duplicates,
      unmatched: result.unmatched,
      incidents: result.incidents.length,
      pushes: connections.size,
    };
  } catch (error) {
    if (error instanceof DomainError) await markReceipt(db(), receiptId, "failed", error.message);
    throw error;
  }
}
