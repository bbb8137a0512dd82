/**
 * `POST /{shop}/admin/api/2026-10/graphql.json`: auth, fault injection, cost and throttling,
 * the 2026-10 pre-execution rules, then graphql-js execution against the shop.
 */
import { randomUUID } from "node:crypto";
import {
  GraphQLError,
  Kind,
  execute,
  getArgumentValues,
  getDirectiveValues,
  getOperationAST,
  getVariableValues,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import {
  MAX_SINGLE_QUERY_COST,
  actualCost,
  requestedCost,
  stripRuntimeTypes,
  withRuntimeTypes,
  type ThrottleStatus,
} from "./cost";
import type { Caller } from "./apps";
import type { HttpResult } from "./http-util";
import { parseJson, sleep } from "./http-util";
import {
  isInventoryMutation,
  missingChangeFrom,
  oversizedInput,
  type TopLevelError,
} from "./inventory-mutations";
import { fieldResolver, typeResolver, type AdminContext } from "./resolvers";
import type { Sandbox } from "./sandbox";
import { adminSchema } from "./schema";
import type { ApiRequestLogEntry } from "./state";

export const ADMIN_API_VERSION = "2026-10";
const RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits";
const REQUEST_LOG_LIMIT = 10_000;

type Cost = {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
};

type Outcome = ApiRequestLogEntry["outcome"];

/**
 * Handles every request under `/{shop}/admin/`. `subPath` is what follows `/admin/`.
 */
export async function handleAdminRequest(
  sb: Sandbox,
  domain: string,
  subPath: string,
  method: string,
  headers: Record<string, string | string[] | undefined>,
  readBody: () => Promise<string>,
): Promise<HttpResult> {
  const shop = sb.shops.get(domain);
  if (!shop) return { status: 404, body: { errors: "Not Found" } };
  const match = /^api\/([^/]+)\/graphql\.json$/.exec(subPath);
  if (!match || match[1] !== ADMIN_API_VERSION)
    return { status: 404, body: { errors: "Not Found" } };
  const token = headers["x-shopify-access-token"];
  // The token names the calling app: a custom app of this store, or the app (token exchange).
  const caller = typeof token === "string" ? sb.authenticate(shop, token) : null;
  if (!caller) {
    return {
      status: 401,
      body: {
        errors: "[API] Invalid API key or access token (unrecognized login or wrong password)",
      },
    };
  }
  if (method !== "POST") return { status: 405, body: { errors: "Method Not Allowed" } };
  const requestId = randomUUID();
  const responseHeaders = { "X-Request-Id": requestId, "X-Shopify-API-Version": ADMIN_API_VERSION };
  const log = (
    status: number,
    outcome: Outcome,
    operationName: string | null,
    cost: Cost | null,
    keys: string[] = [],
    replays = 0,
  ): void => {
    shop.requestLog.push({
      seq: shop.nextRequestSeq(),
      at: new Date().toISOString(),
      app: caller.owner.key,
      operationName,
      status,
      outcome,
      requestedQueryCost: cost?.requestedQueryCost ?? null,
      actualQueryCost: cost?.actualQueryCost ?? null,
      idempotencyKeys: keys,
      idempotentReplays: replays,
    });
    if (shop.requestLog.length > REQUEST_LOG_LIMIT) shop.requestLog.shift();
  };

  const raw = await readBody();
  await sleep(shop.faults.latencyMs());
  const fault = shop.faults.next();
  if (fault && fault.kind !== "throttled") {
    const result = faultResponse(fault.kind, fault.retryAfterSeconds, requestId);
    log(result.status, "fault", null, null);
    return { ...result, headers: { ...responseHeaders, ...result.headers } };
  }

  const contentType = String(headers["content-type"] ?? "");
  const parsed: ReturnType<typeof parseJson> = contentType.startsWith("application/graphql")
    ? { ok: true, value: { query: raw } }
    : parseJson(raw);
  const body = parsed.ok ? parsed.value : undefined;
  const request = (typeof body === "object" && body !== null ? body : {}) as {
    query?: unknown;
    variables?: unknown;
    operationName?: unknown;
  };
  if (!parsed.ok || typeof request.query !== "string" || request.query.trim() === "") {
    log(400, "rejected", null, null);
    return {
      status: 400,
      body: { errors: { query: "Required parameter missing or invalid" } },
      headers: responseHeaders,
    };
  }
  const operationName = typeof request.operationName === "string" ? request.operationName : null;
  const variables =
    typeof request.variables === "object" && request.variables !== null
      ? (request.variables as Record<string, unknown>)
      : {};

  const reply = (
    outcome: Outcome,
    payload: { data?: unknown; errors?: readonly GraphQLFormattedError[] },
    cost: Cost,
    name: string | null,
    keys: string[] = [],
    replays = 0,
  ): HttpResult => {
    log(200, outcome, name, cost, keys, replays);
    const out: Record<string, unknown> = {};
    if (payload.errors && payload.errors.length > 0) out.errors = payload.errors;
    if (payload.data !== undefined) out.data = payload.data;
    out.extensions = { cost };
    return { status: 200, body: out, headers: responseHeaders };
  };
  const costOf = (requested: number, actual: number | null): Cost => ({
    requestedQueryCost: requested,
    actualQueryCost: actual,
    throttleStatus: shop.bucket.status(),
  });

  const schema = adminSchema();
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch (error) {
    const formatted = error instanceof GraphQLError ? error.toJSON() : { message: String(error) };
    return reply("errors", { errors: [formatted] }, costOf(0, null), operationName);
  }
  const validationErrors = validate(schema, document);
  if (validationErrors.length > 0) {
    return reply(
      "errors",
      { errors: validationErrors.map((e) => e.toJSON()) },
      costOf(0, null),
      operationName,
    );
  }
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    const message = operationName
      ? `Unknown operation named "${operationName}".`
      : "Must provide operation name if query contains multiple operations.";
    return reply("errors", { errors: [{ message }] }, costOf(0, null), operationName);
  }
  const name = operation.name?.value ?? operationName;
  const coercion = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (coercion.errors) {
    return reply(
      "errors",
      { errors: coercion.errors.map((e) => e.toJSON()) },
      costOf(0, null),
      name,
    );
  }
  const coerced = coercion.coerced;

  const requested = requestedCost(schema, document, operation, coerced);
  if (requested > MAX_SINGLE_QUERY_COST) {
    return reply(
      "errors",
      {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).`,
            extensions: {
              code: "MAX_COST_EXCEEDED",
              cost: requested,
              maxCost: MAX_SINGLE_QUERY_COST,
              documentation: RATE_LIMIT_DOCS,
            },
          },
        ],
      },
      costOf(requested, null),
      name,
    );
  }
  if (fault?.kind === "throttled" || !shop.bucket.tryTake(requested)) {
    return reply(
      "throttled",
      {
        errors: [
          {
            message: "Throttled",
            extensions: { code: "THROTTLED", documentation: RATE_LIMIT_DOCS },
          },
        ],
      },
      costOf(requested, null),
      name,
    );
  }

  const preflight = preflightErrors(caller, document, operation, coerced);
  if (preflight.errors.length > 0) {
    shop.bucket.refund(requested);
    return reply(
      "errors",
      {
        errors: preflight.errors.map((e) => ({
          message: e.message,
          ...(e.path ? { path: e.path } : {}),
          extensions: { code: e.code },
        })),
      },
      costOf(requested, null),
      name,
      preflight.keys,
    );
  }

  const executable = withRuntimeTypes(schema, document);
  const executableOperation = getOperationAST(executable, operationName) ?? operation;
  const context: AdminContext = { sandbox: sb, shop, caller, replays: 0 };
  const result: ExecutionResult = await execute({
    schema,
    document: executable,
    operationName,
    variableValues: variables,
    contextValue: context,
    fieldResolver,
    typeResolver,
  });
  const actual = actualCost(schema, executable, executableOperation, coerced, result.data ?? null);
  stripRuntimeTypes(result.data);
  shop.bucket.refund(Math.max(0, requested - actual));
  return reply(
    result.errors && result.errors.length > 0 ? "errors" : "ok",
    { data: result.data, errors: result.errors?.map((e) => e.toJSON()) },
    costOf(requested, actual),
    name,
    preflight.keys,
    context.replays,
  );
}

/**
 * Checks Shopify makes before running anything: input arrays ≤ 250, `@idempotent` on the
 * inventory mutations, the caller's write_inventory scope, and `changeFromQuantity` present.
 */
function preflightErrors(
  caller: Caller,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): { errors: TopLevelError[]; keys: string[] } {
  const schema = adminSchema();
  const root =
    operation.operation === "mutation" ? schema.getMutationType() : schema.getQueryType();
  const errors: TopLevelError[] = [];
  const keys: string[] = [];
  const idempotent = schema.getDirective("idempotent");
  for (const field of rootFields(document, operation.selectionSet)) {
    const def = root?.getFields()[field.name.value];
    if (!def) continue;
    const args = getArgumentValues(def, field, variables);
    const oversized = oversizedInput(field.name.value, args);
    if (oversized) {
      errors.push(oversized);
      continue;
    }
    if (operation.operation !== "mutation" || !isInventoryMutation(field.name.value)) continue;
    const directive = idempotent ? getDirectiveValues(idempotent, field, variables) : undefined;
    if (typeof directive?.key !== "string") {
      errors.push({
        code: "BAD_REQUEST",
        message: "The @idempotent directive is required for this mutation.",
        path: [field.name.value],
      });
      continue;
    }
    keys.push(directive.key);
    if (!caller.scopes.includes("write_inventory")) {
      errors.push({
        code: "ACCESS_DENIED",
        message:
          `Access denied for ${field.name.value} field. Required access: \`write_inventory\` ` +
          "access scope. Also: The user must have a permission to update an inventory.",
        path: [field.name.value],
      });
      continue;
    }
    const missing = missingChangeFrom(field.name.value, args.input as Record<string, unknown>);
    if (missing) errors.push(missing);
  }
  return { errors, keys };
}

/** Root-level field nodes, through inline fragments and fragment spreads. */
function rootFields(document: DocumentNode, selectionSet: SelectionSetNode): FieldNode[] {
  const fragments = new Map(
    document.definitions.flatMap((d) =>
      d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
    ),
  );
  const out: FieldNode[] = [];
  const walk = (set: SelectionSetNode, seen: Set<string>): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) out.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet, seen);
      }
    }
  };
  walk(selectionSet, new Set());
  return out;
}

function faultResponse(
  kind: "http500" | "http429" | "http503",
  retryAfterSeconds: number | null,
  requestId: string,
): HttpResult {
  const retryAfter: Record<string, string> =
    retryAfterSeconds === null ? {} : { "Retry-After": String(retryAfterSeconds) };
  switch (kind) {
    case "http500":
      return {
        status: 500,
        body: {
          errors: [
            {
              message: `Internal error. Looks like something went wrong on our end.\nRequest ID: ${requestId} (include this in support requests).`,
              extensions: { code: "INTERNAL_SERVER_ERROR", requestId },
            },
          ],
        },
      };
    case "http429":
      return {
        status: 429,
        body: {
          errors:
            "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.",
        },
        headers: retryAfter,
      };
    case "http503":
      return { status: 503, body: { errors: "Service Unavailable" }, headers: retryAfter };
  }
}
