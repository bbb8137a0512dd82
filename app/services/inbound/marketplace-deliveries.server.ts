/**
 * Deliveries a marketplace pushes to `/webhooks/<kind>/<connection id>`: authenticated the way
 * that marketplace signs (through the connection's adapter), its handshakes answered, the payload
 * checked, stored under the marketplace's own dedupe key, enqueued, and acknowledged the way the
 * marketplace expects (eBay 204 / 412, Walmart 200). Unknown connections and forged deliveries
 * store nothing.
 */
import type { ChannelKind, RawInbound } from "../../channels/channel-adapter";
import { adapterFor, isSupportedKind } from "../../channels/registry.server";
import { describeError, isUnstorableValue } from "../../lib/data-errors";
import { parseChannelJson } from "../../lib/json";
import * as connections from "../../repositories/connections.server";
import { recordRefusedDelivery, storeDelivery, type DeliveryTarget } from "./deliveries.server";

export type MarketplaceAnswer = {
  status: number;
  body?: string;
  contentType?: string;
  outcome: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function receiveMarketplaceDelivery(
  kind: string,
  connectionId: string,
  raw: RawInbound,
): Promise<MarketplaceAnswer> {
  if (!["amazon", "ebay", "walmart"].includes(kind) || !isSupportedKind(kind as ChannelKind))
    return { status: 404, outcome: "unknown_kind" };
  if (!UUID.test(connectionId)) return { status: 404, outcome: "unknown_connection" };
  const row = await connections.loadConnection(connectionId);
  if (!row || row.kind !== kind) return { status: 404, outcome: "unknown_connection" };
  const adapter = adapterFor(row.kind);
  const port = adapter.inbound;
  if (!port.authenticate) return { status: 404, outcome: "no_push" };
  const conn = connections.toContext(row);
  const verification = await port.authenticate(raw, conn);
  if (verification.ok === "answer") {
    return {
      status: verification.status,
      body: verification.body,
      contentType: verification.contentType,
      outcome: "handshake",
    };
  }
  if (!verification.ok) return { status: verification.status, outcome: "unauthorized" };
  const accepted = port.acceptedStatus ?? 200;
  if (row.shopStatus !== "active") return { status: accepted, outcome: "ignored" };
  const envelope = port.envelope(raw);
  const refuse = async (reason: string, topic: string): Promise<MarketplaceAnswer> => {
    await recordRefusedDelivery({
      accountRef: row.accountRef,
      shopId: row.shopId,
      topic: topic.slice(0, 100),
      reason,
      deliveryId: null,
      eventId: typeof envelope === "string" ? null : envelope.eventId.slice(0, 255),
    });
    return { status: 400, body: JSON.stringify({ error: reason }), outcome: "rejected" };
  };
  if (typeof envelope === "string") return refuse(envelope, "unknown");
  let payload: unknown;
  try {
    payload = parseChannelJson(raw.body);
  } catch {
    return refuse("malformed JSON body", envelope.topic);
  }
  const checked = port.check(envelope.topic, payload);
  if (!checked.ok) return refuse(checked.reason, envelope.topic);
  const target: DeliveryTarget = {
    connectionId: row.id,
    shopId: row.shopId,
    role: row.role,
    active: true,
    ownSecret: null,
  };
  try {
    const stored = await storeDelivery({
      target,
      sameAccount: [target],
      topic: envelope.topic,
      eventId: envelope.eventId,
      deliveryId: envelope.deliveryId,
      resourceId: checked.resourceId,
      occurredAt: envelope.occurredAt,
      payload: checked.payload,
    });
    if (stored.replayed) return { status: 401, outcome: "unauthorized" };
    return { status: accepted, outcome: stored.duplicate ? "duplicate" : "stored" };
  } catch (error) {
    if (isUnstorableValue(error))
      return refuse(`payload cannot be stored: ${describeError(error)}`, envelope.topic);
    throw error;
  }
}
