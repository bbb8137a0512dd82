/**
 * Order lines no listing or SKU matched (recorded when their order was applied, the rest of the
 * order applied as usual). The merchant maps one to a stock item: from then on that channel
 * reference (the line's variant/listing reference, else its SKU) means that item, and the order's
 * stored events are applied again — every other line's effects are keyed and stay as they are,
 * so only the mapped line is added, exactly once.
 */
import { adapterFor } from "../channels/registry.server";
import { normalizeSku } from "../domain/sku";
import { enqueuePushes, enqueueSafely } from "../queues/jobs.server";
import * as catalog from "../repositories/catalog.server";
import * as connections from "../repositories/connections.server";
import * as ledger from "../repositories/ledger.server";
import * as shops from "../repositories/shops.server";
import { applyLedgerEvent } from "./ledger/apply-event.server";

export class MappingError extends Error {}

export async function mapUnmatchedLine(input: {
  shopDomain: string;
  unmatchedId: bigint;
  itemId: string;
  actor: string;
}): Promise<{ applied: number }> {
  const shop = await shops.shopDetails(input.shopDomain);
  if (!shop || shop.status !== "active") throw new MappingError("unknown shop");
  const line = await ledger.unmatchedLine(shop.id, input.unmatchedId);
  if (!line) throw new MappingError("unknown unmatched line");
  if (line.resolvedAt) throw new MappingError("this line is already mapped");
  const [item] = await ledger.findItemsByIdOutsideEvent(shop.id, [input.itemId]);
  if (!item) throw new MappingError("unknown stock item");
  const reference = line.remoteRef ?? normalizeSku(line.sku);
  if (!reference) throw new MappingError("the line has neither a reference nor a SKU to map");
  await ledger.upsertLineMapping({
    shopId: shop.id,
    connectionId: line.connectionId,
    reference,
    itemId: item.id,
  });
  const row = await connections.loadConnection(line.connectionId);
  if (!row) throw new MappingError("the line's channel no longer exists");
  const inbound = adapterFor(row.kind).inbound;
  let applied = 0;
  const touched = new Set<string>();
  for (const receipt of await ledger.orderReceipts(line.connectionId, line.orderId)) {
    const checked = inbound.check(receipt.topic, receipt.payload);
    if (!checked.ok) continue;
    const meaning = inbound.translate(line.connectionId, receipt.topic, checked.payload);
    if (meaning.kind !== "ledger" || meaning.operations.length === 0) continue;
    const result = await applyLedgerEvent({
      shopId: shop.id,
      receiptId: receipt.id,
      actor: input.actor,
      reason: `unmatched line ${line.lineId} of order ${line.orderId} mapped to ${item.sku}`,
      receivedAt: new Date(),
      operations: meaning.operations,
    });
    applied += result.applied;
    for (const l of result.changedListings) touched.add(l.connectionId);
  }
  await ledger.resolveUnmatchedLines(line.connectionId, [line.orderId]);
  if (shop.syncEnabled) await enqueueSafely("push", () => enqueuePushes(touched));
  return { applied };
}

/** A shop's item by SKU (the CLI names items by SKU). */
export async function findItemBySku(
  shopDomain: string,
  sku: string,
): Promise<{ id: string } | null> {
  const shop = await shops.shopDetails(shopDomain);
  const normalised = normalizeSku(sku);
  if (!shop || !normalised) return null;
  const items = await catalog.itemsBySku(shop.id, [normalised]);
  const id = items.get(normalised);
  return id ? { id } : null;
}
