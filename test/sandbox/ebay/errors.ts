/**
 * eBay's error answers. REST APIs answer `{"errors":[{errorId, domain, category, message, …}]}`
 * (`ErrorDetailV3` in the OpenAPI files); the OAuth token endpoint answers RFC 6749 bodies
 * `{"error", "error_description"}`; the control API answers `{ error: code, message }`.
 * Every id and text below is listed with its source in README.md ("Error answers").
 */

/** One entry of eBay's `errors` array (`ErrorDetailV3`). */
export type EbayError = {
  errorId: number;
  domain: string;
  subdomain?: string;
  category: "REQUEST" | "APPLICATION" | "BUSINESS";
  message: string;
  longMessage?: string;
  parameters?: { name: string; value: string }[];
};

/** An HTTP answer carrying eBay's `{ errors: [...] }` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: EbayError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors.map((e) => `${e.errorId}: ${e.message}`).join("; "));
  }
}

/** An answer of the token endpoint (`{ error, error_description }`). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

/** An error a control route answers with `status` and `{ error: code, message }`. */
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

export const badRequest = (message: string): ControlError =>
  new ControlError(400, "invalid_request", message);
export const notFound = (what: string): ControlError =>
  new ControlError(404, "not_found", `${what} not found`);

// --- OAuth (Identity API) -------------------------------------------------------------------

export const OAUTH = {
  invalidClient: () => new OAuthError(401, "invalid_client", "client authentication failed"),
  invalidGrantCode: () =>
    new OAuthError(
      400,
      "invalid_grant",
      "the provided authorization grant code is invalid or was issued to another client",
    ),
  invalidGrantRefresh: () =>
    new OAuthError(
      400,
      "invalid_grant",
      "the provided authorization refresh token is invalid or was issued to another client",
    ),
  invalidScope: () =>
    new OAuthError(
      400,
      "invalid_scope",
      "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
    ),
  unsupportedGrant: () =>
    new OAuthError(
      400,
      "unsupported_grant_type",
      "grant type in request is not supported by the authorization server",
    ),
  invalidRequest: () =>
    new OAuthError(400, "invalid_request", "request is missing a required parameter or malformed."),
};

// --- access layer (every REST API) ------------------------------------------------------------

export const ACCESS = {
  invalidToken: () =>
    new ApiError(401, [
      {
        errorId: 1001,
        domain: "OAuth",
        category: "REQUEST",
        message: "Invalid access token",
        longMessage:
          "Invalid access token. Check the value of the Authorization HTTP request header.",
      },
    ]),
  missingToken: () =>
    new ApiError(400, [
      {
        errorId: 1002,
        domain: "OAuth",
        category: "REQUEST",
        message: "Missing access token",
        longMessage: "Access token is missing in the Authorization HTTP request header.",
      },
    ]),
  insufficientScope: () =>
    new ApiError(403, [
      {
        errorId: 1100,
        domain: "ACCESS",
        category: "REQUEST",
        message: "Access denied",
        longMessage: "Insufficient permissions to fulfill the request.",
      },
    ]),
  invalidRequest: () =>
    new ApiError(400, [
      {
        errorId: 2004,
        domain: "ACCESS",
        category: "REQUEST",
        message: "Invalid request",
        longMessage: "The request has errors. For help, see the documentation for this API.",
      },
    ]),
  resourceNotFound: () =>
    new ApiError(404, [
      {
        errorId: 2002,
        domain: "ACCESS",
        category: "REQUEST",
        message: "Resource not found",
        longMessage: "A resource (URI) associated with the request could not be resolved.",
      },
    ]),
  methodNotAllowed: () =>
    new ApiError(405, [
      {
        errorId: 2002,
        domain: "ACCESS",
        category: "REQUEST",
        message: "Resource not found",
        longMessage: "A resource (URI) associated with the request could not be resolved.",
      },
    ]),
  tooManyRequests: (retryAfterSeconds?: number) =>
    new ApiError(
      429,
      [
        {
          errorId: 2001,
          domain: "ACCESS",
          category: "REQUEST",
          message: "Too many requests. The request limit has been reached for the resource.",
        },
      ],
      retryAfterSeconds === undefined ? {} : { "Retry-After": String(retryAfterSeconds) },
    ),
  internal: (status = 500) =>
    new ApiError(status, [
      {
        errorId: 2003,
        domain: "ACCESS",
        category: "APPLICATION",
        message: "Internal error",
        longMessage:
          "There was a problem with an eBay internal system or process. Contact eBay developer support for assistance",
      },
    ]),
};

// --- Sell Inventory API -----------------------------------------------------------------------

const inventory = (
  errorId: number,
  message: string,
  parameters?: { name: string; value: string }[],
  category: EbayError["category"] = "REQUEST",
): EbayError => ({
  errorId,
  domain: "API_INVENTORY",
  subdomain: "Selling",
  category,
  message,
  ...(parameters ? { parameters } : {}),
});

export const INVENTORY = {
  /** 25002 is the Inventory API's generic user error: "A user error has occurred. {additionalInfo}". */
  userError: (additionalInfo: string) =>
    inventory(25002, `A user error has occurred. ${additionalInfo}`, [
      { name: "text1", value: additionalInfo },
    ]),
  systemError: (additionalInfo = "") =>
    inventory(
      25001,
      `A system error has occurred. ${additionalInfo}`.trim(),
      undefined,
      "APPLICATION",
    ),
  notFound: () =>
    inventory(
      25710,
      "We didn't find the resource/entity you are requesting. Please verify the request",
    ),
  offerNotAvailable: (offerId: string) =>
    inventory(25713, `This Offer is not available : ${offerId}.`, [
      { name: "offerId", value: offerId },
    ]),
  invalidSku: () =>
    inventory(
      25707,
      "This is an invalid value for a SKU. Only alphanumeric characters can be used for SKUs, and their length must not exceed 50 characters",
    ),
  invalidHeader: (header: string) => inventory(25709, `Invalid value for header ${header}.`),
  invalidField: (field: string, info = "") =>
    inventory(25709, `Invalid value for ${field}. ${info}`.trim(), [
      { name: "fieldName", value: field },
    ]),
};

/** The error returned for the 251st revision of a listing in one calendar day (see README). */
export function revisionLimitError(limit: number, listingId: string): EbayError {
  return INVENTORY.userError(
    `You have reached the maximum number of revisions (${limit}) allowed for listing ${listingId} today. The listing can be revised again on the next calendar day.`,
  );
}

// --- Sell Fulfillment API ---------------------------------------------------------------------

export const FULFILLMENT = {
  invalidOrderId: (orderId: string) =>
    new ApiError(404, [
      {
        errorId: 32100,
        domain: "API_FULFILLMENT",
        subdomain: "Selling",
        category: "REQUEST",
        message: "Invalid Order Id",
        longMessage: `Invalid order ID: ${orderId}`,
        parameters: [{ name: "orderId", value: orderId }],
      },
    ]),
  invalidFilter: (detail: string) =>
    new ApiError(400, [
      {
        errorId: 30700,
        domain: "API_FULFILLMENT",
        subdomain: "Selling",
        category: "REQUEST",
        message: `Invalid filter: ${detail}`,
      },
    ]),
  invalidParameter: (name: string, detail: string) =>
    new ApiError(400, [
      {
        errorId: 30800,
        domain: "API_FULFILLMENT",
        subdomain: "Selling",
        category: "REQUEST",
        message: `Invalid ${name}: ${detail}`,
        parameters: [{ name, value: detail }],
      },
    ]),
};

// --- Post-Order API ---------------------------------------------------------------------------

export const POST_ORDER = {
  invalidParameter: (name: string, value: string) =>
    new ApiError(400, [
      {
        errorId: 1001,
        domain: "API_POST_ORDER",
        category: "REQUEST",
        message: `Invalid input: ${name}=${value}`,
        parameters: [{ name, value }],
      },
    ]),
  notFound: (cancelId: string) =>
    new ApiError(404, [
      {
        errorId: 2101,
        domain: "API_POST_ORDER",
        category: "REQUEST",
        message: `Invalid cancel id: ${cancelId}`,
      },
    ]),
};

// --- Commerce Notification API ----------------------------------------------------------------

const notification = (status: number, errorId: number, message: string, longMessage?: string) =>
  new ApiError(status, [
    {
      errorId,
      domain: "API_NOTIFICATION",
      category: "REQUEST",
      message,
      ...(longMessage ? { longMessage } : {}),
    },
  ]);

export const NOTIFICATION = {
  notAuthorizedForTopic: (topicId: string) =>
    notification(
      403,
      195011,
      "Not authorized for this topic.",
      `The application or user is not authorized to subscribe to ${topicId}. The access token must carry the topic's authorizationScopes.`,
    ),
  invalidTopic: (topicId: string, status = 404) =>
    notification(status, 195002, `Invalid or missing topic id: ${topicId}`),
  invalidDestination: (id: string, status = 404) =>
    notification(status, 195005, `Invalid or missing destination id: ${id}`),
  invalidSubscription: (id: string) =>
    notification(404, 195006, `Invalid or missing subscription id: ${id}`),
  invalidPublicKey: (id: string) =>
    notification(404, 195001, `Invalid or missing public key id: ${id}`),
  invalidInput: (detail: string) => notification(400, 195003, `Invalid input. ${detail}`),
  challengeFailed: (endpoint: string, detail: string) =>
    notification(
      400,
      195020,
      "Challenge verification failed for the requested endpoint.",
      `Challenge verification failed for ${endpoint}: ${detail}`,
    ),
  subscriptionExists: () =>
    notification(
      409,
      195016,
      "Duplicate subscription.",
      "A subscription already exists for this topic and schema version.",
    ),
  destinationInUse: () =>
    notification(409, 195018, "The destination is in use and cannot be deleted."),
  missingAlertConfig: () =>
    notification(
      409,
      195024,
      "Alert email configuration missing.",
      "Create the application's alert configuration with updateConfig before creating a destination.",
    ),
  configNotFound: () => notification(404, 195026, "The alert configuration was not found."),
  destinationNotEnabled: () => notification(409, 195025, "The destination is not enabled."),
};
