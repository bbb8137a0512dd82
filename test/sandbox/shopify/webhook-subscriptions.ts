/**
 * Webhook subscriptions an app creates through the Admin API (`webhookSubscriptionCreate`,
 * `webhookSubscriptions`, `webhookSubscription`, `webhookSubscriptionUpdate`,
 * `webhookSubscriptionDelete`). Stored per shop and per app: the calling token names the app, an
 * app sees and changes only its own subscriptions, and deliveries are signed with that app's
 * secret (the app's client secret, or a custom app's API secret). They are delivered by the same
 * dispatcher as every other subscription (delays, duplicates, retries).
 */
import type { AppIdentity, Caller } from "./apps";
import { gid, idOf, type IdAllocator } from "./ids";
import { graphqlTopic, missingTopicScope, restTopic } from "./topics";
import type { ShopState } from "./state";
import { WEBHOOK_API_VERSION, type SubscriptionRec } from "./webhooks";

export type ApiSubscriptionRec = SubscriptionRec & {
  kind: "WebhookSubscription";
  scope: "api";
  legacyId: number;
  /** `AppIdentity.key` of the app that created it. */
  owner: string;
  ownerTitle: string;
  /** REST form (`orders/create`); `topics` is `[topic]`. */
  topic: string;
  format: "JSON";
  filter: string | null;
  metafieldNamespaces: string[];
  name: string | null;
  createdAt: Date;
  updatedAt: Date;
};

export type UserError = { field: string[] | null; message: string };

type Input = {
  uri?: unknown;
  callbackUrl?: unknown;
  format?: unknown;
  filter?: unknown;
  includeFields?: unknown;
  metafieldNamespaces?: unknown;
  name?: unknown;
};

const INPUT = "webhookSubscription";

/** A URI this server can deliver to (http or https), or the userError Shopify would give. */
function checkUri(value: unknown, field: string): { uri: string } | { error: UserError } {
  const path = [INPUT, field];
  if (typeof value !== "string" || value.trim() === "") {
    return { error: { field: path, message: "Address can't be blank" } };
  }
  if (/^(pubsub:\/\/|arn:aws:events:)/.test(value)) {
    return {
      error: {
        field: path,
        message: "Address protocol is not supported by the local Shopify (http and https only)",
      },
    };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { error: { field: path, message: "Address is invalid" } };
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hostname === "") {
    return { error: { field: path, message: "Address is invalid" } };
  }
  return { uri: value };
}

function stringList(value: unknown, field: string): string[] | UserError {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v === "")) {
    return { field: [INPUT, field], message: `${field} must be a list of field names` };
  }
  return [...(value as string[])];
}

function isUserError(value: unknown): value is UserError {
  return typeof value === "object" && value !== null && "message" in value;
}

/** The fields of the input that were given, checked; userErrors for the rest. */
function readInput(
  input: Input,
  creating: boolean,
): { fields: Partial<ApiSubscriptionRec>; errors: UserError[] } {
  const errors: UserError[] = [];
  const fields: Partial<ApiSubscriptionRec> = {};
  const uriGiven = input.uri !== undefined && input.uri !== null;
  const callbackGiven = input.callbackUrl !== undefined && input.callbackUrl !== null;
  if (uriGiven || callbackGiven || creating) {
    const checked = checkUri(
      uriGiven ? input.uri : input.callbackUrl,
      uriGiven || !callbackGiven ? "uri" : "callbackUrl",
    );
    if ("error" in checked) errors.push(checked.error);
    else fields.address = checked.uri;
  }
  if (input.format !== undefined && input.format !== null && input.format !== "JSON") {
    errors.push({
      field: [INPUT, "format"],
      message: "Only the JSON format is supported by the local Shopify",
    });
  }
  if (input.filter !== undefined) {
    fields.filter = typeof input.filter === "string" && input.filter !== "" ? input.filter : null;
  }
  if (input.includeFields !== undefined) {
    const list = stringList(input.includeFields, "includeFields");
    if (isUserError(list)) errors.push(list);
    else fields.includeFields = list.length > 0 ? list : null;
  }
  if (input.metafieldNamespaces !== undefined) {
    const list = stringList(input.metafieldNamespaces, "metafieldNamespaces");
    if (isUserError(list)) errors.push(list);
    else fields.metafieldNamespaces = list;
  }
  if (input.name !== undefined) {
    fields.name = typeof input.name === "string" && input.name !== "" ? input.name : null;
  }
  return { fields, errors };
}

function duplicateOf(
  shop: ShopState,
  owner: string,
  topic: string,
  address: string,
  except: ApiSubscriptionRec | null,
): boolean {
  return shop.apiSubscriptions.some(
    (s) => s !== except && s.owner === owner && s.topic === topic && s.address === address,
  );
}

const TAKEN = "Address for this topic has already been taken";

export function createSubscription(
  shop: ShopState,
  ids: IdAllocator,
  caller: Caller,
  topicValue: string,
  input: Input,
  now = new Date(),
): { webhookSubscription: ApiSubscriptionRec | null; userErrors: UserError[] } {
  const topic = restTopic(topicValue);
  const userErrors: UserError[] = [];
  if (topic === null) {
    userErrors.push({ field: ["topic"], message: `Topic ${topicValue} is not supported` });
  } else {
    const missing = missingTopicScope(topic, caller.scopes);
    if (missing) {
      userErrors.push({
        field: ["topic"],
        message:
          `You do not have permission to create or update webhooks with ${topic} topic. ` +
          `This topic requires the \`${missing}\` access scope.`,
      });
    }
  }
  const { fields, errors } = readInput(input, true);
  userErrors.push(...errors);
  if (
    topic !== null &&
    fields.address !== undefined &&
    duplicateOf(shop, caller.owner.key, topic, fields.address, null)
  ) {
    userErrors.push({ field: [INPUT, "uri"], message: TAKEN });
  }
  if (userErrors.length > 0 || topic === null || fields.address === undefined) {
    return { webhookSubscription: null, userErrors };
  }
  const legacyId = ids.allocate("WebhookSubscription");
  const rec: ApiSubscriptionRec = {
    kind: "WebhookSubscription",
    id: gid("WebhookSubscription", legacyId),
    legacyId,
    scope: "api",
    owner: caller.owner.key,
    ownerTitle: caller.owner.title,
    secret: caller.owner.secret,
    topic,
    topics: [topic],
    address: fields.address,
    format: "JSON",
    filter: fields.filter ?? null,
    includeFields: fields.includeFields ?? null,
    metafieldNamespaces: fields.metafieldNamespaces ?? [],
    name: fields.name ?? null,
    createdAt: now,
    updatedAt: now,
  };
  shop.apiSubscriptions.push(rec);
  return { webhookSubscription: rec, userErrors: [] };
}

/** The caller's subscription by GID (or numeric id); another app's is "not found" too. */
export function findSubscription(
  shop: ShopState,
  owner: string | null,
  id: unknown,
): ApiSubscriptionRec | null {
  const legacyId = idOf(id, "WebhookSubscription");
  if (legacyId === null) return null;
  return (
    shop.apiSubscriptions.find(
      (s) => s.legacyId === legacyId && (owner === null || s.owner === owner),
    ) ?? null
  );
}

const NOT_FOUND: UserError = { field: ["id"], message: "Webhook subscription does not exist" };

export function updateSubscription(
  shop: ShopState,
  caller: Caller,
  id: unknown,
  input: Input,
  now = new Date(),
): { webhookSubscription: ApiSubscriptionRec | null; userErrors: UserError[] } {
  const rec = findSubscription(shop, caller.owner.key, id);
  if (!rec) return { webhookSubscription: null, userErrors: [NOT_FOUND] };
  const { fields, errors } = readInput(input, false);
  if (
    errors.length === 0 &&
    fields.address !== undefined &&
    duplicateOf(shop, rec.owner, rec.topic, fields.address, rec)
  ) {
    errors.push({ field: [INPUT, "uri"], message: TAKEN });
  }
  if (errors.length > 0) return { webhookSubscription: null, userErrors: errors };
  Object.assign(rec, fields, { updatedAt: now });
  return { webhookSubscription: rec, userErrors: [] };
}

/** Removes one subscription; `owner` null: whoever created it (the merchant's control call). */
export function deleteSubscription(
  shop: ShopState,
  owner: string | null,
  id: unknown,
): { deletedWebhookSubscriptionId: string | null; userErrors: UserError[] } {
  const rec = findSubscription(shop, owner, id);
  if (!rec) return { deletedWebhookSubscriptionId: null, userErrors: [NOT_FOUND] };
  shop.apiSubscriptions.splice(shop.apiSubscriptions.indexOf(rec), 1);
  return { deletedWebhookSubscriptionId: rec.id, userErrors: [] };
}

/** Removes every subscription of one app at this shop (uninstall). Returns them. */
export function deleteSubscriptionsOf(shop: ShopState, owner: string): ApiSubscriptionRec[] {
  const removed = shop.apiSubscriptions.filter((s) => s.owner === owner);
  if (removed.length > 0)
    shop.apiSubscriptions = shop.apiSubscriptions.filter((s) => s.owner !== owner);
  return removed;
}

/** The caller's subscriptions matching the `webhookSubscriptions` arguments. */
export function listSubscriptions(
  shop: ShopState,
  owner: string,
  args: Record<string, unknown>,
): ApiSubscriptionRec[] {
  const topics = Array.isArray(args.topics)
    ? new Set((args.topics as string[]).map((t) => restTopic(t)))
    : null;
  const uri =
    typeof args.uri === "string"
      ? args.uri
      : typeof args.callbackUrl === "string"
        ? args.callbackUrl
        : null;
  const format = typeof args.format === "string" ? args.format : null;
  return shop.apiSubscriptions.filter(
    (s) =>
      s.owner === owner &&
      (topics === null || topics.has(s.topic)) &&
      (uri === null || s.address === uri) &&
      (format === null || s.format === format),
  );
}

/** Re-signs an app's subscriptions after its secret changed (the app was reconfigured). */
export function resignSubscriptions(shop: ShopState, identity: AppIdentity): void {
  for (const s of shop.apiSubscriptions) {
    if (s.owner === identity.key) {
      s.secret = identity.secret;
      s.ownerTitle = identity.title;
    }
  }
}

/** Field resolvers of `WebhookSubscription` beyond its record's own properties. */
export const webhookSubscriptionFields = {
  legacyResourceId: (s: ApiSubscriptionRec) => String(s.legacyId),
  topic: (s: ApiSubscriptionRec) => graphqlTopic(s.topic),
  uri: (s: ApiSubscriptionRec) => s.address,
  callbackUrl: (s: ApiSubscriptionRec) => s.address,
  includeFields: (s: ApiSubscriptionRec) => s.includeFields ?? [],
  endpoint: (s: ApiSubscriptionRec) => ({ kind: "WebhookHttpEndpoint", callbackUrl: s.address }),
  apiVersion: () => ({
    handle: WEBHOOK_API_VERSION,
    displayName: WEBHOOK_API_VERSION,
    supported: true,
  }),
};

/** What the control API shows of a subscription (every app's, with its owner). */
export function subscriptionSummary(s: ApiSubscriptionRec) {
  return {
    id: s.id,
    topic: s.topic,
    graphqlTopic: graphqlTopic(s.topic),
    uri: s.address,
    app: s.owner,
    appTitle: s.ownerTitle,
    format: s.format,
    filter: s.filter,
    includeFields: s.includeFields ?? [],
    name: s.name,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}
