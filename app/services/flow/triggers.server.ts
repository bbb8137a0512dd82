/**
 * Shopify Flow triggers: each StockGuard event that a merchant can automate on (an oversell
 * incident, a channel whose sync failed, drift found by reconciliation, an approved cycle count
 * variance, stock running low) records one row in the trigger outbox, keyed by the event — in the
 * event's own transaction where it has one — and `deliverFlowTriggers` sends the rows of a shop
 * with `flowTriggerReceive`. A retried event finds its key taken and records nothing; a row once
 * marked sent is never sent again (docs/decisions/0008-flow-extensions.md).
 */
import { ChannelPermanentError, ChannelThrottledError } from "../../channels/errors";
import { flowPort, type FlowPort } from "../../channels/registry.server";
import { shopifyEnv } from "../../env.server";
import { log } from "../../logger.server";
import { enqueueMaintenance, enqueueSafely } from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import * as flow from "../../repositories/flow.server";
import type { Tx } from "../../repositories/tx.server";
import {
  FLOW_TRIGGERS,
  MAX_TRIGGER_PAYLOAD_BYTES,
  type FlowTriggerHandle,
  type FlowTriggerPayload,
} from "./definitions";

/** A claimed row not marked sent within this time is claimed again (its sender died). */
export const FLOW_LEASE_MS = 30_000;
/** Unsent rows older than this are picked up by the sweeper (their delivery job was lost). */
export const FLOW_SWEEP_AFTER_MS = 5_000;
const BATCH = 50;
/** A trigger still unsent after this many claims is given up (failed, with its last error). */
export const FLOW_MAX_ATTEMPTS = 25;

type Client = Tx | undefined;

/**
 * Records the trigger of one event (validated against the extension's fields). Returns the row id,
 * or null when the event already has its trigger (or cannot be expressed: logged, never thrown —
 * a Flow trigger must never fail the event that causes it).
 */
export async function recordFlowTrigger<H extends FlowTriggerHandle>(
  client: Client,
  input: {
    shopId: string;
    handle: H;
    eventKey: string;
    payload: FlowTriggerPayload<H>;
    /** Variant whose product fills the product_reference field at delivery. */
    productVariantRef?: string | null;
  },
): Promise<bigint | null> {
  const definition = FLOW_TRIGGERS[input.handle];
  const parsed = definition.payload.safeParse(input.payload);
  const variant = input.productVariantRef ?? null;
  if (!parsed.success || (definition.productReference && !variant)) {
    log({ shopId: input.shopId, handle: input.handle, eventKey: input.eventKey }).warn(
      {
        issues: parsed.success
          ? "no Shopify variant for the product reference"
          : parsed.error.message,
      },
      "flow trigger not recorded",
    );
    return null;
  }
  const row = {
    shopId: input.shopId,
    handle: input.handle,
    eventKey: `${input.handle}:${input.eventKey}`,
    payload: parsed.data as Record<string, unknown>,
    productVariantRef: definition.productReference ? variant : null,
  };
  return flow.insertFlowTrigger(client, row);
}

/** Asks a worker to deliver the shop's unsent triggers (the sweeper does it if this is lost). */
export async function requestFlowDelivery(shopId: string, delayMs = 0): Promise<void> {
  const source = await flow.sourceConnectionOfShop(shopId);
  if (!source) return;
  await enqueueSafely("flow trigger delivery", () =>
    enqueueMaintenance(
      { task: "deliver_flow_triggers", connectionId: source.connectionId },
      delayMs,
    ),
  );
}

function appLink(path: string): string {
  return new URL(path, shopifyEnv().SHOPIFY_APP_URL).toString();
}

// --- the events -------------------------------------------------------------------------------

/**
 * Oversell incident confirmed: called by the incident settler (services/incidents/settle.server.ts)
 * in the transaction that confirms the incident, so the trigger commits with the confirmation.
 */
export async function recordOversellTrigger(
  tx: Tx,
  incident: { id: bigint; shopId: string; itemId: string; units: number; cause: string },
): Promise<bigint | null> {
  const subject = await flow.incidentSubject(tx, incident.id);
  if (!subject) return null;
  const channel = subject.connectionId
    ? await flow.connectionLabel(subject.connectionId, tx)
    : null;
  const variant = await flow.sourceVariantOfItem(incident.shopId, incident.itemId, tx);
  const id = await recordFlowTrigger(tx, {
    shopId: incident.shopId,
    handle: "oversell-incident-confirmed",
    eventKey: `incident:${incident.id}`,
    productVariantRef: variant,
    payload: {
      "variant id": variant ?? "",
      sku: subject.sku,
      channel: channel?.name ?? "unknown channel",
      units: incident.units,
      cause: incident.cause,
      "incident url": appLink(`/app/incidents?incident=${incident.id}`),
    },
  });
  // Sent once the transaction has committed: a job delayed past the commit (a job that runs
  // earlier finds nothing, and the sweeper sends the row).
  if (id !== null) await requestFlowDelivery(incident.shopId, 1_000);
  return id;
}

/** Runs a hook called from another use case: a Flow problem is logged, never thrown at it. */
async function safely(what: string, fn: () => Promise<bigint | null>): Promise<bigint | null> {
  try {
    return await fn();
  } catch (error) {
    log({ what }).error({ err: (error as Error).message }, "flow trigger could not be recorded");
    return null;
  }
}

/**
 * Drift worth a workflow: a channel changed on its own, or cannot show the item at its location.
 * Drift StockGuard explains itself (never written yet, a change it has not pushed yet) is not.
 */
export function isFlowDrift(cause: string): boolean {
  return cause === "changed_on_channel" || cause === "not_stocked_at_location";
}

/**
 * A channel's sync failed (the connection was marked failing). One trigger per failing episode:
 * the key is the channel's last successful write, so failures repeated before the channel writes
 * again are the same episode, and a failure after a successful write is a new one.
 */
export async function recordChannelSyncFailed(input: {
  shopId: string;
  connectionId: string;
  reason: string;
  at?: Date;
}): Promise<bigint | null> {
  return safely("channel-sync-failed", async () => {
    const channel = await flow.connectionLabel(input.connectionId);
    if (!channel) return null;
    const episode = channel.lastPushAt ? channel.lastPushAt.getTime() : "never";
    const id = await recordFlowTrigger(undefined, {
      shopId: input.shopId,
      handle: "channel-sync-failed",
      eventKey: `${input.connectionId}:${episode}`,
      payload: {
        channel: channel.name,
        "channel kind": channel.kind,
        since: (input.at ?? new Date()).toISOString(),
        reason: input.reason.slice(0, 255) || "unknown",
      },
    });
    if (id !== null) await requestFlowDelivery(input.shopId);
    return id;
  });
}

/** Drift found by reconciliation (one trigger per drift record). */
export async function recordDriftTrigger(input: {
  driftId: bigint;
  shopId: string;
  connectionId: string;
  listingId: string;
  expected: number;
  observed: number;
  cause: string;
}): Promise<bigint | null> {
  return safely("stock-drift-found", async () => {
    const [channel, subject] = await Promise.all([
      flow.connectionLabel(input.connectionId),
      flow.listingSubject(input.listingId),
    ]);
    const id = await recordFlowTrigger(undefined, {
      shopId: input.shopId,
      handle: "stock-drift-found",
      eventKey: `drift:${input.driftId}`,
      productVariantRef: subject?.variant ?? null,
      payload: {
        "variant id": subject?.variant ?? "",
        sku: subject?.sku ?? "",
        channel: channel?.name ?? "unknown channel",
        expected: input.expected,
        found: input.observed,
        cause: input.cause,
      },
    });
    if (id !== null) await requestFlowDelivery(input.shopId);
    return id;
  });
}

/**
 * An approved cycle count with a variance: called by the count approval
 * (services/counts/counts.server.ts) in the approving transaction, with the net variance.
 */
export async function recordCycleCountVarianceApproved(
  input: {
    shopId: string;
    countId: bigint | number;
    locationId: string;
    units: number;
    value: number;
    approvedBy: string;
  },
  tx?: Tx,
): Promise<bigint | null> {
  if (input.units === 0 && input.value === 0) return null;
  const location = await flow.locationName(input.locationId, tx);
  const id = await recordFlowTrigger(tx, {
    shopId: input.shopId,
    handle: "cycle-count-variance-approved",
    eventKey: `cycle-count:${input.countId}`,
    payload: {
      location: location ?? "unknown location",
      units: input.units,
      value: input.value,
      "approved by": input.approvedBy.slice(0, 255) || "unknown",
    },
  });
  // Inside the approving transaction: a job delayed past its commit (else the sweeper sends it).
  if (id !== null) await requestFlowDelivery(input.shopId, tx ? 1_000 : 0);
  return id;
}

/**
 * Stock running low across channels. `episode` names the low-stock episode (for example the day,
 * or the movement that crossed the threshold): one trigger per item and episode.
 */
export async function recordStockRanLow(input: {
  shopId: string;
  itemId: string;
  sku: string;
  availableToSell: number;
  daysOfCover: number;
  episode: string;
}): Promise<bigint | null> {
  const variant = await flow.sourceVariantOfItem(input.shopId, input.itemId);
  const id = await recordFlowTrigger(undefined, {
    shopId: input.shopId,
    handle: "stock-ran-low",
    eventKey: `${input.itemId}:${input.episode}`,
    productVariantRef: variant,
    payload: {
      "variant id": variant ?? "",
      sku: input.sku,
      "available to sell": input.availableToSell,
      "days of cover": Math.round(input.daysOfCover * 10) / 10,
    },
  });
  if (id !== null) await requestFlowDelivery(input.shopId);
  return id;
}

// --- delivery ---------------------------------------------------------------------------------

export type FlowDeliverySummary = { sent: number; failed: number; skipped?: string };

/**
 * Sends the unsent triggers of the shop whose source store is `sourceConnectionId`: claims them
 * (a lease, so a second delivery never sends the same row), fills product_id from the variant,
 * calls flowTriggerReceive, and marks each sent. Refused for good → failed (kept with the reason);
 * throttled or any other error → released for the next delivery, and rethrown so the job retries.
 */
export async function deliverFlowTriggers(
  sourceConnectionId: string,
  port: FlowPort = flowPort(),
): Promise<FlowDeliverySummary> {
  const row = await connections.loadConnection(sourceConnectionId);
  if (!row || row.role !== "source" || row.kind !== "shopify")
    return { sent: 0, failed: 0, skipped: "not a Shopify source store" };
  if (row.shopStatus !== "active") return { sent: 0, failed: 0, skipped: "shop not installed" };
  const conn = connections.toContext(row);
  const summary: FlowDeliverySummary = { sent: 0, failed: 0 };
  for (;;) {
    const claimed = await flow.claimFlowTriggers(row.shopId, FLOW_LEASE_MS, BATCH);
    if (claimed.length === 0) return summary;
    for (const [index, trigger] of claimed.entries()) {
      if (trigger.attempts > FLOW_MAX_ATTEMPTS) {
        await flow.failFlowTrigger(trigger.id, `not sent after ${FLOW_MAX_ATTEMPTS} attempts`);
        summary.failed++;
        continue;
      }
      try {
        const payload = { ...trigger.payload };
        if (trigger.productVariantRef) {
          const productId = await port.productIdOfVariant(conn, trigger.productVariantRef);
          if (productId === null)
            throw new ChannelPermanentError(
              `variant ${trigger.productVariantRef} no longer exists in the store`,
            );
          payload.product_id = productId;
        }
        if (Buffer.byteLength(JSON.stringify(payload)) >= MAX_TRIGGER_PAYLOAD_BYTES)
          throw new ChannelPermanentError("payload over Shopify's 50,000-byte limit");
        await port.fireTrigger(conn, trigger.handle, payload);
        await flow.markFlowTriggerSent(trigger.id);
        summary.sent++;
      } catch (error) {
        const message = (error as Error).message;
        if (error instanceof ChannelPermanentError) {
          await flow.failFlowTrigger(trigger.id, message);
          summary.failed++;
          log({ shopId: row.shopId, handle: trigger.handle }).warn(
            { err: message },
            "flow trigger refused",
          );
          continue;
        }
        // Not sent (or not known to be): this row and the rest of the batch go back to pending.
        for (const rest of claimed.slice(index)) await flow.releaseFlowTrigger(rest.id, message);
        if (!(error instanceof ChannelThrottledError))
          log({ shopId: row.shopId, handle: trigger.handle }).warn(
            { err: message },
            "flow trigger delivery failed; will retry",
          );
        throw error;
      }
    }
  }
}

/** Sweeper: shops whose triggers stayed unsent get a delivery job again. */
export async function sweepFlowTriggers(): Promise<number> {
  const shops = await flow.shopsWithUnsentFlowTriggers(FLOW_SWEEP_AFTER_MS);
  for (const shopId of shops) await requestFlowDelivery(shopId);
  return shops.length;
}
