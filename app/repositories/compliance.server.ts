/**
 * Compliance requests (Shopify's mandatory customer and shop privacy webhooks): the record of
 * each request, unique per shop domain, topic and webhook id, and the reads and erasures the
 * handlers run inside one transaction (`inComplianceTransaction`). Statements are scoped by the
 * shop domain or the shop id resolved from it.
 */
import type {
  ComplianceRequest,
  ComplianceTopic as PrismaComplianceTopic,
  Prisma,
} from "@prisma/client";
import prisma from "../db.server";

export type ComplianceTopic = PrismaComplianceTopic;

/** A transaction handle, handed to the functions below by `inComplianceTransaction`. */
export type ComplianceTx = Prisma.TransactionClient;

export type ComplianceRecord = Pick<ComplianceRequest, "outcome">;

/** Runs `fn` in one transaction: everything it does through `tx` commits or none of it does. */
export function inComplianceTransaction<T>(fn: (tx: ComplianceTx) => Promise<T>): Promise<T> {
  return prisma.$transaction(fn);
}

/** The request already recorded for this shop, topic and webhook id, if any. */
export async function findComplianceRequest(input: {
  shopDomain: string;
  topic: ComplianceTopic;
  webhookId: string;
}): Promise<ComplianceRecord | null> {
  return prisma.complianceRequest.findUnique({
    where: { shopDomain_topic_webhookId: input },
    select: { outcome: true },
  });
}

/** Records a handled request; false when the same request was recorded concurrently. */
export async function recordComplianceRequest(
  tx: ComplianceTx,
  input: {
    shopDomain: string;
    shopId: string | null;
    topic: ComplianceTopic;
    webhookId: string;
    subject: Record<string, unknown>;
    outcome: Record<string, unknown>;
  },
): Promise<boolean> {
  const inserted = await tx.complianceRequest.createMany({
    data: [
      {
        shopDomain: input.shopDomain,
        shopId: input.shopId,
        topic: input.topic,
        webhookId: input.webhookId,
        subject: input.subject as Prisma.InputJsonValue,
        outcome: input.outcome as Prisma.InputJsonValue,
      },
    ],
    skipDuplicates: true,
  });
  return inserted.count === 1;
}

/** The id of the shop with this domain, or null (never installed, or already erased). */
export async function findShopId(
  tx: ComplianceTx,
  input: { shopDomain: string },
): Promise<string | null> {
  const shop = await tx.shop.findUnique({
    where: { domain: input.shopDomain },
    select: { id: true },
  });
  return shop?.id ?? null;
}

/** Ledger rows of the shop referencing these orders: order lines, receipts, movements. */
export async function countOrderReferences(
  tx: ComplianceTx,
  input: { shopId: string; orderIds: string[] },
): Promise<{ orderLines: number; receipts: number; movements: number }> {
  const { shopId, orderIds } = input;
  const [orderLines, receipts, movements] = await Promise.all([
    tx.orderLine.count({ where: { shopId, orderId: { in: orderIds } } }),
    tx.receipt.count({ where: { shopId, resourceId: { in: orderIds } } }),
    tx.movement.count({ where: { shopId, orderRef: { in: orderIds } } }),
  ]);
  return { orderLines, receipts, movements };
}

/** Deletes the shop's receipts of these orders (the stored channel payloads); how many. */
export async function deleteOrderReceipts(
  tx: ComplianceTx,
  input: { shopId: string; orderIds: string[] },
): Promise<number> {
  const deleted = await tx.receipt.deleteMany({
    where: { shopId: input.shopId, resourceId: { in: input.orderIds } },
  });
  return deleted.count;
}

/**
 * Erases the shop and everything stored for it (every shop-scoped table cascades from `shop`),
 * and its sessions. The movement ledger is append-only; erasure is the one sanctioned
 * exception, switched on for this transaction only.
 */
export async function eraseShop(
  tx: ComplianceTx,
  input: { shopDomain: string },
): Promise<{ sessionsDeleted: number; shopErased: boolean }> {
  await tx.$executeRaw`SELECT set_config('stockguard.erasing', 'on', true)`;
  const sessions = await tx.session.deleteMany({ where: { shop: input.shopDomain } });
  const shops = await tx.shop.deleteMany({ where: { domain: input.shopDomain } });
  return { sessionsDeleted: sessions.count, shopErased: shops.count === 1 };
}
