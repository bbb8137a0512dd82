/**
 * Commerce Notification API v1 (`/commerce/notification/v1`, commerce_notification_v1_oas3.json):
 * getPublicKey, getTopics / getTopic, getConfig / updateConfig, destinations (create with the
 * endpoint challenge, get, list, update, delete) and subscriptions (create, get, list, update,
 * delete, enable, disable, test). Application topics (MARKETPLACE_ACCOUNT_DELETION) take an
 * application token; user topics (ORDER_CONFIRMATION) a user token with the topic's scope.
 */
import { randomUUID } from "node:crypto";
import { intParam, type ApiModule, type ApiRequest } from "./api";
import { ACCESS, type ApiError, NOTIFICATION } from "./errors";
import type { EbayResult } from "./http";
import { SCOPES, TOPICS, type DestinationRec, type SubscriptionRec } from "./model";
import {
  destinationPayload,
  publicKeyPayload,
  subscriptionPayload,
  topicPayload,
} from "./payloads";
import type { EbaySandbox } from "./sandbox";
import { challengeResponse } from "./signing";

const PREFIX = "/commerce/notification/v1";
const MANAGE = [SCOPES.base, SCOPES.notificationSubscription];
const READ = [
  SCOPES.base,
  SCOPES.notificationSubscription,
  SCOPES.notificationSubscriptionReadonly,
];
const TOKEN_RE = /^[A-Za-z0-9_-]{32,80}$/;

function getPublicKey(req: ApiRequest): EbayResult {
  const kid = req.params[0] ?? "";
  const key = req.sb.signingKey(kid);
  if (!key) throw NOTIFICATION.invalidPublicKey(kid);
  return { status: 200, body: publicKeyPayload(key) };
}

/** limit (10-100, default 20) and an opaque continuation token (a base64 offset). */
function pageOf<T>(req: ApiRequest, rows: T[], path: string) {
  const limit = intParam(req.query, "limit", (v) => NOTIFICATION.invalidInput(`limit=${v}`)) ?? 20;
  if (limit < 10 || limit > 100)
    throw NOTIFICATION.invalidInput("limit must be between 10 and 100");
  const token = req.query.get("continuation_token");
  let start = 0;
  if (token !== null) {
    const decoded = Number(Buffer.from(token, "base64url").toString("utf8"));
    if (!Number.isInteger(decoded) || decoded < 0)
      throw NOTIFICATION.invalidInput("invalid continuation_token");
    start = decoded;
  }
  const page = rows.slice(start, start + limit);
  const base = `${req.baseUrl}${PREFIX}${path}`;
  const nextToken = Buffer.from(String(start + limit), "utf8").toString("base64url");
  return {
    total: rows.length,
    href: `${base}?limit=${limit}${token === null ? "" : `&continuation_token=${token}`}`,
    ...(start + limit < rows.length
      ? { next: `${base}?limit=${limit}&continuation_token=${nextToken}` }
      : {}),
    limit,
    page,
  };
}

function getTopics(req: ApiRequest): EbayResult {
  const { page, ...meta } = pageOf(req, [...TOPICS], "/topic");
  return { status: 200, body: { ...meta, topics: page.map(topicPayload) } };
}

function getTopic(req: ApiRequest): EbayResult {
  const topic = TOPICS.find((t) => t.topicId === req.params[0]);
  if (!topic) throw NOTIFICATION.invalidTopic(req.params[0] ?? "");
  return { status: 200, body: topicPayload(topic) };
}

function getConfig(req: ApiRequest): EbayResult {
  const app = req.sb.apps.get(req.token.clientId);
  if (!app?.alertEmail) throw NOTIFICATION.configNotFound();
  return { status: 200, body: { alertEmail: app.alertEmail } };
}

async function updateConfig(req: ApiRequest): Promise<EbayResult> {
  const body = (await req.json()) as { alertEmail?: unknown };
  if (typeof body?.alertEmail !== "string" || !/^[^@\s]+@[^@\s]+$/.test(body.alertEmail)) {
    throw NOTIFICATION.invalidInput("alertEmail must be an email address");
  }
  const app = req.sb.app(req.token.clientId);
  app.alertEmail = body.alertEmail;
  return { status: 204 };
}

// --- destinations ----------------------------------------------------------------------------

type DestinationInput = {
  name: string;
  status: "ENABLED" | "DISABLED";
  endpoint: string;
  verificationToken: string;
};

function destinationInput(sb: EbaySandbox, raw: unknown): DestinationInput {
  const body = (typeof raw === "object" && raw !== null ? raw : {}) as {
    name?: unknown;
    status?: unknown;
    deliveryConfig?: { endpoint?: unknown; verificationToken?: unknown };
  };
  if (typeof body.name !== "string" || body.name === "")
    throw NOTIFICATION.invalidInput("name is required");
  const status = body.status ?? "ENABLED";
  if (status !== "ENABLED" && status !== "DISABLED") {
    throw NOTIFICATION.invalidInput(
      "status must be ENABLED or DISABLED (MARKED_DOWN is set by eBay)",
    );
  }
  const endpoint = body.deliveryConfig?.endpoint;
  let url: URL;
  try {
    url = new URL(String(endpoint));
  } catch {
    throw NOTIFICATION.invalidInput("deliveryConfig.endpoint must be an absolute URL");
  }
  if (url.protocol !== "https:" && !(sb.settings.allowHttpEndpoints && url.protocol === "http:")) {
    throw NOTIFICATION.invalidInput("deliveryConfig.endpoint must be an https URL");
  }
  const verificationToken = body.deliveryConfig?.verificationToken;
  if (typeof verificationToken !== "string" || !TOKEN_RE.test(verificationToken)) {
    throw NOTIFICATION.invalidInput(
      "deliveryConfig.verificationToken must be 32 to 80 characters: alphanumeric, underscore and hyphen",
    );
  }
  return { name: body.name, status, endpoint: String(endpoint), verificationToken };
}

/**
 * eBay's endpoint challenge: `GET <endpoint>?challenge_code=…`; the endpoint must answer 200 with
 * `{"challengeResponse": hex(SHA-256(challengeCode + verificationToken + endpoint))}`.
 */
export async function verifyEndpoint(
  sb: EbaySandbox,
  endpoint: string,
  verificationToken: string,
): Promise<{ ok: boolean; detail: string; challengeCode: string }> {
  const challengeCode = sb.random.seeded ? sb.random.uuid() : randomUUID();
  const url = `${endpoint}${endpoint.includes("?") ? "&" : "?"}challenge_code=${encodeURIComponent(challengeCode)}`;
  const result = await sb.outbound.request(url, {
    method: "GET",
    headers: { Accept: "application/json" },
    timeoutMs: sb.settings.challengeTimeoutMs,
  });
  if (result.status !== 200) {
    return { ok: false, detail: result.error ?? `HTTP ${result.status ?? "?"}`, challengeCode };
  }
  let answer: unknown;
  try {
    answer = JSON.parse(result.body);
  } catch {
    return { ok: false, detail: "the answer is not JSON", challengeCode };
  }
  const expected = challengeResponse(challengeCode, verificationToken, endpoint);
  const given = (answer as { challengeResponse?: unknown } | null)?.challengeResponse;
  if (given !== expected)
    return { ok: false, detail: "challengeResponse does not match", challengeCode };
  return { ok: true, detail: "verified", challengeCode };
}

function destinationOf(req: ApiRequest, id: string, status = 404): DestinationRec {
  const destination = req.sb.destinations.get(id);
  if (!destination || destination.clientId !== req.token.clientId)
    throw NOTIFICATION.invalidDestination(id, status);
  return destination;
}

async function createDestination(req: ApiRequest): Promise<EbayResult> {
  const sb = req.sb;
  const input = destinationInput(sb, await req.json());
  const app = sb.app(req.token.clientId);
  if (sb.settings.requireAlertConfig && !app.alertEmail) throw NOTIFICATION.missingAlertConfig();
  const check = await verifyEndpoint(sb, input.endpoint, input.verificationToken);
  if (!check.ok && sb.settings.challengeFailure === "reject") {
    throw NOTIFICATION.challengeFailed(input.endpoint, check.detail);
  }
  const destinationId = sb.random.uuid();
  sb.destinations.set(destinationId, {
    destinationId,
    clientId: app.clientId,
    name: input.name,
    status: check.ok ? input.status : "MARKED_DOWN",
    endpoint: input.endpoint,
    verificationToken: input.verificationToken,
    createdAt: sb.clock.iso(),
  });
  return {
    status: 201,
    headers: { Location: `${req.baseUrl}${PREFIX}/destination/${destinationId}` },
  };
}

function getDestination(req: ApiRequest): EbayResult {
  return { status: 200, body: destinationPayload(destinationOf(req, req.params[0] ?? "")) };
}

function getDestinations(req: ApiRequest): EbayResult {
  const rows = [...req.sb.destinations.values()].filter((d) => d.clientId === req.token.clientId);
  const { page, ...meta } = pageOf(req, rows, "/destination");
  return { status: 200, body: { ...meta, destinations: page.map(destinationPayload) } };
}

async function updateDestination(req: ApiRequest): Promise<EbayResult> {
  const destination = destinationOf(req, req.params[0] ?? "");
  const input = destinationInput(req.sb, await req.json());
  const check = await verifyEndpoint(req.sb, input.endpoint, input.verificationToken);
  if (!check.ok && req.sb.settings.challengeFailure === "reject") {
    throw NOTIFICATION.challengeFailed(input.endpoint, check.detail);
  }
  destination.name = input.name;
  destination.endpoint = input.endpoint;
  destination.verificationToken = input.verificationToken;
  destination.status = check.ok ? input.status : "MARKED_DOWN";
  return { status: 204 };
}

function deleteDestination(req: ApiRequest): EbayResult {
  const destination = destinationOf(req, req.params[0] ?? "");
  for (const s of req.sb.subscriptions.values()) {
    if (s.destinationId === destination.destinationId) throw NOTIFICATION.destinationInUse();
  }
  req.sb.destinations.delete(destination.destinationId);
  return { status: 204 };
}

// --- subscriptions ---------------------------------------------------------------------------

/** Application subscriptions belong to the app; user subscriptions to the token's user. */
function owner(req: ApiRequest): string | null {
  return req.token.kind === "user" ? req.token.userId : null;
}

function subscriptionOf(req: ApiRequest, id: string): SubscriptionRec {
  const s = req.sb.subscriptions.get(id);
  if (!s || s.clientId !== req.token.clientId || s.userId !== owner(req))
    throw NOTIFICATION.invalidSubscription(id);
  return s;
}

function payloadInput(raw: unknown, schemaVersion: string): SubscriptionRec["payload"] {
  const p = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (p.format !== "JSON") throw NOTIFICATION.invalidInput("payload.format must be JSON");
  if (p.deliveryProtocol !== "HTTPS")
    throw NOTIFICATION.invalidInput("payload.deliveryProtocol must be HTTPS");
  if (p.schemaVersion !== schemaVersion) {
    throw NOTIFICATION.invalidInput(
      `payload.schemaVersion ${String(p.schemaVersion)} is not supported (${schemaVersion})`,
    );
  }
  return { format: "JSON", schemaVersion, deliveryProtocol: "HTTPS" };
}

async function createSubscription(req: ApiRequest): Promise<EbayResult> {
  const body = (await req.json()) as Record<string, unknown> | null;
  const topicId = typeof body?.topicId === "string" ? body.topicId : "";
  const topic = TOPICS.find((t) => t.topicId === topicId);
  if (!topic) throw NOTIFICATION.invalidTopic(topicId, 400);
  const tokenKind = req.token.kind;
  const scopesOk = topic.authorizationScopes.every((s) => req.token.scopes.includes(s));
  if (
    !scopesOk ||
    (topic.scope === "USER" && tokenKind !== "user") ||
    (topic.scope === "APPLICATION" && tokenKind !== "application")
  ) {
    throw NOTIFICATION.notAuthorizedForTopic(topicId);
  }
  const status = body?.status;
  if (status !== "ENABLED" && status !== "DISABLED")
    throw NOTIFICATION.invalidInput("status must be ENABLED or DISABLED");
  const destinationId = typeof body?.destinationId === "string" ? body.destinationId : "";
  const destination = destinationOf(req, destinationId, 400);
  const payload = payloadInput(body?.payload, topic.schemaVersion);
  const userId = owner(req);
  for (const s of req.sb.subscriptions.values()) {
    if (
      s.clientId === req.token.clientId &&
      s.userId === userId &&
      s.topicId === topicId &&
      s.payload.schemaVersion === payload.schemaVersion
    ) {
      throw NOTIFICATION.subscriptionExists();
    }
  }
  if (status === "ENABLED" && destination.status !== "ENABLED")
    throw NOTIFICATION.destinationNotEnabled();
  const subscriptionId = req.sb.random.uuid();
  req.sb.subscriptions.set(subscriptionId, {
    subscriptionId,
    clientId: req.token.clientId,
    userId,
    topicId,
    status,
    destinationId: destination.destinationId,
    payload,
    creationDate: req.sb.clock.iso(),
  });
  return {
    status: 201,
    headers: { Location: `${req.baseUrl}${PREFIX}/subscription/${subscriptionId}` },
  };
}

function getSubscription(req: ApiRequest): EbayResult {
  return { status: 200, body: subscriptionPayload(subscriptionOf(req, req.params[0] ?? "")) };
}

function getSubscriptions(req: ApiRequest): EbayResult {
  const userId = owner(req);
  const rows = [...req.sb.subscriptions.values()].filter(
    (s) => s.clientId === req.token.clientId && s.userId === userId,
  );
  const { page, ...meta } = pageOf(req, rows, "/subscription");
  return { status: 200, body: { ...meta, subscriptions: page.map(subscriptionPayload) } };
}

async function updateSubscription(req: ApiRequest): Promise<EbayResult> {
  const s = subscriptionOf(req, req.params[0] ?? "");
  const body = (await req.json()) as Record<string, unknown> | null;
  const topic = TOPICS.find((t) => t.topicId === s.topicId);
  if (body?.status !== undefined) {
    if (body.status !== "ENABLED" && body.status !== "DISABLED")
      throw NOTIFICATION.invalidInput("status must be ENABLED or DISABLED");
  }
  const destination =
    typeof body?.destinationId === "string"
      ? destinationOf(req, body.destinationId, 400)
      : req.sb.destinations.get(s.destinationId);
  const payload =
    body?.payload === undefined
      ? s.payload
      : payloadInput(body.payload, topic?.schemaVersion ?? "1.0");
  const status = (body?.status as SubscriptionRec["status"] | undefined) ?? s.status;
  if (status === "ENABLED" && destination?.status !== "ENABLED")
    throw NOTIFICATION.destinationNotEnabled();
  s.status = status;
  s.payload = payload;
  if (destination) s.destinationId = destination.destinationId;
  return { status: 204 };
}

function deleteSubscription(req: ApiRequest): EbayResult {
  const s = subscriptionOf(req, req.params[0] ?? "");
  req.sb.subscriptions.delete(s.subscriptionId);
  return { status: 204 };
}

function setSubscriptionStatus(status: SubscriptionRec["status"]) {
  return (req: ApiRequest): EbayResult => {
    const s = subscriptionOf(req, req.params[0] ?? "");
    if (status === "ENABLED" && req.sb.destinations.get(s.destinationId)?.status !== "ENABLED") {
      throw NOTIFICATION.destinationNotEnabled();
    }
    s.status = status;
    return { status: 204 };
  };
}

function testSubscription(req: ApiRequest): EbayResult {
  const s = subscriptionOf(req, req.params[0] ?? "");
  if (req.sb.destinations.get(s.destinationId)?.status !== "ENABLED")
    throw NOTIFICATION.destinationNotEnabled();
  req.sb.testSubscription(s);
  return { status: 202 };
}

const invalidJson = (): ApiError => ACCESS.invalidRequest();

export const notificationApi: ApiModule = {
  name: "commerce.notification",
  prefix: PREFIX,
  invalidJson,
  routes: [
    {
      method: "GET",
      pattern: /^\/public_key\/([^/]+)$/,
      operation: "getPublicKey",
      auth: "application",
      scopes: [SCOPES.base],
      handler: getPublicKey,
    },
    {
      method: "GET",
      pattern: /^\/topic$/,
      operation: "getTopics",
      auth: "any",
      scopes: READ,
      handler: getTopics,
    },
    {
      method: "GET",
      pattern: /^\/topic\/([^/]+)$/,
      operation: "getTopic",
      auth: "any",
      scopes: READ,
      handler: getTopic,
    },
    {
      method: "GET",
      pattern: /^\/config$/,
      operation: "getConfig",
      auth: "application",
      scopes: [SCOPES.base],
      handler: getConfig,
    },
    {
      method: "PUT",
      pattern: /^\/config$/,
      operation: "updateConfig",
      auth: "application",
      scopes: [SCOPES.base],
      handler: updateConfig,
    },
    {
      method: "POST",
      pattern: /^\/destination$/,
      operation: "createDestination",
      auth: "any",
      scopes: MANAGE,
      handler: createDestination,
    },
    {
      method: "GET",
      pattern: /^\/destination$/,
      operation: "getDestinations",
      auth: "any",
      scopes: READ,
      handler: getDestinations,
    },
    {
      method: "GET",
      pattern: /^\/destination\/([^/]+)$/,
      operation: "getDestination",
      auth: "any",
      scopes: READ,
      handler: getDestination,
    },
    {
      method: "PUT",
      pattern: /^\/destination\/([^/]+)$/,
      operation: "updateDestination",
      auth: "any",
      scopes: MANAGE,
      handler: updateDestination,
    },
    {
      method: "DELETE",
      pattern: /^\/destination\/([^/]+)$/,
      operation: "deleteDestination",
      auth: "any",
      scopes: MANAGE,
      handler: deleteDestination,
    },
    {
      method: "POST",
      pattern: /^\/subscription$/,
      operation: "createSubscription",
      auth: "any",
      scopes: MANAGE,
      handler: createSubscription,
    },
    {
      method: "GET",
      pattern: /^\/subscription$/,
      operation: "getSubscriptions",
      auth: "any",
      scopes: READ,
      handler: getSubscriptions,
    },
    {
      method: "GET",
      pattern: /^\/subscription\/([^/]+)$/,
      operation: "getSubscription",
      auth: "any",
      scopes: READ,
      handler: getSubscription,
    },
    {
      method: "PUT",
      pattern: /^\/subscription\/([^/]+)$/,
      operation: "updateSubscription",
      auth: "any",
      scopes: MANAGE,
      handler: updateSubscription,
    },
    {
      method: "DELETE",
      pattern: /^\/subscription\/([^/]+)$/,
      operation: "deleteSubscription",
      auth: "any",
      scopes: MANAGE,
      handler: deleteSubscription,
    },
    {
      method: "POST",
      pattern: /^\/subscription\/([^/]+)\/enable$/,
      operation: "enableSubscription",
      auth: "any",
      scopes: MANAGE,
      handler: setSubscriptionStatus("ENABLED"),
    },
    {
      method: "POST",
      pattern: /^\/subscription\/([^/]+)\/disable$/,
      operation: "disableSubscription",
      auth: "any",
      scopes: MANAGE,
      handler: setSubscriptionStatus("DISABLED"),
    },
    {
      method: "POST",
      pattern: /^\/subscription\/([^/]+)\/test$/,
      operation: "test",
      auth: "any",
      scopes: MANAGE,
      handler: testSubscription,
    },
  ],
};
