/**
 * The records the local Amazon keeps in memory: the app registration, sellers and their listings,
 * orders, listing submissions, feeds, notification destinations and subscriptions, LWA tokens.
 * Field names follow the SP-API models where a record is returned as is.
 */

/** Amazon.com (US). */
export const DEFAULT_MARKETPLACE = "ATVPDKIKX0DER";
/** The AWS account SP-API notifications are sent from (queue policies name it). */
export const AMAZON_NOTIFICATION_ACCOUNT = "437568002678";
/** The seller-fulfilled channel code; every other code (AMAZON_NA, AMAZON_EU…) is FBA. */
export const MFN_CHANNEL = "DEFAULT";

export type Money = { CurrencyCode: string; Amount: string };

export type AppRec = {
  name: string;
  /** amzn1.sp.solution.… — the `application_id` of the consent URL. */
  applicationId: string;
  clientId: string;
  clientSecret: string;
  /** LWA rejects the secret 180 days after this. */
  clientSecretRotatedAt: Date;
  redirectUris: string[];
  /** Draft apps need `version=beta` on the consent URL (MD1000 otherwise). */
  draft: boolean;
};

export type AwsCredentialRec = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
};

export type IssueRec = {
  code: string;
  message: string;
  severity: "ERROR" | "WARNING" | "INFO";
  attributeNames?: string[];
  categories: string[];
};

export type ListingRec = {
  sellerId: string;
  sku: string;
  asin: string;
  productType: string;
  itemName: string;
  conditionType: string;
  marketplaceId: string;
  createdAt: Date;
  updatedAt: Date;
  /** Attribute data as the seller last submitted it (plus `marketplace_id` Amazon adds). */
  attributes: Record<string, Record<string, unknown>[]>;
  /** Live sellable quantity per fulfillment channel code (DEFAULT = MFN; AMAZON_NA… = FBA). */
  available: Record<string, number>;
  price: { currencyCode: string; amount: string } | null;
  issues: IssueRec[];
};

export type NotificationLevel = "OrderLevel" | "OrderItemLevel";

export type SellerRec = {
  sellerId: string;
  name: string;
  marketplaceIds: string[];
  notificationLevel: NotificationLevel;
  listings: Map<string, ListingRec>;
};

export type OrderStatus = "Pending" | "Unshipped" | "PartiallyShipped" | "Shipped" | "Canceled";

export type OrderItemRec = {
  orderItemId: string;
  sku: string;
  asin: string;
  title: string;
  quantityOrdered: number;
  quantityShipped: number;
  unitPrice: Money;
  /** The channel whose stock the item was taken from (DEFAULT or an FBA code). */
  channelCode: string;
  buyerRequestedCancel: boolean;
  buyerCancelReason: string | null;
  /** Units given back to the listing when the order was canceled. */
  restocked: number;
};

export type OrderChangeRec = {
  at: Date;
  changeType: "OrderStatusChange" | "BuyerRequestedChange";
  reason: string;
  status: OrderStatus;
};

export type OrderRec = {
  amazonOrderId: string;
  sellerId: string;
  marketplaceId: string;
  purchaseDate: Date;
  lastUpdateDate: Date;
  status: OrderStatus;
  fulfillmentChannel: "MFN" | "AFN";
  items: OrderItemRec[];
  destinationPostalCode: string;
  buyerEmail: string;
  history: OrderChangeRec[];
  cancelTimer: (() => void) | null;
};

export type PatchOperation = { op: string; path: string; value?: unknown[] };

export type SubmissionRec = {
  submissionId: string;
  sellerId: string;
  sku: string;
  source: "patchListingsItem" | "JSON_LISTINGS_FEED";
  feedId: string | null;
  messageId: number | null;
  productType: string | null;
  patches: PatchOperation[];
  mode: "VALIDATION_PREVIEW" | null;
  status: "ACCEPTED" | "INVALID" | "VALID";
  issues: IssueRec[];
  receivedAt: Date;
  /** When the accepted change is due to apply (null if it never will). */
  applyAt: Date | null;
  appliedAt: Date | null;
  /** MFN available before/after the application (null when not applied or not MFN). */
  quantityBefore: number | null;
  quantityAfter: number | null;
};

export type FeedStatus = "IN_QUEUE" | "IN_PROGRESS" | "DONE" | "FATAL" | "CANCELLED";

export type FeedRec = {
  feedId: string;
  sellerId: string;
  feedType: string;
  marketplaceIds: string[];
  inputFeedDocumentId: string;
  feedOptions: Record<string, string> | null;
  createdTime: Date;
  processingStatus: FeedStatus;
  processingStartTime: Date | null;
  processingEndTime: Date | null;
  resultFeedDocumentId: string | null;
  report: unknown;
  cancelTimers: (() => void)[];
};

export type FeedDocumentRec = {
  feedDocumentId: string;
  sellerId: string;
  kind: "input" | "result";
  contentType: string;
  createdAt: Date;
  uploadedAt: Date | null;
  content: Buffer | null;
  compressionAlgorithm: "GZIP" | null;
};

export type DestinationResource =
  { sqs: { arn: string } } | { eventBridge: { name: string; region: string; accountId: string } };

export type DestinationRec = {
  destinationId: string;
  name: string;
  resource: DestinationResource;
  createdAt: Date;
};

export type SubscriptionRec = {
  subscriptionId: string;
  sellerId: string;
  notificationType: string;
  payloadVersion: string;
  destinationId: string;
  processingDirective: Record<string, unknown> | null;
  createdAt: Date;
};

export type DeliveryAttemptRec = {
  kind: "first" | "duplicate" | "redelivery";
  scheduledAt: Date;
  deliveredAt: Date | null;
  /** A dropped attempt never reaches the queue (a redelivery follows). */
  dropped: boolean;
  queueArn: string | null;
  messageId: string | null;
  error: string | null;
};

export type NotificationRec = {
  notificationId: string;
  notificationType: string;
  sellerId: string;
  subscriptionId: string | null;
  destinationId: string | null;
  createdAt: Date;
  /** The SQS message body (the notification, or the EventBridge envelope around it). */
  body: string;
  payload: unknown;
  attempts: DeliveryAttemptRec[];
  /** "unsubscribed": no subscription, nothing is sent. "no_target": EventBridge with no rule. */
  state: "pending" | "delivered" | "unsubscribed" | "no_target" | "failed";
};

export type RefreshTokenRec = {
  token: string;
  clientId: string;
  sellerId: string;
  createdAt: Date;
  revoked: boolean;
};

export type AccessTokenRec = {
  token: string;
  clientId: string;
  kind: "seller" | "grantless";
  sellerId: string | null;
  scope: string | null;
  issuedAt: Date;
  expiresAt: Date;
  revoked: boolean;
};

export type AuthCodeRec = {
  code: string;
  clientId: string;
  sellerId: string;
  redirectUri: string;
  expiresAt: Date;
  used: boolean;
};

export type RequestLogRec = {
  seq: number;
  at: string;
  api: "sp-api" | "lwa" | "sqs" | "documents" | "consent";
  operation: string;
  method: string;
  path: string;
  status: number;
  sellerId: string | null;
  requestId: string;
  /** "ok", "throttled" (429 from the bucket), "fault" (forced), "denied" (auth), "error". */
  outcome: "ok" | "throttled" | "fault" | "denied" | "error";
  rateLimit: string | null;
};

/** ISO-8601 with seconds precision, as the Orders API prints dates. */
export function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Floors a date to whole seconds. */
export function floorSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
