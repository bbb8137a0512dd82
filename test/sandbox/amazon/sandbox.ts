/**
 * The whole local Amazon in one object: the app registration, sellers, listings, orders,
 * submissions, feeds, notification subscriptions, LWA tokens, the SQS engine, rate limits,
 * faults, randomness and time scale. The HTTP server and every control route call into this;
 * tests can too, without HTTP. In-process functions take the same bodies as the control routes
 * and throw `ControlError` (`status`, `code`) where the route would answer an error.
 */
import { ControlError, badRequest, notFound } from "../shopify/errors";
import { Rng } from "../shopify/rng";
import * as feeds from "./feeds";
import { objectBody } from "./http";
import * as ids from "./ids";
import * as listings from "./listings";
import {
  AMAZON_NOTIFICATION_ACCOUNT,
  DEFAULT_MARKETPLACE,
  type AccessTokenRec,
  type AppRec,
  type AuthCodeRec,
  type AwsCredentialRec,
  type DestinationRec,
  type FeedDocumentRec,
  type FeedRec,
  type IssueRec,
  type NotificationLevel,
  type NotificationRec,
  type OrderRec,
  type RefreshTokenRec,
  type RequestLogRec,
  type SellerRec,
  type SubmissionRec,
  type SubscriptionRec,
} from "./model";
import * as notifications from "./notifications";
import * as orders from "./orders";
import {
  FaultRules,
  RateLimiter,
  isOperationName,
  type FaultRule,
  type UsagePlan,
} from "./rate-limits";
import { Lanes, Scheduler } from "./scheduler";
import { DEFAULT_SQS_BEHAVIOUR, SqsEngine, SqsError, type SqsBehaviour } from "./sqs";

/** Tunable marketplace behaviour. Durations marked "scaled" are multiplied by `timeScale`. */
export type Behaviour = {
  /** Delay between ACCEPTED and applied for a listing submission, [min, max] ms, scaled. */
  patchDelayMs: [number, number];
  /** false: submissions for one SKU apply in arrival order; true: each draws its own delay. */
  patchReorder: boolean;
  /** Writes to an FBA channel code: "reject" (INVALID with an issue) or "ignore" (ACCEPTED, no effect). */
  fbaWrites: "reject" | "ignore";
  /** Time a feed stays IN_QUEUE, then IN_PROGRESS, [min, max] ms each, scaled. */
  feedQueueMs: [number, number];
  feedProcessingMs: [number, number];
  /** Orders API: CreatedBefore/LastUpdatedBefore must be at least this long ago (default 2 min), scaled. */
  ordersApiLagMs: number;
  /** A Pending order is confirmed (Unshipped) after this long (default 30 min), scaled; null: never by itself. */
  pendingOrderMs: number | null;
  /** LWA access-token lifetime in seconds (3600), not scaled. */
  accessTokenTtlSeconds: number;
  /** `spapi_oauth_code` lifetime in seconds (300), not scaled. */
  authCodeTtlSeconds: number;
  /** Pre-signed feed-document URL lifetime in seconds (300), not scaled. */
  documentUrlTtlSeconds: number;
  /** LWA refuses a client secret older than this many days (180). */
  clientSecretMaxAgeDays: number;
  /** createDestination checks that the queue policy lets account 437568002678 send. */
  requireQueuePolicy: boolean;
  /** Processing reports compressed with GZIP (`compressionAlgorithm: "GZIP"`). */
  gzipReports: boolean;
};

export const DEFAULT_BEHAVIOUR: Behaviour = {
  patchDelayMs: [2000, 5000],
  patchReorder: false,
  fbaWrites: "reject",
  feedQueueMs: [1000, 3000],
  feedProcessingMs: [2000, 6000],
  ordersApiLagMs: 120_000,
  pendingOrderMs: 1_800_000,
  accessTokenTtlSeconds: 3600,
  authCodeTtlSeconds: 300,
  documentUrlTtlSeconds: 300,
  clientSecretMaxAgeDays: 180,
  requireQueuePolicy: false,
  gzipReports: false,
};

/** How notifications travel to their queue. Durations are ms, scaled. */
export type DeliveryConfig = {
  /** Delay before the first attempt, [min, max]. */
  delayMs: [number, number];
  /** Probability of a second delivery of the same notification (same NotificationId). */
  duplicateProbability: number;
  /** Probability the first attempt is lost; a redelivery follows after `redeliverAfterMs`. */
  dropProbability: number;
  redeliverAfterMs: [number, number];
  /** false: first attempts reach a queue in emission order; true: each draws its own delay. */
  reorder: boolean;
  /** Holds every delivery until unpaused. */
  paused: boolean;
};

export const DEFAULT_DELIVERY: DeliveryConfig = {
  delayMs: [100, 1000],
  duplicateProbability: 0,
  dropProbability: 0,
  redeliverAfterMs: [5000, 15_000],
  reorder: false,
  paused: false,
};

export type ConsentConfig = {
  /** "manual": the consent page shows an Authorize button; "auto": it redirects at once. */
  mode: "manual" | "auto";
  /** The seller who "is signed in" to Seller Central (default: the first seller). */
  sellerId: string | null;
};

export type AppSeed = {
  name?: string;
  applicationId?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretRotatedAt?: string;
  redirectUris?: string[];
  draft?: boolean;
};

export type AwsSeed = {
  accountId?: string;
  region?: string;
  credentials?: AwsCredentialRec[];
};

export type ListingSeed = {
  sku: string;
  asin?: string;
  productType?: string;
  itemName?: string;
  conditionType?: string;
  /** MFN (DEFAULT) quantity; omitted with `fbaQuantity` set: an FBA-only listing. */
  quantity?: number;
  /** FBA quantity (owned by Amazon, read-only for the app). */
  fbaQuantity?: number;
  fbaChannelCode?: string;
  price?: string;
  currency?: string;
  leadTimeToShipMaxDays?: number;
  marketplaceId?: string;
  createdAt?: string;
  /** Issues getListingsItem reports (includedData=issues), e.g. a suppressed listing. */
  issues?: IssueRec[];
};

export type SubscriptionSeed = {
  notificationType: string;
  /** Queue name (in the app's AWS account) or ARN; for EventBridge types the route target. */
  queue: string;
  payloadVersion?: string;
};

export type SellerSeed = {
  sellerId: string;
  name?: string;
  marketplaceIds?: string[];
  notificationLevel?: NotificationLevel;
  /** A refresh token to accept for this seller (self-authorization). */
  refreshToken?: string;
  listings?: ListingSeed[];
  subscriptions?: SubscriptionSeed[];
};

export type QueueSeed = {
  name: string;
  attributes?: Record<string, string>;
  /** Adds a Policy letting Amazon's account 437568002678 send (as the SQS tutorial asks). */
  allowAmazon?: boolean;
};

export type AmazonSeed = {
  app?: AppSeed;
  aws?: AwsSeed;
  queues?: QueueSeed[];
  sellers?: SellerSeed[];
  /** Where EventBridge notifications of the app's AWS account end up (an SQS queue name or ARN). */
  eventBridgeTarget?: string;
  behaviour?: Partial<Behaviour>;
  delivery?: Partial<DeliveryConfig>;
  sqs?: Partial<SqsBehaviour>;
  consent?: Partial<ConsentConfig>;
};

export type SandboxOptions = {
  timeScale?: number;
  rngSeed?: number;
  seed?: AmazonSeed;
  behaviour?: Partial<Behaviour>;
  delivery?: Partial<DeliveryConfig>;
  sqs?: Partial<SqsBehaviour>;
  rateLimits?: Partial<Record<string, UsagePlan>>;
};

export const DEFAULT_APP = {
  name: "StockGuard (local sandbox)",
  applicationId: "amzn1.sp.solution.6b0f5c8e-0000-4000-8000-000000000001",
  clientId: "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef",
  clientSecret: "amzn1.oa2-cs.v1.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  redirectUris: ["http://127.0.0.1:3000/channels/amazon/callback"],
};

export const DEFAULT_AWS = {
  accountId: "123456789012",
  region: "us-east-1",
  credentials: [
    { accessKeyId: "AKIALOCALSANDBOX0001", secretAccessKey: "local-sandbox-secret-key" },
  ],
};

export const GRANTLESS_SCOPES = [
  "sellingpartnerapi::notifications",
  "sellingpartnerapi::client_credential:rotation",
];

export class AmazonSandbox {
  timeScale: number;
  baseUrl = "http://127.0.0.1";
  readonly scheduler = new Scheduler();
  readonly sqs: SqsEngine;
  readonly limiter = new RateLimiter();
  readonly faults: FaultRules;

  app!: AppRec;
  aws!: { accountId: string; region: string; credentials: AwsCredentialRec[] };
  readonly sellers = new Map<string, SellerRec>();
  readonly orders = new Map<string, OrderRec>();
  submissions: SubmissionRec[] = [];
  readonly feeds = new Map<string, FeedRec>();
  readonly documents = new Map<string, FeedDocumentRec>();
  readonly destinations = new Map<string, DestinationRec>();
  readonly subscriptions = new Map<string, SubscriptionRec>();
  notifications: NotificationRec[] = [];
  readonly refreshTokens = new Map<string, RefreshTokenRec>();
  readonly accessTokens = new Map<string, AccessTokenRec>();
  readonly authCodes = new Map<string, AuthCodeRec>();
  /** AWS account id → ARN of the SQS queue its EventBridge rule targets. */
  readonly eventBridgeTargets = new Map<string, string>();
  requestLog: RequestLogRec[] = [];
  behaviour: Behaviour = { ...DEFAULT_BEHAVIOUR };
  delivery: DeliveryConfig = { ...DEFAULT_DELIVERY };
  readonly sellerDelivery = new Map<string, Partial<DeliveryConfig>>();
  consent: ConsentConfig = { mode: "manual", sellerId: null };
  /** Per (seller, sku): accepted submissions apply in arrival order (unless patchReorder). */
  readonly applyLanes = new Lanes();
  /** Per queue ARN: first delivery attempts arrive in emission order (unless reorder). */
  readonly deliveryLanes = new Lanes();
  private requestSeq = 0;
  private rng: Rng;
  private rngSeed: number | undefined;

  constructor(private options: SandboxOptions = {}) {
    this.timeScale = options.timeScale ?? 1;
    this.rngSeed = options.rngSeed;
    this.rng = new Rng(options.rngSeed);
    this.sqs = new SqsEngine(() => this.rng);
    this.faults = new FaultRules(() => this.rng);
    this.init(true);
  }

  get random(): Rng {
    return this.rng;
  }

  now(): Date {
    return new Date();
  }

  /** `ms` × timeScale, for simulated real-world durations. */
  scaled(ms: number): number {
    return ms * this.timeScale;
  }

  /** A random duration in [min, max] ms, scaled. */
  scaledBetween([min, max]: [number, number]): number {
    return this.scaled(min + (max - min) * this.rng.next());
  }

  // --- seeding and configuration -------------------------------------------------------------

  private init(reseed: boolean): void {
    this.app = {
      ...DEFAULT_APP,
      redirectUris: [...DEFAULT_APP.redirectUris],
      clientSecretRotatedAt: new Date(),
      draft: true,
    };
    this.aws = {
      accountId: DEFAULT_AWS.accountId,
      region: DEFAULT_AWS.region,
      credentials: DEFAULT_AWS.credentials.map((c) => ({ ...c })),
    };
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...checkBehaviour(this.options.behaviour ?? {}) };
    this.delivery = { ...DEFAULT_DELIVERY, ...checkDelivery(this.options.delivery ?? {}) };
    this.sqs.behaviour = { ...DEFAULT_SQS_BEHAVIOUR, ...checkSqsBehaviour(this.options.sqs ?? {}) };
    for (const [op, plan] of Object.entries(this.options.rateLimits ?? {})) {
      if (plan) this.setRateLimit({ operation: op, ...plan });
    }
    if (reseed && this.options.seed) this.applySeed(this.options.seed);
  }

  /**
   * Empties everything (sellers, orders, tokens, queues, logs, configuration, RNG), then re-applies
   * the startup options and, unless `reseed` is false, the startup seed.
   */
  reset(reseed = true): void {
    this.scheduler.clear();
    notifications.clearHeld(this);
    for (const order of this.orders.values()) order.cancelTimer?.();
    this.sqs.reset();
    this.limiter.reset(true);
    this.faults.clear();
    this.sellers.clear();
    this.orders.clear();
    this.submissions = [];
    this.feeds.clear();
    this.documents.clear();
    this.destinations.clear();
    this.subscriptions.clear();
    this.notifications = [];
    this.refreshTokens.clear();
    this.accessTokens.clear();
    this.authCodes.clear();
    this.eventBridgeTargets.clear();
    this.requestLog = [];
    this.requestSeq = 0;
    this.sellerDelivery.clear();
    this.consent = { mode: "manual", sellerId: null };
    this.applyLanes.clear();
    this.deliveryLanes.clear();
    this.rng = new Rng(this.rngSeed);
    this.init(reseed);
  }

  /** Restarts the RNG from `seed` (undefined: unseeded); reset() restarts it from here too. */
  setRngSeed(seed: number | undefined): void {
    this.rngSeed = seed;
    this.rng = new Rng(seed);
  }

  /** Applies `seed` now and again after every reset(). */
  setStartupSeed(seed: AmazonSeed): void {
    this.options = { ...this.options, seed };
    this.applySeed(seed);
  }

  applySeed(seed: AmazonSeed): { sellers: string[]; queues: string[] } {
    if (!seed || typeof seed !== "object") throw badRequest("a seed is a JSON object");
    if (seed.app) this.registerApp(seed.app);
    if (seed.aws) this.setAws(seed.aws);
    if (seed.behaviour) this.configure({ behaviour: seed.behaviour });
    if (seed.delivery) this.configureDelivery(seed.delivery);
    if (seed.sqs) this.configureSqs(seed.sqs);
    const queues = (seed.queues ?? []).map((q) => this.createQueue(q).QueueUrl);
    if (seed.eventBridgeTarget) this.routeEventBridge({ queue: seed.eventBridgeTarget });
    const sellers = (seed.sellers ?? []).map((s) => this.createSeller(s).sellerId);
    // After the sellers: the consent may name one of them as the signed-in seller.
    if (seed.consent) this.configureConsent(seed.consent);
    return { sellers, queues };
  }

  configure(input: { timeScale?: unknown; rngSeed?: unknown; behaviour?: unknown }) {
    const body = objectBody(input);
    if (body.timeScale !== undefined) {
      if (typeof body.timeScale !== "number" || !(body.timeScale > 0)) {
        throw badRequest("timeScale must be a positive number");
      }
      this.timeScale = body.timeScale;
    }
    if (body.rngSeed !== undefined) {
      if (body.rngSeed !== null && typeof body.rngSeed !== "number") {
        throw badRequest("rngSeed must be a number or null");
      }
      this.setRngSeed(body.rngSeed ?? undefined);
    }
    if (body.behaviour !== undefined) {
      this.behaviour = { ...this.behaviour, ...checkBehaviour(objectBody(body.behaviour)) };
    }
    return { timeScale: this.timeScale, behaviour: this.behaviour };
  }

  // --- app, AWS account, sellers --------------------------------------------------------------

  registerApp(input: AppSeed): AppRec {
    const seed = objectBody(input) as AppSeed;
    const rotatedAt = seed.clientSecretRotatedAt
      ? new Date(seed.clientSecretRotatedAt)
      : new Date();
    if (Number.isNaN(rotatedAt.getTime())) throw badRequest("clientSecretRotatedAt is not a date");
    if (seed.redirectUris !== undefined && !Array.isArray(seed.redirectUris)) {
      throw badRequest("redirectUris must be an array");
    }
    this.app = {
      name: seed.name ?? this.app?.name ?? DEFAULT_APP.name,
      applicationId: seed.applicationId ?? this.app?.applicationId ?? DEFAULT_APP.applicationId,
      clientId: seed.clientId ?? this.app?.clientId ?? DEFAULT_APP.clientId,
      clientSecret: seed.clientSecret ?? this.app?.clientSecret ?? DEFAULT_APP.clientSecret,
      clientSecretRotatedAt:
        seed.clientSecretRotatedAt || !this.app ? rotatedAt : this.app.clientSecretRotatedAt,
      redirectUris: seed.redirectUris ?? this.app?.redirectUris ?? [...DEFAULT_APP.redirectUris],
      draft: seed.draft ?? this.app?.draft ?? true,
    };
    return this.app;
  }

  /** A new client secret (or the given one) and/or a rotation date; LWA checks its age. */
  rotateClientSecret(input: { secret?: unknown; rotatedAt?: unknown } = {}) {
    const body = objectBody(input);
    const rotatedAt = body.rotatedAt === undefined ? new Date() : new Date(String(body.rotatedAt));
    if (Number.isNaN(rotatedAt.getTime())) throw badRequest("rotatedAt is not a date");
    if (body.secret !== undefined && typeof body.secret !== "string") {
      throw badRequest("secret must be a string");
    }
    this.app.clientSecret =
      (body.secret as string | undefined) ??
      (body.rotatedAt === undefined
        ? `amzn1.oa2-cs.v1.${ids.hex(this.rng, 64)}`
        : this.app.clientSecret);
    this.app.clientSecretRotatedAt = rotatedAt;
    return this.appSummary();
  }

  appSummary() {
    const expiresAt = new Date(
      this.app.clientSecretRotatedAt.getTime() + this.behaviour.clientSecretMaxAgeDays * 86_400_000,
    );
    return {
      ...this.app,
      clientSecretRotatedAt: this.app.clientSecretRotatedAt.toISOString(),
      clientSecretExpiresAt: expiresAt.toISOString(),
    };
  }

  setAws(input: AwsSeed) {
    const seed = objectBody(input) as AwsSeed;
    if (seed.accountId !== undefined && !/^\d{12}$/.test(seed.accountId)) {
      throw badRequest("accountId must be 12 digits");
    }
    this.aws = {
      accountId: seed.accountId ?? this.aws.accountId,
      region: seed.region ?? this.aws.region,
      credentials: seed.credentials ?? this.aws.credentials,
    };
    return this.aws;
  }

  createSeller(input: SellerSeed): SellerRec {
    const seed = objectBody(input) as SellerSeed;
    if (typeof seed.sellerId !== "string" || !/^[A-Z0-9]{6,20}$/.test(seed.sellerId)) {
      throw badRequest("sellerId must be 6-20 upper-case letters and digits (e.g. A1SELLER)");
    }
    if (this.sellers.has(seed.sellerId)) throw badRequest(`seller ${seed.sellerId} already exists`);
    const seller: SellerRec = {
      sellerId: seed.sellerId,
      name: seed.name ?? seed.sellerId,
      marketplaceIds: seed.marketplaceIds ?? [DEFAULT_MARKETPLACE],
      notificationLevel: seed.notificationLevel ?? "OrderLevel",
      listings: new Map(),
    };
    if (!["OrderLevel", "OrderItemLevel"].includes(seller.notificationLevel)) {
      throw badRequest("notificationLevel is OrderLevel or OrderItemLevel");
    }
    this.sellers.set(seller.sellerId, seller);
    if (seed.refreshToken !== undefined) this.authorizeSeller(seller.sellerId, seed.refreshToken);
    for (const listing of seed.listings ?? []) listings.createListing(this, seller, listing);
    for (const sub of seed.subscriptions ?? []) notifications.seedSubscription(this, seller, sub);
    return seller;
  }

  seller(sellerId: string): SellerRec {
    const seller = this.sellers.get(sellerId);
    if (!seller) throw notFound(`seller ${sellerId}`);
    return seller;
  }

  sellerSummary(seller: SellerRec) {
    return {
      sellerId: seller.sellerId,
      name: seller.name,
      marketplaceIds: seller.marketplaceIds,
      notificationLevel: seller.notificationLevel,
      refreshTokens: [...this.refreshTokens.values()]
        .filter((t) => t.sellerId === seller.sellerId && !t.revoked)
        .map((t) => t.token),
      listings: [...seller.listings.keys()],
    };
  }

  setNotificationLevel(sellerId: string, level: unknown): SellerRec {
    const seller = this.seller(sellerId);
    if (level !== "OrderLevel" && level !== "OrderItemLevel") {
      throw badRequest("notificationLevel is OrderLevel or OrderItemLevel");
    }
    seller.notificationLevel = level;
    return seller;
  }

  // --- LWA tokens ----------------------------------------------------------------------------

  /** Self-authorization: a refresh token for (app, seller); `token` picks its value. */
  authorizeSeller(sellerId: string, token?: string): RefreshTokenRec {
    this.seller(sellerId);
    const rec: RefreshTokenRec = {
      token: token ?? ids.refreshToken(this.rng),
      clientId: this.app.clientId,
      sellerId,
      createdAt: new Date(),
      revoked: false,
    };
    this.refreshTokens.set(rec.token, rec);
    return rec;
  }

  issueAccessToken(input: {
    kind: "seller" | "grantless";
    sellerId: string | null;
    scope: string | null;
  }): AccessTokenRec {
    const issuedAt = new Date();
    const rec: AccessTokenRec = {
      token: ids.accessToken(this.rng, input.kind === "grantless"),
      clientId: this.app.clientId,
      kind: input.kind,
      sellerId: input.sellerId,
      scope: input.scope,
      issuedAt,
      expiresAt: new Date(issuedAt.getTime() + this.behaviour.accessTokenTtlSeconds * 1000),
      revoked: false,
    };
    this.accessTokens.set(rec.token, rec);
    return rec;
  }

  /** Makes matching access tokens expired now (SP-API then answers the expired-token 403). */
  expireAccessTokens(input: { sellerId?: unknown; kind?: unknown; token?: unknown } = {}) {
    const body = objectBody(input);
    const past = new Date(Date.now() - 1000);
    let count = 0;
    for (const token of this.accessTokens.values()) {
      if (body.token !== undefined && token.token !== body.token) continue;
      if (body.sellerId !== undefined && token.sellerId !== body.sellerId) continue;
      if (body.kind !== undefined && token.kind !== body.kind) continue;
      token.expiresAt = past;
      count += 1;
    }
    return { expired: count };
  }

  /** Revokes refresh tokens (by value or seller): LWA then answers invalid_grant. */
  revokeRefreshToken(input: { token?: unknown; sellerId?: unknown } = {}) {
    const body = objectBody(input);
    if (body.token === undefined && body.sellerId === undefined) {
      throw badRequest("give token or sellerId");
    }
    let count = 0;
    for (const rec of this.refreshTokens.values()) {
      if (body.token !== undefined && rec.token !== body.token) continue;
      if (body.sellerId !== undefined && rec.sellerId !== body.sellerId) continue;
      rec.revoked = true;
      count += 1;
      for (const access of this.accessTokens.values()) {
        if (access.kind === "seller" && access.sellerId === rec.sellerId) access.revoked = true;
      }
    }
    if (count === 0) throw notFound("refresh token");
    return { revoked: count };
  }

  expireAuthCodes() {
    const past = new Date(Date.now() - 1000);
    for (const code of this.authCodes.values()) code.expiresAt = past;
    return { expired: this.authCodes.size };
  }

  configureConsent(input: Partial<ConsentConfig>): ConsentConfig {
    const body = objectBody(input);
    if (body.mode !== undefined && body.mode !== "manual" && body.mode !== "auto") {
      throw badRequest("mode is manual or auto");
    }
    if (body.sellerId !== undefined && body.sellerId !== null) this.seller(String(body.sellerId));
    this.consent = {
      mode: (body.mode as ConsentConfig["mode"] | undefined) ?? this.consent.mode,
      sellerId:
        body.sellerId === undefined ? this.consent.sellerId : (body.sellerId as string | null),
    };
    return this.consent;
  }

  // --- listings ------------------------------------------------------------------------------

  createListing(sellerId: string, input: ListingSeed) {
    const listing = listings.createListing(
      this,
      this.seller(sellerId),
      objectBody(input) as ListingSeed,
    );
    return listings.listingSnapshot(this, listing);
  }

  /** The listing as the sandbox holds it: live quantities, attributes, submissions. */
  listing(sellerId: string, sku: string) {
    return listings.listingSnapshot(this, listings.requireListing(this, sellerId, sku));
  }

  /** A seller-side change (Seller Central): sets a channel's quantity now; emits MFN changes. */
  setListingQuantity(
    sellerId: string,
    sku: string,
    input: { quantity?: unknown; channel?: unknown },
  ) {
    const body = objectBody(input);
    const listing = listings.requireListing(this, sellerId, sku);
    if (
      typeof body.quantity !== "number" ||
      !Number.isInteger(body.quantity) ||
      body.quantity < 0
    ) {
      throw badRequest("quantity must be an integer >= 0");
    }
    const channel = typeof body.channel === "string" ? body.channel : "DEFAULT";
    listings.setQuantity(this, listing, channel, body.quantity, true);
    return listings.listingSnapshot(this, listing);
  }

  deleteListing(sellerId: string, sku: string) {
    const listing = listings.requireListing(this, sellerId, sku);
    this.seller(sellerId).listings.delete(listing.sku);
    return { sku: listing.sku, deleted: true };
  }

  /** Listing submissions received (patches and feed messages) with timestamps. */
  submissionLog(filter: { sellerId?: string | null; sku?: string | null } = {}) {
    return this.submissions
      .filter((s) => !filter.sellerId || s.sellerId === filter.sellerId)
      .filter((s) => !filter.sku || s.sku === filter.sku)
      .map(listings.submissionSnapshot);
  }

  // --- orders (buyer and seller actions) -----------------------------------------------------

  purchase(sellerId: string, input: unknown) {
    return orders.orderSnapshot(orders.purchase(this, this.seller(sellerId), input));
  }
  confirmOrder(orderId: string) {
    return orders.orderSnapshot(orders.confirm(this, this.order(orderId)));
  }
  buyerCancel(orderId: string, input: unknown = {}) {
    return orders.orderSnapshot(orders.buyerCancel(this, this.order(orderId), input));
  }
  sellerCancel(orderId: string, input: unknown = {}) {
    return orders.orderSnapshot(orders.sellerCancel(this, this.order(orderId), input));
  }
  ship(orderId: string, input: unknown = {}) {
    return orders.orderSnapshot(orders.ship(this, this.order(orderId), input));
  }

  order(orderId: string): OrderRec {
    const order = this.orders.get(orderId);
    if (!order) throw notFound(`order ${orderId}`);
    return order;
  }

  orderList(sellerId?: string | null) {
    return [...this.orders.values()]
      .filter((o) => !sellerId || o.sellerId === sellerId)
      .map(orders.orderSnapshot);
  }

  // --- feeds ---------------------------------------------------------------------------------

  feedList(sellerId?: string | null) {
    return [...this.feeds.values()]
      .filter((f) => !sellerId || f.sellerId === sellerId)
      .map(feeds.feedSnapshot);
  }

  // --- SQS and notifications -----------------------------------------------------------------

  createQueue(input: QueueSeed) {
    const seed = objectBody(input) as QueueSeed;
    if (typeof seed.name !== "string") throw badRequest("a queue needs a name");
    const attributes = { ...(seed.attributes ?? {}) };
    if (seed.allowAmazon) attributes.Policy = amazonSendPolicy(this.aws, seed.name);
    try {
      const queue = this.sqs.createQueue(
        this.aws.accountId,
        this.aws.region,
        seed.name,
        attributes,
      );
      return { QueueUrl: this.queueUrl(queue.accountId, queue.name), QueueArn: queue.arn };
    } catch (error) {
      if (error instanceof SqsError) throw badRequest(error.message);
      throw error;
    }
  }

  queueUrl(accountId: string, name: string): string {
    return `${this.baseUrl}/${accountId}/${name}`;
  }

  /** A queue by name (app account) or ARN. */
  findQueue(ref: string) {
    const queue = ref.startsWith("arn:")
      ? this.sqs.queueByArn(ref)
      : this.sqs.queue(this.aws.accountId, ref);
    if (!queue) throw notFound(`queue ${ref}`);
    return queue;
  }

  queueList() {
    return [...this.sqs.queues.values()].map((q) => ({
      name: q.name,
      url: this.queueUrl(q.accountId, q.name),
      arn: q.arn,
      attributes: this.sqs.attributes(q),
    }));
  }

  queueContents(ref: string) {
    const queue = this.findQueue(ref);
    return { name: queue.name, arn: queue.arn, messages: this.sqs.contents(queue) };
  }

  configureSqs(input: Partial<SqsBehaviour>): SqsBehaviour {
    this.sqs.behaviour = { ...this.sqs.behaviour, ...checkSqsBehaviour(objectBody(input)) };
    return this.sqs.behaviour;
  }

  /** Where EventBridge notifications go: the rule of `accountId` (default the app's) targets `queue`. */
  routeEventBridge(input: { accountId?: unknown; queue?: unknown }) {
    const body = objectBody(input);
    const accountId = typeof body.accountId === "string" ? body.accountId : this.aws.accountId;
    if (typeof body.queue !== "string") throw badRequest("queue (name or ARN) is required");
    const queue = this.findQueue(body.queue);
    this.eventBridgeTargets.set(accountId, queue.arn);
    return { accountId, queueArn: queue.arn };
  }

  configureDelivery(input: Partial<DeliveryConfig>, sellerId?: string): DeliveryConfig {
    const checked = checkDelivery(objectBody(input));
    if (sellerId === undefined) {
      this.delivery = { ...this.delivery, ...checked };
      notifications.pump(this);
      return this.delivery;
    }
    this.seller(sellerId);
    this.sellerDelivery.set(sellerId, { ...this.sellerDelivery.get(sellerId), ...checked });
    notifications.pump(this);
    return this.deliveryFor(sellerId);
  }

  deliveryFor(sellerId: string): DeliveryConfig {
    return { ...this.delivery, ...this.sellerDelivery.get(sellerId) };
  }

  notificationList(filter: { sellerId?: string | null; type?: string | null } = {}) {
    return this.notifications
      .filter((n) => !filter.sellerId || n.sellerId === filter.sellerId)
      .filter((n) => !filter.type || n.notificationType === filter.type)
      .map(notifications.notificationSnapshot);
  }

  // --- rate limits, faults, request log ------------------------------------------------------

  setRateLimit(input: {
    operation?: unknown;
    rate?: unknown;
    burst?: unknown;
    sellerId?: unknown;
  }) {
    const body = objectBody(input);
    if (typeof body.operation !== "string" || !isOperationName(body.operation)) {
      throw badRequest(`unknown operation ${String(body.operation)}`);
    }
    if (typeof body.rate !== "number" || typeof body.burst !== "number") {
      throw badRequest("rate and burst must be numbers");
    }
    try {
      return this.limiter.configure(
        body.operation,
        { rate: body.rate, burst: body.burst },
        typeof body.sellerId === "string" ? body.sellerId : undefined,
      );
    } catch (error) {
      throw badRequest((error as Error).message);
    }
  }

  injectFault(rule: FaultRule) {
    try {
      return this.faults.add(objectBody(rule) as FaultRule);
    } catch (error) {
      throw badRequest((error as Error).message);
    }
  }

  logRequest(entry: Omit<RequestLogRec, "seq" | "at">): RequestLogRec {
    const rec: RequestLogRec = { seq: ++this.requestSeq, at: new Date().toISOString(), ...entry };
    this.requestLog.push(rec);
    if (this.requestLog.length > 20_000) this.requestLog.splice(0, this.requestLog.length - 20_000);
    return rec;
  }

  requests(
    filter: { operation?: string | null; status?: number | null; api?: string | null } = {},
  ) {
    return this.requestLog
      .filter((r) => !filter.operation || r.operation === filter.operation)
      .filter((r) => !filter.status || r.status === filter.status)
      .filter((r) => !filter.api || r.api === filter.api);
  }

  throttledCount(operation?: string | null): number {
    return this.requestLog.filter(
      (r) => r.status === 429 && (!operation || r.operation === operation),
    ).length;
  }

  // --- idle / close --------------------------------------------------------------------------

  /** Resolves true once no submission application, feed step or notification delivery is pending. */
  waitForIdle(timeoutMs = 10_000): Promise<boolean> {
    return this.scheduler.waitForIdle(timeoutMs);
  }

  close(): void {
    this.scheduler.clear();
    this.sqs.close();
    for (const order of this.orders.values()) order.cancelTimer?.();
  }
}

function amazonSendPolicy(aws: { accountId: string; region: string }, name: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${AMAZON_NOTIFICATION_ACCOUNT}:root` },
        Action: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
        Resource: `arn:aws:sqs:${aws.region}:${aws.accountId}:${name}`,
      },
    ],
  });
}

function range(value: unknown, name: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) throw badRequest(`${name} is [min, max]`);
  const [min, max] = value as unknown[];
  if (typeof min !== "number" || typeof max !== "number" || !(min >= 0) || !(max >= min)) {
    throw badRequest(`${name} needs 0 <= min <= max`);
  }
  return [min, max];
}

function probability(value: unknown, name: string): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
    throw badRequest(`${name} must be within [0, 1]`);
  }
  return value;
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value !== "number" || !(value >= 0)) throw badRequest(`${name} must be >= 0`);
  return value;
}

export function checkBehaviour(input: Record<string, unknown>): Partial<Behaviour> {
  const out: Partial<Behaviour> = {};
  for (const [key, value] of Object.entries(input)) {
    switch (key) {
      case "patchDelayMs":
      case "feedQueueMs":
      case "feedProcessingMs":
        out[key] = range(value, key);
        break;
      case "patchReorder":
      case "requireQueuePolicy":
      case "gzipReports":
        out[key] = value === true;
        break;
      case "fbaWrites":
        if (value !== "reject" && value !== "ignore")
          throw badRequest("fbaWrites is reject or ignore");
        out.fbaWrites = value;
        break;
      case "pendingOrderMs":
        out.pendingOrderMs = value === null ? null : nonNegative(value, key);
        break;
      case "ordersApiLagMs":
      case "accessTokenTtlSeconds":
      case "authCodeTtlSeconds":
      case "documentUrlTtlSeconds":
      case "clientSecretMaxAgeDays":
        out[key] = nonNegative(value, key);
        break;
      default:
        throw badRequest(`unknown behaviour ${key}`);
    }
  }
  return out;
}

export function checkDelivery(input: Record<string, unknown>): Partial<DeliveryConfig> {
  const out: Partial<DeliveryConfig> = {};
  for (const [key, value] of Object.entries(input)) {
    switch (key) {
      case "delayMs":
      case "redeliverAfterMs":
        out[key] = range(value, key);
        break;
      case "duplicateProbability":
      case "dropProbability":
        out[key] = probability(value, key);
        break;
      case "reorder":
      case "paused":
        out[key] = value === true;
        break;
      case "rngSeed":
        break;
      default:
        throw badRequest(`unknown delivery setting ${key}`);
    }
  }
  return out;
}

export function checkSqsBehaviour(input: Record<string, unknown>): Partial<SqsBehaviour> {
  const out: Partial<SqsBehaviour> = {};
  for (const [key, value] of Object.entries(input)) {
    switch (key) {
      case "duplicateProbability":
        out.duplicateProbability = probability(value, key);
        break;
      case "duplicateDelayMs":
        out.duplicateDelayMs = range(value, key);
        break;
      case "reorder":
        out.reorder = value === true;
        break;
      default:
        throw badRequest(`unknown sqs setting ${key}`);
    }
  }
  return out;
}

export { ControlError };
