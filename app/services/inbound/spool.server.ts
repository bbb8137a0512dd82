/**
 * The spool (decision 0023): a verified delivery the web cannot store because the database is
 * unreachable is held in Redis (the `spool` queue) and acknowledged, instead of being refused
 * into Shopify's retry schedule (the first retry ~1 minute later, the next ones hours apart).
 * The worker stores each held delivery once the database answers again, exactly as the web
 * would have: the same receipt (keyed by event id, so a duplicate that Shopify also sent is
 * stored once) with the time the web received it, or the same level observation.
 */
import type { SpoolJob } from "../../queues/definitions";
import { spoolDelivery } from "../../queues/jobs.server";
import { observeLevel } from "../ingest/observe-level.server";
import {
  inboundPort,
  recordRefusedDelivery,
  storeDelivery,
  type DeliveryTarget,
} from "./deliveries.server";

export type SpooledDelivery = {
  accountRef: string;
  topic: string;
  eventId: string;
  deliveryId: string | null;
  occurredAt: Date | null;
  receivedAt: Date;
  /** The payload as the port checked it. */
  payload: unknown;
};

/** Holds the delivery for each target. Throws when Redis cannot take it (the caller answers 503). */
export async function spoolDeliveries(
  targets: DeliveryTarget[],
  sameAccount: DeliveryTarget[],
  delivery: SpooledDelivery,
): Promise<void> {
  for (const target of targets) {
    await spoolDelivery({
      channel: "shopify",
      accountRef: delivery.accountRef,
      connectionId: target.connectionId,
      shopId: target.shopId,
      role: target.role,
      sameAccount: sameAccount.map((t) => t.connectionId),
      topic: delivery.topic,
      eventId: delivery.eventId,
      deliveryId: delivery.deliveryId,
      occurredAt: delivery.occurredAt?.toISOString() ?? null,
      receivedAt: delivery.receivedAt.toISOString(),
      payload: delivery.payload,
    });
  }
}

export type DrainOutcome = "stored" | "duplicate" | "observed" | "refused";

/**
 * Stores one held delivery. Throws while the database is still unreachable (the job runner
 * waits a moment and tries again without using an attempt).
 */
export async function drainSpooled(job: SpoolJob): Promise<DrainOutcome> {
  const port = inboundPort(job.channel);
  // Job data is untrusted JSON: the payload is checked again, as at the edge.
  const checked = port.check(job.topic, job.payload);
  const target: DeliveryTarget = {
    connectionId: job.connectionId,
    shopId: job.shopId,
    role: job.role,
    active: true,
    ownSecret: null,
  };
  if (!checked.ok) {
    await recordRefusedDelivery({
      accountRef: job.accountRef,
      shopId: job.shopId,
      topic: job.topic,
      reason: `spooled: ${checked.reason}`,
      deliveryId: job.deliveryId,
      eventId: job.eventId,
    });
    return "refused";
  }
  const receivedAt = new Date(job.receivedAt);
  const meaning = port.translate(job.connectionId, job.topic, checked.payload);
  if (meaning.kind === "level") {
    await observeLevel({ id: job.connectionId, role: job.role }, meaning.level, receivedAt);
    return "observed";
  }
  const stored = await storeDelivery({
    target,
    sameAccount: job.sameAccount.map((connectionId) => ({ ...target, connectionId })),
    topic: job.topic,
    eventId: job.eventId,
    deliveryId: job.deliveryId,
    resourceId: checked.resourceId,
    occurredAt: job.occurredAt ? new Date(job.occurredAt) : null,
    payload: checked.payload,
    orderId: meaning.kind === "ledger" ? checked.resourceId : null,
    receivedAt,
  });
  if (stored.replayed) return "refused";
  return stored.duplicate ? "duplicate" : "stored";
}
