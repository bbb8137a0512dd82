/**
 * Notifications API v1 (destinations and subscriptions) and the notifications themselves:
 * ORDER_CHANGE (OrderChangeNotification.json, OrderLevel or OrderItemLevel) sent to an SQS
 * destination, and LISTINGS_ITEM_MFN_QUANTITY_CHANGE wrapped in the EventBridge envelope and
 * routed to the SQS queue the app's EventBridge rule targets. Delivery is scheduled with seeded
 * delays, duplicates, drop-then-redeliver and reordering.
 */
import { badRequest } from "../shopify/errors";
import { parseJson } from "../shopify/http-util";
import { json, spErrors, type Reply } from "./http";
import {
  AMAZON_NOTIFICATION_ACCOUNT,
  MFN_CHANNEL,
  isoSeconds,
  type DeliveryAttemptRec,
  type DestinationRec,
  type ListingRec,
  type NotificationRec,
  type OrderItemRec,
  type OrderRec,
  type SellerRec,
  type SubscriptionRec,
} from "./model";
import type { AmazonSandbox, SubscriptionSeed } from "./sandbox";
import { invalidInput, listParam, type SpContext } from "./sp-util";

/** The SenderId attribute of messages Amazon's notification service sends. */
export const AMAZON_SENDER_ID = "AIDAIAMAZONSPAPINOTIFY";

/** Notification types this sandbox produces and the workflow each uses. */
export const NOTIFICATION_TYPES: Record<
  string,
  { workflow: "sqs" | "eventBridge"; payloadVersions: string[] }
> = {
  ORDER_CHANGE: { workflow: "sqs", payloadVersions: ["1.0"] },
  LISTINGS_ITEM_MFN_QUANTITY_CHANGE: { workflow: "eventBridge", payloadVersions: ["1.0"] },
};

const ORDER_CHANGE_TYPES = ["BuyerRequestedChange", "DeliveryTipChange", "OrderStatusChange"];

const generic = "Request has missing or invalid parameters and cannot be parsed.";
const notFoundReply = (): Reply =>
  json(404, spErrors("NotFound", "The resource specified does not exist."));

export function partnerEventSource(sb: AmazonSandbox, accountId: string): string {
  return `aws.partner/sellingpartnerapi.amazon.com/${accountId}/${sb.app.applicationId}`;
}

function destinationPayload(d: DestinationRec) {
  return { destinationId: d.destinationId, name: d.name, resource: d.resource };
}

function subscriptionPayload(s: SubscriptionRec) {
  return {
    subscriptionId: s.subscriptionId,
    payloadVersion: s.payloadVersion,
    destinationId: s.destinationId,
    ...(s.processingDirective ? { processingDirective: s.processingDirective } : {}),
  };
}

function bodyObject(ctx: SpContext): Record<string, unknown> | null {
  const parsed = parseJson(ctx.body.toString("utf8"));
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return null;
  if (Array.isArray(parsed.value)) return null;
  return parsed.value as Record<string, unknown>;
}

// --- destinations (grantless) ------------------------------------------------------------------

export function getDestinations(ctx: SpContext): Reply {
  return json(200, { payload: [...ctx.sb.destinations.values()].map(destinationPayload) });
}

export function getDestination(ctx: SpContext): Reply {
  const destination = ctx.sb.destinations.get(ctx.params[0] ?? "");
  if (!destination) return notFoundReply();
  return json(200, { payload: destinationPayload(destination) });
}

export function deleteDestination(ctx: SpContext): Reply {
  const id = ctx.params[0] ?? "";
  if (!ctx.sb.destinations.has(id)) return notFoundReply();
  ctx.sb.destinations.delete(id);
  return json(200, {});
}

export function createDestination(ctx: SpContext): Reply {
  const body = bodyObject(ctx);
  if (!body || typeof body.name !== "string" || body.name.length === 0 || body.name.length > 256) {
    return invalidInput(generic);
  }
  const spec = body.resourceSpecification as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== "object") return invalidInput(generic);
  const sqs = spec.sqs as { arn?: unknown } | undefined;
  const eventBridge = spec.eventBridge as { region?: unknown; accountId?: unknown } | undefined;
  if ((sqs ? 1 : 0) + (eventBridge ? 1 : 0) !== 1) return invalidInput(generic);
  const result = sqs
    ? createSqsDestination(ctx.sb, body.name, sqs.arn)
    : createEventBridgeDestination(ctx.sb, body.name, eventBridge?.region, eventBridge?.accountId);
  if ("status" in result) return result;
  return json(200, { payload: destinationPayload(result) });
}

function createSqsDestination(
  sb: AmazonSandbox,
  name: string,
  arn: unknown,
): DestinationRec | Reply {
  if (
    typeof arn !== "string" ||
    arn.length > 1000 ||
    !/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(arn)
  ) {
    return invalidInput(generic, "Invalid SQS ARN.");
  }
  const queue = sb.sqs.queueByArn(arn);
  if (!queue)
    return invalidInput("Unable to access the SQS queue.", `Queue ${arn} does not exist.`);
  if (
    sb.behaviour.requireQueuePolicy &&
    !(queue.attributes.Policy ?? "").includes(AMAZON_NOTIFICATION_ACCOUNT)
  ) {
    return invalidInput(
      "Unable to access the SQS queue.",
      `The queue policy does not let account ${AMAZON_NOTIFICATION_ACCOUNT} send messages.`,
    );
  }
  for (const d of sb.destinations.values()) {
    if ("sqs" in d.resource && d.resource.sqs.arn === arn) {
      return json(
        409,
        spErrors("Conflict", "Destination already exists.", `destinationId: ${d.destinationId}`),
      );
    }
  }
  const destination: DestinationRec = {
    destinationId: sb.random.uuid(),
    name,
    resource: { sqs: { arn } },
    createdAt: new Date(),
  };
  sb.destinations.set(destination.destinationId, destination);
  return destination;
}

function createEventBridgeDestination(
  sb: AmazonSandbox,
  name: string,
  region: unknown,
  accountId: unknown,
): DestinationRec | Reply {
  if (
    typeof region !== "string" ||
    region === "" ||
    typeof accountId !== "string" ||
    !/^\d{12}$/.test(accountId)
  ) {
    return invalidInput(generic);
  }
  for (const d of sb.destinations.values()) {
    if (
      "eventBridge" in d.resource &&
      d.resource.eventBridge.accountId === accountId &&
      d.resource.eventBridge.region === region
    ) {
      return json(
        409,
        spErrors("Conflict", "Destination already exists.", `destinationId: ${d.destinationId}`),
      );
    }
  }
  const destination: DestinationRec = {
    destinationId: sb.random.uuid(),
    name,
    resource: { eventBridge: { name: partnerEventSource(sb, accountId), region, accountId } },
    createdAt: new Date(),
  };
  sb.destinations.set(destination.destinationId, destination);
  return destination;
}

// --- subscriptions (seller-authorised, except ById) ----------------------------------------------

export function getSubscriptions(ctx: SpContext): Reply {
  const types = listParam(ctx.query, "notificationTypes");
  if (!types || types.length !== 1) return invalidInput(generic);
  const version = ctx.query.get("payloadVersion");
  const subscriptions = [...ctx.sb.subscriptions.values()]
    .filter((s) => s.sellerId === ctx.sellerId && s.notificationType === types[0])
    .filter((s) => version === null || s.payloadVersion === version)
    .map(subscriptionPayload);
  return json(200, { payload: { subscriptions } });
}

export function getSubscription(ctx: SpContext): Reply {
  const type = ctx.params[0] ?? "";
  if (!NOTIFICATION_TYPES[type]) return invalidInput(generic);
  const version = ctx.query.get("payloadVersion");
  const subscription = [...ctx.sb.subscriptions.values()]
    .filter((s) => s.sellerId === ctx.sellerId && s.notificationType === type)
    .filter((s) => version === null || s.payloadVersion === version)
    .sort((a, b) => (a.payloadVersion < b.payloadVersion ? 1 : -1))[0];
  if (!subscription) return notFoundReply();
  return json(200, { payload: subscriptionPayload(subscription) });
}

export function createSubscription(ctx: SpContext): Reply {
  const type = ctx.params[0] ?? "";
  const spec = NOTIFICATION_TYPES[type];
  const body = bodyObject(ctx);
  if (!spec || !body) return invalidInput(generic);
  if (
    typeof body.payloadVersion !== "string" ||
    !spec.payloadVersions.includes(body.payloadVersion)
  ) {
    return invalidInput(generic, "Invalid payloadVersion.");
  }
  if (typeof body.destinationId !== "string") return invalidInput(generic);
  const destination = ctx.sb.destinations.get(body.destinationId);
  if (!destination) return invalidInput(generic, "Invalid destinationId.");
  // Each notification type travels one workflow (SQS or EventBridge).
  if (!(spec.workflow in destination.resource)) return invalidInput(generic);
  const directive = body.processingDirective;
  if (directive !== undefined) {
    const problem = checkDirective(type, directive);
    if (problem) return invalidInput(generic, problem);
  }
  for (const s of ctx.sb.subscriptions.values()) {
    if (
      s.sellerId === ctx.sellerId &&
      s.notificationType === type &&
      s.payloadVersion === body.payloadVersion
    ) {
      return json(
        409,
        spErrors("Conflict", "Subscription already exists.", `subscriptionId: ${s.subscriptionId}`),
      );
    }
  }
  const subscription: SubscriptionRec = {
    subscriptionId: ctx.sb.random.uuid(),
    sellerId: ctx.sellerId ?? "",
    notificationType: type,
    payloadVersion: body.payloadVersion,
    destinationId: destination.destinationId,
    processingDirective: (directive as Record<string, unknown> | undefined) ?? null,
    createdAt: new Date(),
  };
  ctx.sb.subscriptions.set(subscription.subscriptionId, subscription);
  return json(200, { payload: subscriptionPayload(subscription) });
}

function checkDirective(type: string, directive: unknown): string | null {
  if (typeof directive !== "object" || directive === null) return "Invalid processingDirective.";
  const { eventFilter, filterExpression } = directive as Record<string, unknown>;
  if (eventFilter !== undefined && filterExpression !== undefined) {
    return "eventFilter and filterExpression are mutually exclusive.";
  }
  if (eventFilter === undefined) return null;
  const filter = eventFilter as Record<string, unknown>;
  if (type !== "ORDER_CHANGE" || filter.eventFilterType !== "ORDER_CHANGE") {
    return `eventFilterType ${String(filter.eventFilterType)} is not supported for ${type}.`;
  }
  const changeTypes = filter.orderChangeTypes;
  if (
    changeTypes !== undefined &&
    (!Array.isArray(changeTypes) ||
      changeTypes.some((c) => !ORDER_CHANGE_TYPES.includes(String(c))))
  ) {
    return "Invalid orderChangeTypes.";
  }
  return null;
}

function findById(ctx: SpContext): SubscriptionRec | undefined {
  const [type = "", id = ""] = ctx.params;
  const subscription = ctx.sb.subscriptions.get(id);
  return subscription && subscription.notificationType === type ? subscription : undefined;
}

export function getSubscriptionById(ctx: SpContext): Reply {
  const subscription = findById(ctx);
  if (!subscription) return notFoundReply();
  return json(200, { payload: subscriptionPayload(subscription) });
}

export function deleteSubscriptionById(ctx: SpContext): Reply {
  const subscription = findById(ctx);
  if (!subscription) return notFoundReply();
  ctx.sb.subscriptions.delete(subscription.subscriptionId);
  return json(200, {});
}

/** Seeds a destination (reused if one exists) and a subscription for a seller. */
export function seedSubscription(
  sb: AmazonSandbox,
  seller: SellerRec,
  seed: SubscriptionSeed,
): SubscriptionRec {
  const spec = NOTIFICATION_TYPES[seed.notificationType];
  if (!spec) throw badRequest(`unsupported notificationType ${seed.notificationType}`);
  const queue = sb.findQueue(seed.queue);
  let destination: DestinationRec | undefined;
  if (spec.workflow === "sqs") {
    destination = [...sb.destinations.values()].find(
      (d) => "sqs" in d.resource && d.resource.sqs.arn === queue.arn,
    );
    if (!destination) {
      const created = createSqsDestination(sb, `${queue.name}-destination`, queue.arn);
      if ("status" in created) throw badRequest(`cannot create a destination for ${queue.arn}`);
      destination = created;
    }
  } else {
    destination = [...sb.destinations.values()].find(
      (d) => "eventBridge" in d.resource && d.resource.eventBridge.accountId === sb.aws.accountId,
    );
    if (!destination) {
      const created = createEventBridgeDestination(
        sb,
        "eventbridge-destination",
        sb.aws.region,
        sb.aws.accountId,
      );
      if ("status" in created) throw badRequest("cannot create the EventBridge destination");
      destination = created;
    }
    sb.eventBridgeTargets.set(sb.aws.accountId, queue.arn);
  }
  const existing = [...sb.subscriptions.values()].find(
    (s) => s.sellerId === seller.sellerId && s.notificationType === seed.notificationType,
  );
  if (existing) return existing;
  const subscription: SubscriptionRec = {
    subscriptionId: sb.random.uuid(),
    sellerId: seller.sellerId,
    notificationType: seed.notificationType,
    payloadVersion: seed.payloadVersion ?? spec.payloadVersions[0] ?? "1.0",
    destinationId: destination.destinationId,
    processingDirective: null,
    createdAt: new Date(),
  };
  sb.subscriptions.set(subscription.subscriptionId, subscription);
  return subscription;
}

// --- building notifications --------------------------------------------------------------------

function subscriptionsFor(sb: AmazonSandbox, sellerId: string, type: string): SubscriptionRec[] {
  return [...sb.subscriptions.values()].filter(
    (s) => s.sellerId === sellerId && s.notificationType === type,
  );
}

function addDays(date: Date, days: number): string {
  return new Date(date.getTime() + days * 86_400_000).toISOString();
}

function orderItemSummary(order: OrderRec, item: OrderItemRec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    OrderItemId: item.orderItemId,
    SellerSKU: item.sku,
    SupplySourceId: null,
  };
  if (order.status !== "Pending" && order.status !== "Canceled") {
    out.OrderItemStatus = item.quantityShipped >= item.quantityOrdered ? "Shipped" : "Unshipped";
  }
  Object.assign(out, {
    Quantity: item.quantityOrdered,
    QuantityShipped: item.quantityShipped,
    IsBuyerRequestedCancel: item.buyerRequestedCancel,
    ItemEarliestDeliveryDate: addDays(order.purchaseDate, 3),
    ItemLatestDeliveryDate: addDays(order.purchaseDate, 7),
  });
  return out;
}

export function orderChangeBody(
  sb: AmazonSandbox,
  order: OrderRec,
  change: { at: Date; changeType: string; reason: string },
  items: OrderItemRec[],
  level: "OrderLevel" | "OrderItemLevel",
  subscription: { subscriptionId: string; payloadVersion: string },
  notificationId: string,
  publishedAt: Date,
) {
  const shipped = order.items.reduce((n, i) => n + i.quantityShipped, 0);
  const unshipped =
    order.status === "Canceled"
      ? 0
      : order.items.reduce((n, i) => n + i.quantityOrdered - i.quantityShipped, 0);
  const summary: Record<string, unknown> = {
    MarketplaceId: order.marketplaceId,
    OrderStatus: order.status,
    PurchaseDate: order.purchaseDate.toISOString(),
    DestinationPostalCode: order.destinationPostalCode,
    FulfillmentType: order.fulfillmentChannel,
    OrderType: "StandardOrder",
    NumberOfItemsShipped: shipped,
    NumberOfItemsUnshipped: unshipped,
  };
  if (order.fulfillmentChannel === "MFN") {
    summary.EarliestDeliveryDate = addDays(order.purchaseDate, 3);
    summary.LatestDeliveryDate = addDays(order.purchaseDate, 7);
  }
  Object.assign(summary, {
    EarliestShipDate: order.purchaseDate.toISOString(),
    LatestShipDate: addDays(order.purchaseDate, 2),
    OrderPrograms: [],
    ShippingPrograms: [],
    ElectronicInvoiceStatus: "NotRequired",
    OrderItems: items.map((i) => orderItemSummary(order, i)),
  });
  return {
    NotificationVersion: "1.0",
    NotificationType: "ORDER_CHANGE",
    PayloadVersion: subscription.payloadVersion,
    EventTime: publishedAt.toISOString(),
    Payload: {
      OrderChangeNotification: {
        NotificationLevel: level,
        SellerId: order.sellerId,
        AmazonOrderId: order.amazonOrderId,
        OrderChangeType: change.changeType,
        OrderChangeTrigger: {
          TimeOfOrderChange: change.at.toISOString(),
          ChangeReason: change.reason,
        },
        Summary: summary,
      },
    },
    NotificationMetadata: {
      ApplicationId: sb.app.applicationId,
      SubscriptionId: subscription.subscriptionId,
      PublishTime: publishedAt.toISOString(),
      NotificationId: notificationId,
    },
  };
}

/** ORDER_CHANGE for every subscription of the seller (one per item at OrderItemLevel). */
export function emitOrderChange(
  sb: AmazonSandbox,
  order: OrderRec,
  change: { at: Date; changeType: string; reason: string },
  changedItems: OrderItemRec[],
): void {
  const seller = sb.sellers.get(order.sellerId);
  const level = seller?.notificationLevel ?? "OrderLevel";
  const groups = level === "OrderLevel" ? [order.items] : changedItems.map((i) => [i]);
  const subscriptions = subscriptionsFor(sb, order.sellerId, "ORDER_CHANGE");
  const now = new Date();
  if (subscriptions.length === 0) {
    for (const items of groups) {
      const notificationId = sb.random.uuid();
      const payload = orderChangeBody(
        sb,
        order,
        change,
        items,
        level,
        { subscriptionId: "", payloadVersion: "1.0" },
        notificationId,
        now,
      );
      record(sb, {
        notificationId,
        type: "ORDER_CHANGE",
        sellerId: order.sellerId,
        subscription: null,
        payload,
        body: JSON.stringify(payload),
        queueArn: null,
        state: "unsubscribed",
      });
    }
    return;
  }
  for (const subscription of subscriptions) {
    const filter = (subscription.processingDirective?.eventFilter ?? null) as {
      orderChangeTypes?: string[];
    } | null;
    if (filter?.orderChangeTypes && !filter.orderChangeTypes.includes(change.changeType)) continue;
    const destination = sb.destinations.get(subscription.destinationId);
    const queueArn =
      destination && "sqs" in destination.resource ? destination.resource.sqs.arn : null;
    for (const items of groups) {
      const notificationId = sb.random.uuid();
      const payload = orderChangeBody(
        sb,
        order,
        change,
        items,
        level,
        subscription,
        notificationId,
        now,
      );
      const rec = record(sb, {
        notificationId,
        type: "ORDER_CHANGE",
        sellerId: order.sellerId,
        subscription,
        payload,
        body: JSON.stringify(payload),
        queueArn,
        state: queueArn ? "pending" : "failed",
      });
      if (queueArn) schedule(sb, rec, queueArn);
    }
  }
}

/** LISTINGS_ITEM_MFN_QUANTITY_CHANGE, as EventBridge delivers it to an SQS target. */
export function emitMfnQuantityChange(sb: AmazonSandbox, listing: ListingRec): void {
  const type = "LISTINGS_ITEM_MFN_QUANTITY_CHANGE";
  const quantity = listing.available[MFN_CHANNEL] ?? 0;
  const subscriptions = subscriptionsFor(sb, listing.sellerId, type);
  const now = new Date();
  const build = (subscriptionId: string, payloadVersion: string, notificationId: string) => ({
    NotificationVersion: "1.0",
    NotificationType: type,
    PayloadVersion: payloadVersion,
    EventTime: now.toISOString(),
    Payload: {
      SellerId: listing.sellerId,
      FulfillmentChannelCode: MFN_CHANNEL,
      Sku: listing.sku,
      Quantity: quantity,
    },
    NotificationMetadata: {
      ApplicationId: sb.app.applicationId,
      SubscriptionId: subscriptionId,
      PublishTime: now.toISOString(),
      NotificationId: notificationId,
    },
  });
  if (subscriptions.length === 0) {
    const notificationId = sb.random.uuid();
    const payload = build("", "1.0", notificationId);
    record(sb, {
      notificationId,
      type,
      sellerId: listing.sellerId,
      subscription: null,
      payload,
      body: JSON.stringify(payload),
      queueArn: null,
      state: "unsubscribed",
    });
    return;
  }
  for (const subscription of subscriptions) {
    const destination = sb.destinations.get(subscription.destinationId);
    const notificationId = sb.random.uuid();
    const detail = build(subscription.subscriptionId, subscription.payloadVersion, notificationId);
    const accountId =
      destination && "eventBridge" in destination.resource
        ? destination.resource.eventBridge.accountId
        : sb.aws.accountId;
    const region =
      destination && "eventBridge" in destination.resource
        ? destination.resource.eventBridge.region
        : sb.aws.region;
    const envelope = {
      version: "0",
      id: sb.random.uuid(),
      "detail-type": type,
      source: partnerEventSource(sb, accountId),
      account: accountId,
      time: isoSeconds(now),
      region,
      resources: [],
      detail,
    };
    const queueArn = sb.eventBridgeTargets.get(accountId) ?? null;
    const rec = record(sb, {
      notificationId,
      type,
      sellerId: listing.sellerId,
      subscription,
      payload: envelope,
      body: JSON.stringify(envelope),
      queueArn,
      state: queueArn ? "pending" : "no_target",
    });
    if (queueArn) schedule(sb, rec, queueArn);
  }
}

function record(
  sb: AmazonSandbox,
  input: {
    notificationId: string;
    type: string;
    sellerId: string;
    subscription: SubscriptionRec | null;
    payload: unknown;
    body: string;
    queueArn: string | null;
    state: NotificationRec["state"];
  },
): NotificationRec {
  const rec: NotificationRec = {
    notificationId: input.notificationId,
    notificationType: input.type,
    sellerId: input.sellerId,
    subscriptionId: input.subscription?.subscriptionId ?? null,
    destinationId: input.subscription?.destinationId ?? null,
    createdAt: new Date(),
    body: input.body,
    payload: input.payload,
    attempts: [],
    state: input.state,
  };
  sb.notifications.push(rec);
  return rec;
}

// --- delivery ----------------------------------------------------------------------------------

type Held = { sb: AmazonSandbox; rec: NotificationRec; attempt: DeliveryAttemptRec };
const held = new WeakMap<AmazonSandbox, Held[]>();

function schedule(sb: AmazonSandbox, rec: NotificationRec, queueArn: string): void {
  const cfg = sb.deliveryFor(rec.sellerId);
  const due = Date.now() + sb.scaledBetween(cfg.delayMs);
  const dropped = sb.random.chance(cfg.dropProbability);
  const first = attemptRec(rec, queueArn, "first", dropped);
  const run = (): void => deliver(sb, rec, first);
  // Without reordering, first attempts reach a queue in emission order.
  const at = cfg.reorder
    ? (sb.scheduler.after(due - Date.now(), run), due)
    : sb.deliveryLanes.add(sb.scheduler, queueArn, due, run);
  first.scheduledAt = new Date(at);
  if (dropped)
    later(
      sb,
      rec,
      attemptRec(rec, queueArn, "redelivery", false),
      at + sb.scaledBetween(cfg.redeliverAfterMs),
    );
  if (sb.random.chance(cfg.duplicateProbability)) {
    later(
      sb,
      rec,
      attemptRec(rec, queueArn, "duplicate", false),
      at + sb.scaledBetween(cfg.delayMs),
    );
  }
}

function attemptRec(
  rec: NotificationRec,
  queueArn: string,
  kind: DeliveryAttemptRec["kind"],
  dropped: boolean,
): DeliveryAttemptRec {
  const entry: DeliveryAttemptRec = {
    kind,
    scheduledAt: new Date(),
    deliveredAt: null,
    dropped,
    queueArn,
    messageId: null,
    error: null,
  };
  rec.attempts.push(entry);
  return entry;
}

function later(
  sb: AmazonSandbox,
  rec: NotificationRec,
  entry: DeliveryAttemptRec,
  due: number,
): void {
  entry.scheduledAt = new Date(due);
  sb.scheduler.after(due - Date.now(), () => deliver(sb, rec, entry));
}

function deliver(sb: AmazonSandbox, rec: NotificationRec, entry: DeliveryAttemptRec): void {
  if (sb.deliveryFor(rec.sellerId).paused) {
    const list = held.get(sb) ?? [];
    list.push({ sb, rec, attempt: entry });
    held.set(sb, list);
    return;
  }
  entry.deliveredAt = new Date();
  if (entry.dropped) return;
  const queue = entry.queueArn ? sb.sqs.queueByArn(entry.queueArn) : undefined;
  if (!queue) {
    entry.error = `queue ${entry.queueArn ?? "?"} does not exist`;
    if (rec.state === "pending") rec.state = "failed";
    return;
  }
  try {
    const message = sb.sqs.send(queue, rec.body, { senderId: AMAZON_SENDER_ID });
    entry.messageId = message.messageId;
    rec.state = "delivered";
  } catch (error) {
    entry.error = (error as Error).message;
    if (rec.state === "pending") rec.state = "failed";
  }
}

/** Forgets attempts held while paused (reset). */
export function clearHeld(sb: AmazonSandbox): void {
  held.delete(sb);
}

/** Re-schedules attempts held while paused (called when the delivery config changes). */
export function pump(sb: AmazonSandbox): void {
  const list = held.get(sb) ?? [];
  const keep: Held[] = [];
  for (const item of list) {
    if (sb.deliveryFor(item.rec.sellerId).paused) keep.push(item);
    else sb.scheduler.after(0, () => deliver(sb, item.rec, item.attempt));
  }
  held.set(sb, keep);
}

export function notificationSnapshot(n: NotificationRec) {
  return {
    notificationId: n.notificationId,
    notificationType: n.notificationType,
    sellerId: n.sellerId,
    subscriptionId: n.subscriptionId,
    destinationId: n.destinationId,
    createdAt: n.createdAt.toISOString(),
    state: n.state,
    payload: n.payload,
    attempts: n.attempts.map((a) => ({
      ...a,
      scheduledAt: a.scheduledAt.toISOString(),
      deliveredAt: a.deliveredAt?.toISOString() ?? null,
    })),
  };
}
