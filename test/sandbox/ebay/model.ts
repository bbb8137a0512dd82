/**
 * Records of the local eBay (one server = one eBay "site" with any number of apps and sellers)
 * and the seed format. Payload shapes built from these records live in payloads.ts.
 */

export const SCOPE_BASE = "https://api.ebay.com/oauth/api_scope";
export const SCOPES = {
  base: SCOPE_BASE,
  inventory: `${SCOPE_BASE}/sell.inventory`,
  inventoryReadonly: `${SCOPE_BASE}/sell.inventory.readonly`,
  fulfillment: `${SCOPE_BASE}/sell.fulfillment`,
  fulfillmentReadonly: `${SCOPE_BASE}/sell.fulfillment.readonly`,
  account: `${SCOPE_BASE}/sell.account`,
  accountReadonly: `${SCOPE_BASE}/sell.account.readonly`,
  notificationSubscription: `${SCOPE_BASE}/commerce.notification.subscription`,
  notificationSubscriptionReadonly: `${SCOPE_BASE}/commerce.notification.subscription.readonly`,
  identityReadonly: `${SCOPE_BASE}/commerce.identity.readonly`,
} as const;

/** Scopes a user can grant through the consent flow (the app may request any subset). */
export const USER_SCOPES: readonly string[] = [
  SCOPES.base,
  SCOPES.inventory,
  SCOPES.inventoryReadonly,
  SCOPES.fulfillment,
  SCOPES.fulfillmentReadonly,
  SCOPES.account,
  SCOPES.accountReadonly,
  SCOPES.notificationSubscription,
  SCOPES.notificationSubscriptionReadonly,
  SCOPES.identityReadonly,
];

/** Scopes of a client-credentials (application) token. */
export const APPLICATION_SCOPES: readonly string[] = [SCOPES.base];

export type AppRec = {
  clientId: string;
  clientSecret: string;
  devId: string;
  /** eBay Redirect URL name: what the app sends as `redirect_uri`. */
  ruName: string;
  /** "Your auth accepted URL" of the RuName: where consent redirects with `code` and `state`. */
  acceptUrl: string;
  /** "Your auth declined URL". */
  declineUrl: string;
  alertEmail: string | null;
};

export type SellerRec = {
  /** eBay's immutable user id (`userId` of MARKETPLACE_ACCOUNT_DELETION). */
  userId: string;
  username: string;
  eiasToken: string;
  marketplaceId: string;
  currency: string;
  /** Set by an account deletion: the seller can no longer consent or use tokens. */
  deleted: boolean;
};

export type InventoryItemRec = {
  sellerId: string;
  sku: string;
  locale: string;
  /** The stored InventoryItem body without `sku` and `locale` (replaced by every PUT). */
  body: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
};

export type OfferRec = {
  offerId: string;
  sellerId: string;
  sku: string;
  marketplaceId: string;
  format: "FIXED_PRICE" | "AUCTION";
  /** Offer-level quantity; null: not set (the listing then shows the item quantity). */
  availableQuantity: number | null;
  price: { value: string; currency: string };
  categoryId: string;
  merchantLocationKey: string;
  listingDescription: string;
  listingPolicies: Record<string, unknown>;
  status: "PUBLISHED" | "UNPUBLISHED";
  listingId: string | null;
  listingStatus: "ACTIVE" | "OUT_OF_STOCK" | "ENDED";
  soldQuantity: number;
};

/** A listing created with the Trading API (or on the site): not visible to the Inventory API. */
export type TradingListingRec = {
  listingId: string;
  sellerId: string;
  sku: string;
  title: string;
  quantity: number;
  price: { value: string; currency: string };
  soldQuantity: number;
};

export type ListingView = {
  listingId: string;
  sellerId: string;
  sku: string;
  title: string;
  source: "inventory_api" | "trading_api";
  offerId: string | null;
  /** min(item ship-to-home quantity, offer availableQuantity) for Inventory API listings. */
  quantity: number;
  itemQuantity: number | null;
  offerAvailableQuantity: number | null;
  price: { value: string; currency: string };
  soldQuantity: number;
  revisionsToday: number;
  revisionLimit: number;
  day: string;
};

export type LineRec = {
  lineItemId: string;
  transactionId: string;
  listingId: string;
  offerId: string | null;
  sku: string;
  title: string;
  quantity: number;
  unitPrice: string;
  source: ListingView["source"];
};

export type CancelRec = {
  cancelId: string;
  cancelRequestId: string;
  initiator: "BUYER" | "SELLER";
  reason: string;
  requestedAt: string;
  /** REQUESTED: waiting for the seller; COMPLETED: order cancelled; REJECTED: seller declined. */
  state: "REQUESTED" | "COMPLETED" | "REJECTED";
  closedAt: string | null;
  sellerResponseDueDate: string | null;
  restocked: boolean;
};

export type OrderRec = {
  orderId: string;
  sellerId: string;
  buyerUsername: string;
  marketplaceId: string;
  currency: string;
  creationDate: string;
  lastModifiedDate: string;
  lines: LineRec[];
  fulfillmentStatus: "NOT_STARTED" | "IN_PROGRESS" | "FULFILLED";
  paymentStatus: "PAID" | "FULLY_REFUNDED";
  salesRecordReference: string;
  shippedAt: string | null;
  cancel: CancelRec | null;
};

export type RevisionRec = {
  seq: number;
  at: string;
  day: string;
  sellerId: string;
  listingId: string;
  offerId: string | null;
  sku: string;
  operation: "bulkUpdatePriceQuantity" | "createOrReplaceInventoryItem";
  quantityBefore: number;
  quantityAfter: number;
  /** Revisions of this listing on `day` after this one (the 251st is refused, not counted). */
  countToday: number;
  refused: boolean;
};

export type TokenKind = "user" | "application" | "refresh";

export type TokenRec = {
  token: string;
  kind: TokenKind;
  clientId: string;
  userId: string | null;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
  /** The refresh token an access token was minted from (revoking it revokes the access token). */
  refreshToken: string | null;
};

export type AuthCodeRec = {
  code: string;
  clientId: string;
  userId: string;
  scopes: string[];
  ruName: string;
  expiresAt: number;
  used: boolean;
};

export type DestinationRec = {
  destinationId: string;
  clientId: string;
  name: string;
  status: "ENABLED" | "DISABLED" | "MARKED_DOWN";
  endpoint: string;
  verificationToken: string;
  createdAt: string;
};

export type SubscriptionRec = {
  subscriptionId: string;
  clientId: string;
  /** null: an application subscription; otherwise the user whose token created it. */
  userId: string | null;
  topicId: string;
  status: "ENABLED" | "DISABLED";
  destinationId: string;
  payload: { format: string; schemaVersion: string; deliveryProtocol: string };
  creationDate: string;
};

export type TopicDef = {
  topicId: string;
  description: string;
  authorizationScopes: string[];
  status: "ENABLED";
  context: "SELL" | "COMMERCE" | "BUY" | "DEVELOPER";
  scope: "APPLICATION" | "USER";
  schemaVersion: string;
};

export const TOPICS: readonly TopicDef[] = [
  {
    topicId: "MARKETPLACE_ACCOUNT_DELETION",
    description:
      "A notification sent when an eBay user requests the deletion of their account and personal data.",
    authorizationScopes: [SCOPES.base],
    status: "ENABLED",
    context: "COMMERCE",
    scope: "APPLICATION",
    schemaVersion: "1.0",
  },
  {
    topicId: "ORDER_CONFIRMATION",
    description:
      "A notification sent when a buyer completes checkout, once per line item of the order; the seller then retrieves the order with getOrder/getOrders.",
    authorizationScopes: [SCOPES.notificationSubscription],
    status: "ENABLED",
    context: "SELL",
    scope: "USER",
    schemaVersion: "1.0",
  },
];

// --- seed -------------------------------------------------------------------------------------

export type AppSeed = {
  clientId: string;
  clientSecret: string;
  devId?: string;
  ruName: string;
  acceptUrl: string;
  declineUrl?: string;
  alertEmail?: string;
};

export type OfferSeed = {
  offerId?: string;
  listingId?: string;
  marketplaceId?: string;
  format?: "FIXED_PRICE" | "AUCTION";
  price?: string;
  availableQuantity?: number | null;
  /** Default true: published (a live listing). */
  published?: boolean;
  categoryId?: string;
  merchantLocationKey?: string;
};

export type ItemSeed = {
  sku: string;
  title?: string;
  quantity: number;
  condition?: string;
  locale?: string;
  /** Default: one published FIXED_PRICE offer on the seller's marketplace. [] = no offer. */
  offers?: OfferSeed[];
};

export type TradingListingSeed = {
  sku: string;
  title?: string;
  quantity: number;
  price?: string;
  listingId?: string;
};

export type SellerSeed = {
  username: string;
  userId?: string;
  eiasToken?: string;
  marketplaceId?: string;
  currency?: string;
  inventory?: ItemSeed[];
  tradingListings?: TradingListingSeed[];
};

export type EbaySeed = {
  apps?: AppSeed[];
  sellers?: SellerSeed[];
  consent?: Partial<ConsentConfig>;
};

export type ConsentConfig = {
  /** true: GET /oauth2/authorize redirects at once, as if `seller` pressed "Agree". */
  autoApprove: boolean;
  /** Username (or user id) signing in on the consent page / auto-approving. */
  seller: string | null;
};
