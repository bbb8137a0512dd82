/**
 * Shopify Flow in the local Shopify: the `flowTriggerReceive(handle, payload)` mutation. A call
 * is checked the way the app's deployed trigger extensions define it (the handle is one of the
 * app's flow_trigger extensions; every declared field present with its type, nothing else; a
 * reference names a record of the store; under 50,000 bytes) and, when valid, recorded per store
 * so tests can count what Flow received. An invalid call records nothing and answers userErrors.
 *
 * Facts (shopify.dev Admin GraphQL reference, FlowTriggerReceivePayload; Shopify CLI flow
 * specifications): arguments `handle: String`, `payload: JSON` (and the deprecated `body:
 * String`), result `{ userErrors { field message } }`; reference fields are sent as
 * `<object>_id`. UNCERTAIN: the exact userError texts and whether a reference may be a GID
 * (this server accepts the numeric id only, which is what StockGuard sends).
 */
import type { GraphQLResolveInfo } from "graphql";
import { loadExtensionManifests, payloadKey, type FlowManifest } from "./flow-manifest";
import type { ShopState } from "./state";

export const FLOW_SDL = /* GraphQL */ `
  scalar JSON

  type FlowTriggerReceivePayload {
    userErrors: [UserError!]!
  }

  extend type Mutation {
    flowTriggerReceive(handle: String, payload: JSON, body: String): FlowTriggerReceivePayload
  }
`;

export type ReceivedFlowTrigger = {
  handle: string;
  payload: Record<string, unknown>;
  /** The app that fired it (its key). */
  app: string;
  at: Date;
};

type UserError = { field: string[] | null; message: string };

const received = new WeakMap<ShopState, ReceivedFlowTrigger[]>();
const rejected = new WeakMap<ShopState, { handle: string; errors: UserError[] }[]>();
let manifests: FlowManifest[] | null = null;

/** Valid triggers the store received, oldest first. */
export function receivedFlowTriggers(shop: ShopState): ReceivedFlowTrigger[] {
  return received.get(shop) ?? [];
}

/** Calls the store refused (with their userErrors), oldest first. */
export function rejectedFlowTriggers(shop: ShopState): { handle: string; errors: UserError[] }[] {
  return rejected.get(shop) ?? [];
}

/** The trigger extensions calls are checked against (default: the app's extensions/ folder). */
export function useFlowManifests(list: FlowManifest[] | null): void {
  manifests = list;
}

function triggerManifests(): FlowManifest[] {
  manifests ??= loadExtensionManifests();
  return manifests.filter((m) => m.type === "flow_trigger");
}

const MAX_PAYLOAD_BYTES = 50_000;

function checkValue(shop: ShopState, type: string, value: unknown): string | null {
  switch (type) {
    case "product_reference": {
      if (typeof value !== "number" || !Number.isInteger(value) || value <= 0)
        return "must be a product id (a positive integer)";
      return shop.products.has(value) ? null : `product ${value} does not exist`;
    }
    case "order_reference":
      if (typeof value !== "number" || !Number.isInteger(value)) return "must be an order id";
      return shop.orders.has(value) ? null : `order ${value} does not exist`;
    case "customer_reference":
      return typeof value === "number" && Number.isInteger(value) ? null : "must be a customer id";
    case "single_line_text_field":
      return typeof value === "string" && !value.includes("\n") ? null : "must be a single line";
    case "number_decimal":
      return typeof value === "number" && Number.isFinite(value) ? null : "must be a number";
    case "boolean":
      return typeof value === "boolean" ? null : "must be true or false";
    case "email":
      return typeof value === "string" && /^[^@\s]+@[^@\s]+$/.test(value)
        ? null
        : "must be an email address";
    case "url":
      try {
        return typeof value === "string" && /^https?:$/.test(new URL(value).protocol)
          ? null
          : "must be a URL";
      } catch {
        return "must be a URL";
      }
    default:
      return `field type ${type} is not supported by this sandbox`;
  }
}

/** The userErrors of a call (empty: valid). */
export function validateFlowTrigger(
  shop: ShopState,
  handle: unknown,
  payload: unknown,
): UserError[] {
  if (typeof handle !== "string" || handle === "")
    return [{ field: ["handle"], message: "Handle is required" }];
  const manifest = triggerManifests().find((m) => m.handle === handle);
  if (!manifest) return [{ field: ["handle"], message: `Invalid handle "${handle}"` }];
  if (typeof payload !== "object" || payload === null || Array.isArray(payload))
    return [{ field: ["payload"], message: "Payload must be a JSON object" }];
  if (Buffer.byteLength(JSON.stringify(payload)) >= MAX_PAYLOAD_BYTES)
    return [{ field: ["payload"], message: "Payload must be under 50000 bytes" }];
  const errors: UserError[] = [];
  const body = payload as Record<string, unknown>;
  const declared = new Set<string>();
  for (const field of manifest.fields) {
    const key = payloadKey(field);
    declared.add(key);
    if (!(key in body)) {
      errors.push({ field: ["payload", key], message: `${key} is required` });
      continue;
    }
    const problem = checkValue(shop, field.type, body[key]);
    if (problem) errors.push({ field: ["payload", key], message: `${key} ${problem}` });
  }
  for (const key of Object.keys(body)) {
    if (!declared.has(key))
      errors.push({ field: ["payload", key], message: `${key} is not a field of ${handle}` });
  }
  return errors;
}

type Context = { shop: ShopState; caller: { owner: { key: string } } };

/** The Mutation resolvers to merge into the Admin API's. */
export const flowMutationResolvers = {
  flowTriggerReceive: (
    _source: never,
    args: Record<string, unknown>,
    ctx: Context,
    _info: GraphQLResolveInfo,
  ): { userErrors: UserError[] } => {
    let payload = args.payload;
    if (payload === undefined && typeof args.body === "string") {
      try {
        const parsed = JSON.parse(args.body) as {
          trigger_reference?: unknown;
          properties?: unknown;
        };
        payload = parsed.properties;
        args = { ...args, handle: args.handle ?? parsed.trigger_reference };
      } catch {
        payload = null;
      }
    }
    const errors = validateFlowTrigger(ctx.shop, args.handle, payload);
    if (errors.length > 0) {
      const list = rejected.get(ctx.shop) ?? [];
      list.push({ handle: String(args.handle), errors });
      rejected.set(ctx.shop, list);
      return { userErrors: errors };
    }
    const list = received.get(ctx.shop) ?? [];
    list.push({
      handle: args.handle as string,
      payload: structuredClone(payload as Record<string, unknown>),
      app: ctx.caller.owner.key,
      at: new Date(),
    });
    received.set(ctx.shop, list);
    return { userErrors: [] };
  },
};
