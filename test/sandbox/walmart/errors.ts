/**
 * Walmart's error answers and the sandbox's own control errors.
 *
 * Walmart's gateway answers JSON errors as `{"error":[{code, field?, description, info, severity,
 * category, causes, errorIdentifiers}]}` (captured responses, see README "Error bodies"); the
 * OpenAPI files name the array `errors`, so the envelope key is configurable (`errorEnvelope`).
 */

export type ErrorSeverity = "ERROR" | "WARN" | "INFO";
export type ErrorCategory = "DATA" | "APPLICATION" | "SYSTEM" | "REQUEST";

export type WalmartErrorEntry = {
  code: string;
  field?: string;
  description: string;
  info: string;
  severity: ErrorSeverity;
  category: ErrorCategory;
  causes: unknown[];
  errorIdentifiers: Record<string, unknown>;
};

export type ErrorEnvelope = "error" | "errors";

/** An error a /v3 route answers with `status` and Walmart's error body. */
export class WalmartApiError extends Error {
  constructor(
    readonly status: number,
    readonly entries: WalmartErrorEntry[],
    readonly headers: Record<string, string> = {},
  ) {
    super(entries.map((e) => `${e.code}: ${e.description}`).join("; "));
  }

  body(envelope: ErrorEnvelope): Record<string, WalmartErrorEntry[]> {
    return { [envelope]: this.entries };
  }
}

function entry(
  code: string,
  description: string,
  info: string,
  severity: ErrorSeverity,
  category: ErrorCategory,
  field?: string,
): WalmartErrorEntry {
  return {
    code,
    ...(field === undefined ? {} : { field }),
    description,
    info,
    severity,
    category,
    causes: [],
    errorIdentifiers: {},
  };
}

/** 400 for a missing or blank WM_* header (captured: "WM_QOS.CORRELATION_ID set blank or null"). */
export function missingHeader(header: string): WalmartApiError {
  return new WalmartApiError(400, [
    entry(
      "INVALID_REQUEST_HEADER.GMP_GATEWAY_API",
      `${header} set blank or null`,
      "One or more request headers are invalid.",
      "ERROR",
      "DATA",
      header,
    ),
  ]);
}

/** 400 from POST /v3/token for missing or wrong client credentials. */
export function badClientCredentials(description: string): WalmartApiError {
  return new WalmartApiError(400, [
    entry(
      "INVALID_REQUEST_HEADER.GMP_GATEWAY_API",
      description,
      "One or more request headers are invalid.",
      "ERROR",
      "DATA",
      "Authorization",
    ),
  ]);
}

/** 401 for a missing, unknown, expired or revoked WM_SEC.ACCESS_TOKEN (captured body). */
export function unauthorized(): WalmartApiError {
  return new WalmartApiError(401, [
    entry(
      "UNAUTHORIZED.GMP_GATEWAY_API",
      "Unauthorized",
      'Unauthorized token or incorrect authorization header. Please verify correct format: "Authorization: Basic Base64Encode(clientId:clientSecret)" For more information, see https://developer.walmart.com/#/apicenter/marketPlace/latest#apiAuthentication.',
      "ERROR",
      "DATA",
      "UNAUTHORIZED",
    ),
  ]);
}

/** 429 when a bucket is empty (code from captured responses; wording of description is ours). */
export function throttled(retryAfterSeconds: number, headers: Record<string, string>) {
  return new WalmartApiError(
    429,
    [
      entry(
        "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API",
        "Too Many Requests",
        "Request threshold violated. Retry after the time given in the Retry-After header.",
        "ERROR",
        "REQUEST",
      ),
    ],
    { ...headers, "Retry-After": String(retryAfterSeconds) },
  );
}

/** 400 for a bad query parameter. `service` is e.g. GMP_ORDER_API. */
export function badParam(service: string, field: string, description: string) {
  return new WalmartApiError(400, [
    entry(
      `INVALID_REQUEST_PARAM.${service}`,
      description,
      "One or more request parameters are invalid.",
      "ERROR",
      "DATA",
      field,
    ),
  ]);
}

/** 400 for a missing query parameter. */
export function missingParam(service: string, field: string) {
  return new WalmartApiError(400, [
    entry(
      `MISSING_REQUEST_PARAM.${service}`,
      `${field} set blank or null`,
      "One or more request parameters are missing.",
      "ERROR",
      "DATA",
      field,
    ),
  ]);
}

/** 400 for a body that does not match the schema. */
export function badContent(service: string, field: string, description: string) {
  return new WalmartApiError(400, [
    entry(
      `INVALID_REQUEST_CONTENT.${service}`,
      description,
      "Request content is invalid.",
      "ERROR",
      "DATA",
      field,
    ),
  ]);
}

/** 400 for a body that is not JSON (or XML) at all. */
export function malformedContent(service: string, description: string) {
  return new WalmartApiError(400, [
    entry(
      `MALFORMED_REQUEST_CONTENT.${service}`,
      description,
      "Request content is malformed.",
      "ERROR",
      "DATA",
      "body",
    ),
  ]);
}

/** 404 CONTENT_NOT_FOUND (Application / Info, no field, per the error-code table). */
export function contentNotFound(service: string, description: string) {
  return new WalmartApiError(404, [
    entry(
      `CONTENT_NOT_FOUND.${service}`,
      description,
      "Requested content could not be found.",
      "INFO",
      "APPLICATION",
    ),
  ]);
}

export function uriNotFound(path: string) {
  return new WalmartApiError(404, [
    entry(
      "URI_NOT_FOUND.GMP_GATEWAY_API",
      `No resource at ${path}`,
      "URI not found.",
      "ERROR",
      "DATA",
    ),
  ]);
}

export function methodNotAllowed(method: string) {
  return new WalmartApiError(405, [
    entry(
      "METHOD_NOT_ALLOWED.GMP_GATEWAY_API",
      `Method ${method} is not allowed on this resource`,
      "Method not allowed.",
      "ERROR",
      "DATA",
    ),
  ]);
}

export function unsupportedMediaType(contentType: string) {
  return new WalmartApiError(415, [
    entry(
      "UNSUPPORTED_MEDIA_TYPE.GMP_GATEWAY_API",
      `Content-Type ${contentType || "(none)"} is not supported`,
      "Unsupported media type.",
      "ERROR",
      "DATA",
    ),
  ]);
}

export function payloadTooLarge(limitBytes: number) {
  return new WalmartApiError(413, [
    entry(
      "REQUEST_ENTITY_TOO_LARGE.GMP_GATEWAY_API",
      `The feed file is larger than ${limitBytes} bytes`,
      "Payload too large.",
      "ERROR",
      "REQUEST",
    ),
  ]);
}

/** Injected 5xx (SYSTEM_ERROR, System / Error per the error-code table). */
export function systemError(status: number) {
  return new WalmartApiError(status, [
    entry(
      "SYSTEM_ERROR.GMP_GATEWAY_API",
      status === 503 ? "Service Unavailable" : "Internal Server Error",
      "System encountered some internal error.",
      "ERROR",
      "SYSTEM",
    ),
  ]);
}

/** An error a control route answers with `status` and `{ error: code, message, … }`. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function badRequest(message: string): ControlError {
  return new ControlError(400, "invalid_request", message);
}

export function notFound(what: string): ControlError {
  return new ControlError(404, "not_found", `${what} not found`);
}

export function unprocessable(code: string, message: string, extra?: Record<string, unknown>) {
  return new ControlError(422, code, message, extra);
}
