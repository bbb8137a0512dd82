/**
 * Amazon's inbound port. Amazon never calls us over HTTP: notifications reach the app's SQS queue
 * (whose access policy lets only Amazon's account send) and are pulled by `receiveQueue`; missed
 * ones are found by polling the Orders API. So the HTTP side refuses everything (no
 * `authenticate`: the marketplace route answers 404 and stores nothing), and the port validates
 * and translates what was pulled. No I/O.
 */
import type {
  DeliveryEnvelope,
  InboundMeaning,
  InboundPort,
  PayloadCheck,
  RawInbound,
} from "../channel-adapter";
import {
  isAmazonTopic,
  MFN_CHANNEL,
  TOPIC_SCHEMAS,
  TOPICS,
  type MfnQuantityChange,
  type OrderChange,
  type OrderPolled,
} from "./payloads";
import {
  isFulfilledByAmazon,
  orderOperations,
  snapshotOfChange,
  snapshotOfPolled,
  type OrderSnapshot,
} from "./translate";

/** The pseudo-location of every Amazon listing: the merchant-fulfilled channel. */
export const AMAZON_LOCATION = MFN_CHANNEL;

function resourceIdOf(topic: string, payload: unknown): string | null {
  switch (topic) {
    case TOPICS.orderChange:
      return (payload as OrderChange).Payload.OrderChangeNotification.AmazonOrderId;
    case TOPICS.orderPolled:
      return (payload as OrderPolled).order.AmazonOrderId;
    case TOPICS.mfnQuantity:
      return (payload as MfnQuantityChange).Payload.Sku;
    default:
      return null;
  }
}

function orderMeaning(connectionId: string, snapshot: OrderSnapshot): InboundMeaning {
  if (isFulfilledByAmazon(snapshot))
    return { kind: "ignored", reason: "fulfilled by Amazon (FBA stock is Amazon's)" };
  // An order change naming no item (Amazon sends the items it changed): read the order back.
  if (snapshot.items.length === 0) return { kind: "order_reference", orderId: snapshot.orderId };
  return { kind: "ledger", operations: orderOperations(connectionId, snapshot) };
}

export const amazonInbound: InboundPort = {
  envelope(_raw: RawInbound): DeliveryEnvelope | string {
    return "Amazon notifications arrive through the SQS queue, not over HTTP";
  },

  verify(): boolean {
    return false;
  },

  check(topic: string, payload: unknown): PayloadCheck {
    if (!isAmazonTopic(topic)) return { ok: false, reason: `topic ${topic} is not handled` };
    const parsed = TOPIC_SCHEMAS[topic].safeParse(payload);
    if (!parsed.success) {
      return {
        ok: false,
        reason: parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
          .join("; "),
      };
    }
    return { ok: true, payload: parsed.data, resourceId: resourceIdOf(topic, parsed.data) };
  },

  translate(connectionId: string, topic: string, payload: unknown): InboundMeaning {
    switch (topic) {
      case TOPICS.orderChange:
        return orderMeaning(connectionId, snapshotOfChange(payload as OrderChange));
      case TOPICS.orderPolled:
        return orderMeaning(connectionId, snapshotOfPolled(payload as OrderPolled));
      case TOPICS.mfnQuantity: {
        const change = payload as MfnQuantityChange;
        if (change.Payload.FulfillmentChannelCode !== MFN_CHANNEL)
          return { kind: "ignored", reason: "not the merchant-fulfilled quantity" };
        return {
          kind: "level",
          level: {
            remoteRef: change.Payload.Sku,
            remoteLocationRef: AMAZON_LOCATION,
            quantity: change.Payload.Quantity,
            at: new Date(change.EventTime),
            // EventTime is Amazon's time of the change, to the millisecond.
            precise: true,
          },
        };
      }
      default:
        return { kind: "ignored", reason: `unknown topic ${topic}` };
    }
  },
};
