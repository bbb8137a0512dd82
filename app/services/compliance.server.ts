/**
 * Mandatory compliance webhooks. StockGuard stores no customer personal data: receipts keep only
 * the order fields the ledger needs (ids, lines, quantities, timestamps), stripped at the edge.
 * Each request is recorded once (unique per shop, topic and webhook id) with what was done.
 * Persistence in `repositories/compliance.server.ts`.
 */
import { z } from "zod";
import {
  countOrderReferences,
  deleteOrderReceipts,
  eraseShop,
  findComplianceRequest,
  findShopId,
  inComplianceTransaction,
  recordComplianceRequest,
  type ComplianceTopic,
  type ComplianceTx,
} from "../repositories/compliance.server";

const id = z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(String);

export const ZCustomersDataRequest = z.object({
  shop_domain: z.string().min(1),
  customer: z.object({ id }),
  orders_requested: z.array(id).default([]),
  data_request: z.object({ id }).optional(),
});

export const ZCustomersRedact = z.object({
  shop_domain: z.string().min(1),
  customer: z.object({ id }),
  orders_to_redact: z.array(id).default([]),
});

export const ZShopRedact = z.object({ shop_domain: z.string().min(1) });

type Outcome = { duplicate: boolean; outcome: Record<string, unknown> };

async function alreadyHandled(
  shopDomain: string,
  topic: ComplianceTopic,
  webhookId: string,
): Promise<Outcome | null> {
  const existing = await findComplianceRequest({ shopDomain, topic, webhookId });
  return existing
    ? { duplicate: true, outcome: existing.outcome as Record<string, unknown> }
    : null;
}

/**
 * `customers/data_request`: report what StockGuard holds about the customer's orders. The
 * report (order ids and the ledger rows referencing them, no personal data) is stored for the
 * merchant to hand over.
 */
export async function handleCustomersDataRequest(
  shopDomain: string,
  webhookId: string,
  payload: z.infer<typeof ZCustomersDataRequest>,
): Promise<Outcome> {
  const done = await alreadyHandled(shopDomain, "customers_data_request", webhookId);
  if (done) return done;
  return inComplianceTransaction(async (tx) => {
    const shopId = await findShopId(tx, { shopDomain });
    const held = shopId ? await ordersHeld(tx, shopId, payload.orders_requested) : {};
    const outcome = {
      personalDataHeld: false,
      ordersRequested: payload.orders_requested.length,
      ...held,
    };
    await recordComplianceRequest(tx, {
      shopDomain,
      shopId,
      topic: "customers_data_request",
      webhookId,
      subject: {
        customerId: payload.customer.id,
        orderIds: payload.orders_requested,
        dataRequestId: payload.data_request?.id ?? null,
      },
      outcome,
    });
    return { duplicate: false, outcome };
  });
}

/**
 * `customers/redact`: erase every stored trace of the customer's orders that could carry
 * personal data (raw receipts of those orders). Ledger movements keep only anonymous
 * quantities and are left intact so balances still add up.
 */
export async function handleCustomersRedact(
  shopDomain: string,
  webhookId: string,
  payload: z.infer<typeof ZCustomersRedact>,
): Promise<Outcome> {
  const done = await alreadyHandled(shopDomain, "customers_redact", webhookId);
  if (done) return done;
  return inComplianceTransaction(async (tx) => {
    const shopId = await findShopId(tx, { shopDomain });
    const erased = shopId ? await eraseOrderPayloads(tx, shopId, payload.orders_to_redact) : {};
    const outcome = { ordersToRedact: payload.orders_to_redact.length, ...erased };
    await recordComplianceRequest(tx, {
      shopDomain,
      shopId,
      topic: "customers_redact",
      webhookId,
      subject: { customerId: payload.customer.id, orderIds: payload.orders_to_redact },
      outcome,
    });
    return { duplicate: false, outcome };
  });
}

/**
 * `shop/redact` (48 h after uninstall): erase everything StockGuard stores for the shop —
 * sessions, connections and credentials, catalog, ledger, receipts, incidents. Only the
 * compliance record itself (domain, topic, webhook id) remains as proof of erasure.
 */
export async function handleShopRedact(
  shopDomain: string,
  webhookId: string,
  _payload: z.infer<typeof ZShopRedact>,
): Promise<Outcome> {
  const done = await alreadyHandled(shopDomain, "shop_redact", webhookId);
  if (done) return done;
  return inComplianceTransaction(async (tx) => {
    const outcome = await eraseShop(tx, { shopDomain });
    await recordComplianceRequest(tx, {
      shopDomain,
      shopId: null,
      topic: "shop_redact",
      webhookId,
      subject: {},
      outcome,
    });
    return { duplicate: false, outcome };
  });
}

/** What StockGuard holds about these orders: ledger references only (ids and quantities). */
async function ordersHeld(
  tx: ComplianceTx,
  shopId: string,
  orderIds: string[],
): Promise<Record<string, unknown>> {
  if (orderIds.length === 0) return { orderLines: 0, receipts: 0, movements: 0 };
  return countOrderReferences(tx, { shopId, orderIds });
}

/**
 * Receipts of those orders are deleted (they are the only stored copy of a channel payload,
 * even if stripped); order lines, movements and incidents keep anonymous ids and quantities so
 * the ledger still balances.
 */
async function eraseOrderPayloads(
  tx: ComplianceTx,
  shopId: string,
  orderIds: string[],
): Promise<Record<string, unknown>> {
  if (orderIds.length === 0) return { receiptsDeleted: 0 };
  return { receiptsDeleted: await deleteOrderReceipts(tx, { shopId, orderIds }) };
}
