/**
 * What every SP-API handler shares: the request context (token, seller, parameters) and small
 * helpers for list parameters, seller checks, marketplace validation and `InvalidInput` answers.
 */
import { json, spErrors, type Reply } from "./http";
import type { AccessTokenRec } from "./model";
import type { OperationName } from "./rate-limits";
import type { AmazonSandbox } from "./sandbox";

export type SpContext = {
  sb: AmazonSandbox;
  operation: OperationName;
  method: string;
  /** Decoded path parameters, in order. */
  params: string[];
  query: URLSearchParams;
  body: Buffer;
  contentType: string | undefined;
  token: AccessTokenRec;
  /** The seller the token speaks for (null for grantless tokens). */
  sellerId: string | null;
  baseUrl: string;
};

/** A comma-delimited (or repeated) list query parameter. */
export function listParam(query: URLSearchParams, name: string): string[] | null {
  const values = query.getAll(name);
  if (values.length === 0) return null;
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

export const invalidInput = (message: string, details = ""): Reply =>
  json(400, spErrors("InvalidInput", message, details));

/** 403 when a path names another seller than the token's. */
export function otherSeller(ctx: SpContext, sellerId: string): Reply | null {
  if (ctx.sellerId === sellerId) return null;
  return json(403, spErrors("Unauthorized", "Access to requested resource is denied."));
}

/** Validates a required `marketplaceIds` list against the seller's marketplaces. */
export function marketplaces(ctx: SpContext, name = "marketplaceIds"): string[] | Reply {
  const ids = listParam(ctx.query, name);
  if (!ids || ids.length === 0) {
    return invalidInput(`Missing required parameter '${name}'.`);
  }
  const seller = ctx.sb.sellers.get(ctx.sellerId ?? "");
  const unknown = ids.filter((id) => !seller?.marketplaceIds.includes(id));
  if (unknown.length > 0) {
    return invalidInput(`Invalid '${name}' provided: ${unknown.join(", ")}.`);
  }
  return ids;
}

/** True for a handler answer (an object with a numeric HTTP status). */
export function isReply(value: unknown): value is Reply {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { status?: unknown }).status === "number"
  );
}
