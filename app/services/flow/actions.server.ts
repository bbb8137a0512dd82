/**
 * Shopify Flow actions StockGuard runs (extensions/set-stockguard-buffer, pause-channel-sync):
 * the request is verified with the HMAC Flow signs it with (base64 HMAC-SHA256 of the raw body
 * under the app's client secret, `X-Shopify-Hmac-Sha256`), parsed, applied once per Flow
 * `action_run_id` (a retry or a replay of the same run is answered with the first outcome and
 * changes nothing), and answered the way Flow reads it: 2xx applied; 4xx refused for good with a
 * JSON `message` (Flow does not retry a 4xx); 5xx (thrown) is retried by Flow.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { z } from "zod";
import { flowPort } from "../../channels/registry.server";
import { DomainError } from "../../domain/errors";
import { normalizeSku } from "../../domain/sku";
import { shopifyEnv } from "../../env.server";
import { log } from "../../logger.server";
import * as connections from "../../repositories/connections.server";
import * as flow from "../../repositories/flow.server";
import * as shops from "../../repositories/shops.server";
import { createRule } from "../rules.server";
import { pauseChannel, SyncControlError } from "../sync-control.server";
import { FLOW_ACTIONS, ZFlowActionRequest, type FlowActionHandle } from "./definitions";

export type FlowActionResponse = { status: number; body: Record<string, unknown> };

/** Flow action bodies are small (a few properties); anything bigger is refused unread. */
export const MAX_FLOW_ACTION_BYTES = 64 * 1024;
/** An action naming a product applies to at most this many of its variants. */
const MAX_VARIANTS = 100;

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

const refuse = (error: Refused): FlowActionResponse => ({
  status: error.status,
  body: { message: error.message, ...(error.errors ? { errors: error.errors } : {}) },
});

/** Base64 HMAC-SHA256 of the raw body under the app secret, compared in constant time. */
export function verifyFlowSignature(rawBody: string, signature: string | null): boolean {
  if (!signature) return false;
  const expected = createHmac("sha256", shopifyEnv().SHOPIFY_API_SECRET)
    .update(rawBody, "utf8")
    .digest();
  let given: Buffer;
  try {
    given = Buffer.from(signature, "base64");
  } catch {
    return false;
  }
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** One Flow action request, from its raw body and signature header to Flow's answer. */
export async function runFlowAction(
  handle: FlowActionHandle,
  rawBody: string,
  signature: string | null,
): Promise<FlowActionResponse> {
  if (Buffer.byteLength(rawBody) > MAX_FLOW_ACTION_BYTES)
    return refuse(new Refused(413, "request too large"));
  if (!verifyFlowSignature(rawBody, signature))
    return refuse(new Refused(401, "invalid or missing X-Shopify-Hmac-Sha256 signature"));
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return refuse(new Refused(400, "the body is not JSON"));
  }
  const request = ZFlowActionRequest.safeParse(json);
  if (!request.success) return refuse(invalid(request.error.issues));
  if (request.data.handle !== handle)
    return refuse(new Refused(400, `this endpoint runs ${handle}, not ${request.data.handle}`));
  const properties = FLOW_ACTIONS[handle].safeParse(request.data.properties);
  if (!properties.success) return refuse(invalid(properties.error.issues, "properties"));

  const shop = await shops.shopDetails(request.data.shopify_domain.toLowerCase());
  if (!shop || shop.status !== "active")
    return refuse(
      new Refused(404, `StockGuard is not installed on ${request.data.shopify_domain}`),
    );

  const runId = request.data.action_run_id;
  const digest = createHash("sha256").update(rawBody).digest("hex");
  const claim = await flow.claimFlowActionRun(undefined, {
    shopId: shop.id,
    actionRunId: runId,
    handle,
    bodySha256: digest,
  });
  if (claim.state === "seen") {
    if (claim.bodySha256 !== digest)
      return refuse(new Refused(409, "this action_run_id was already used with another request"));
    const previous = claim.outcome as { status?: number; body?: Record<string, unknown> };
    if (typeof previous.status === "number" && previous.body) {
      // A retry (or a replay) of a finished run: the first answer, nothing applied again.
      return { status: previous.status, body: { ...previous.body, replayed: true } };
    }
    // Claimed by a run that has not finished (or died half-way): both actions set absolute
    // values, so applying again gives the same state.
  }
  const logger = log({ shop: shop.domain, handle, actionRunId: runId });
  let response: FlowActionResponse;
  try {
    const result =
      handle === "set-stockguard-buffer"
        ? await setBuffer(shop, properties.data as SetBufferProperties)
        : await pauseChannelSync(shop, properties.data as PauseProperties);
    response = { status: 200, body: { status: "applied", ...result } };
    logger.info(result, "flow action applied");
  } catch (error) {
    if (error instanceof Refused) response = refuse(error);
    else if (error instanceof DomainError || error instanceof SyncControlError)
      response = refuse(new Refused(422, error.message));
    else throw error; // 5xx: Flow retries, and the claim lets the retry apply it.
    logger.info({ status: response.status, message: error.message }, "flow action refused");
  }
  await flow.saveFlowActionOutcome(undefined, shop.id, runId, response);
  return response;
}

function invalid(issues: { path: PropertyKey[]; message: string }[], prefix?: string): Refused {
  const errors = issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join("."),
    message: issue.message,
  }));
  return new Refused(
    400,
    errors.map((e) => `${e.field || "body"}: ${e.message}`).join("; "),
    errors,
  );
}

type Shop = { id: string; domain: string };
type SetBufferProperties = z.output<(typeof FLOW_ACTIONS)["set-stockguard-buffer"]>;
type PauseProperties = z.output<(typeof FLOW_ACTIONS)["pause-channel-sync"]>;

/** A channel named in an action: its StockGuard name, its account (shop domain) or its id. */
async function resolveChannel(shopId: string, name: string) {
  const wanted = name.trim().toLowerCase();
  const channels = await flow.shopChannels(shopId);
  const matches = channels.filter(
    (c) =>
      c.id === wanted || c.name.toLowerCase() === wanted || c.accountRef.toLowerCase() === wanted,
  );
  if (matches.length === 0)
    throw new Refused(400, `no channel named "${name}"`, [
      { field: "properties.channel", message: "unknown channel" },
    ]);
  if (matches.length > 1)
    throw new Refused(400, `"${name}" names several channels; use the channel's id`, [
      { field: "properties.channel", message: "ambiguous channel" },
    ]);
  return matches[0]!;
}

async function skusOf(shopId: string, props: SetBufferProperties): Promise<string[]> {
  if (props.sku) {
    const sku = normalizeSku(props.sku);
    if (!sku)
      throw new Refused(400, "the SKU is empty", [{ field: "properties.sku", message: "empty" }]);
    return [sku];
  }
  const variants: string[] = [];
  if (props.variant_id) variants.push(props.variant_id);
  else if (props.product_id) {
    const source = await flow.sourceConnectionOfShop(shopId);
    const row = source ? await connections.loadConnection(source.connectionId) : null;
    if (!row) throw new Refused(422, "the shop has no source store connected");
    variants.push(
      ...(await flowPort().variantsOfProduct(connections.toContext(row), props.product_id)),
    );
  } else {
    throw new Refused(400, "give a product, a variant ID or a SKU", [
      { field: "properties.sku", message: "a product, a variant ID or a SKU is required" },
    ]);
  }
  const skus = await flow.skusOfVariants(shopId, variants.slice(0, MAX_VARIANTS));
  if (skus.length === 0)
    throw new Refused(422, "StockGuard tracks no SKU for that product or variant", [
      {
        field: props.variant_id ? "properties.variant_id" : "properties.product_id",
        message: "not tracked",
      },
    ]);
  return skus;
}

async function setBuffer(shop: Shop, props: SetBufferProperties) {
  const channel = props.channel ? await resolveChannel(shop.id, props.channel) : null;
  const skus = await skusOf(shop.id, props);
  for (const sku of skus) {
    await createRule(
      shop.id,
      { connectionId: channel?.id ?? null, sku, kind: props.kind, value: props.value },
      { replace: true },
    );
  }
  return { skus, channel: channel?.name ?? "all channels", kind: props.kind, value: props.value };
}

async function pauseChannelSync(shop: Shop, props: PauseProperties) {
  const channel = await resolveChannel(shop.id, props.channel);
  await pauseChannel(shop.domain, channel.id);
  const reason = `paused by Shopify Flow${props.reason ? `: ${props.reason}` : ""}`;
  await connections.setConnectionStatus(channel.id, "paused", reason);
  return { channel: channel.name, reason };
}
