/**
 * `/_control/…`: the JSON control API of the local Amazon (see README.md for every route). Each
 * route calls the in-process function of `AmazonSandbox` with the same body.
 */
import { ControlError, badRequest, notFound } from "../shopify/errors";
import { objectBody, type Reply } from "./http";
import type { FaultRule } from "./rate-limits";
import type {
  AmazonSandbox,
  AmazonSeed,
  AppSeed,
  AwsSeed,
  ConsentConfig,
  DeliveryConfig,
  ListingSeed,
  QueueSeed,
  SellerSeed,
} from "./sandbox";
import type { SqsBehaviour } from "./sqs";

type Request = { method: string; params: string[]; query: URLSearchParams; body: unknown };
type Handler = (sb: AmazonSandbox, req: Request) => unknown;

const ID = "([^/]+)";

function p(req: Request, index: number): string {
  return req.params[index] ?? "";
}

/** [method, pattern, handler, status on success]. */
const routes: [string, RegExp, Handler, number?][] = [
  ["GET", /^health$/, (sb) => ({ ok: true, sellers: [...sb.sellers.keys()] })],
  [
    "POST",
    /^reset$/,
    (sb, req) => {
      sb.reset(objectBody(req.body).reseed !== false);
      return { ok: true, sellers: [...sb.sellers.keys()] };
    },
  ],
  ["POST", /^seed$/, (sb, req) => sb.applySeed(req.body as AmazonSeed), 201],
  ["GET", /^config$/, (sb) => ({ timeScale: sb.timeScale, behaviour: sb.behaviour })],
  ["POST", /^config$/, (sb, req) => sb.configure(objectBody(req.body))],
  ["GET", /^app$/, (sb) => sb.appSummary()],
  [
    "POST",
    /^app$/,
    (sb, req) => {
      sb.registerApp(req.body as AppSeed);
      return sb.appSummary();
    },
  ],
  ["POST", /^app\/rotate-secret$/, (sb, req) => sb.rotateClientSecret(objectBody(req.body))],
  ["GET", /^aws$/, (sb) => sb.aws],
  ["POST", /^aws$/, (sb, req) => sb.setAws(req.body as AwsSeed)],
  [
    "GET",
    /^sellers$/,
    (sb) => ({ sellers: [...sb.sellers.values()].map((s) => sb.sellerSummary(s)) }),
  ],
  [
    "POST",
    /^sellers$/,
    (sb, req) => sb.sellerSummary(sb.createSeller(req.body as SellerSeed)),
    201,
  ],
  ["GET", new RegExp(`^sellers/${ID}$`), (sb, req) => sb.sellerSummary(sb.seller(p(req, 0)))],
  [
    "POST",
    new RegExp(`^sellers/${ID}/authorize$`),
    (sb, req) => {
      const body = objectBody(req.body);
      const token = typeof body.refreshToken === "string" ? body.refreshToken : undefined;
      const rec = sb.authorizeSeller(p(req, 0), token);
      return { sellerId: rec.sellerId, refreshToken: rec.token };
    },
    201,
  ],
  [
    "POST",
    new RegExp(`^sellers/${ID}/notification-level$`),
    (sb, req) => {
      const seller = sb.setNotificationLevel(p(req, 0), objectBody(req.body).notificationLevel);
      return { sellerId: seller.sellerId, notificationLevel: seller.notificationLevel };
    },
  ],
  [
    "GET",
    new RegExp(`^sellers/${ID}/listings$`),
    (sb, req) => ({
      listings: [...sb.seller(p(req, 0)).listings.keys()].map((sku) => sb.listing(p(req, 0), sku)),
    }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${ID}/listings$`),
    (sb, req) => sb.createListing(p(req, 0), req.body as ListingSeed),
    201,
  ],
  [
    "GET",
    new RegExp(`^sellers/${ID}/listings/${ID}$`),
    (sb, req) => sb.listing(p(req, 0), p(req, 1)),
  ],
  [
    "DELETE",
    new RegExp(`^sellers/${ID}/listings/${ID}$`),
    (sb, req) => sb.deleteListing(p(req, 0), p(req, 1)),
  ],
  [
    "POST",
    new RegExp(`^sellers/${ID}/listings/${ID}/quantity$`),
    (sb, req) => sb.setListingQuantity(p(req, 0), p(req, 1), objectBody(req.body)),
  ],
  [
    "POST",
    new RegExp(`^sellers/${ID}/purchase$`),
    (sb, req) => ({ order: sb.purchase(p(req, 0), req.body) }),
    201,
  ],
  [
    "GET",
    /^submissions$/,
    (sb, req) => ({
      submissions: sb.submissionLog({
        sellerId: req.query.get("sellerId"),
        sku: req.query.get("sku"),
      }),
    }),
  ],
  ["GET", /^orders$/, (sb, req) => ({ orders: sb.orderList(req.query.get("sellerId")) })],
  [
    "GET",
    new RegExp(`^orders/${ID}$`),
    (sb, req) => ({
      order:
        sb.orderList().find((o) => o.amazonOrderId === p(req, 0)) ?? missing(`order ${p(req, 0)}`),
    }),
  ],
  [
    "POST",
    new RegExp(`^orders/${ID}/(confirm|buyer-cancel|seller-cancel|ship)$`),
    (sb, req) => {
      const id = p(req, 0);
      switch (p(req, 1)) {
        case "confirm":
          return { order: sb.confirmOrder(id) };
        case "buyer-cancel":
          return { order: sb.buyerCancel(id, req.body) };
        case "seller-cancel":
          return { order: sb.sellerCancel(id, req.body) };
        default:
          return { order: sb.ship(id, req.body) };
      }
    },
  ],
  ["GET", /^feeds$/, (sb, req) => ({ feeds: sb.feedList(req.query.get("sellerId")) })],
  [
    "GET",
    /^notifications$/,
    (sb, req) => ({
      notifications: sb.notificationList({
        sellerId: req.query.get("sellerId"),
        type: req.query.get("type"),
      }),
    }),
  ],
  ["GET", /^queues$/, (sb) => ({ queues: sb.queueList() })],
  ["POST", /^queues$/, (sb, req) => sb.createQueue(req.body as QueueSeed), 201],
  ["GET", new RegExp(`^queues/${ID}$`), (sb, req) => sb.queueContents(p(req, 0))],
  ["GET", /^sqs\/config$/, (sb) => sb.sqs.behaviour],
  ["POST", /^sqs\/config$/, (sb, req) => sb.configureSqs(req.body as Partial<SqsBehaviour>)],
  ["POST", /^eventbridge\/route$/, (sb, req) => sb.routeEventBridge(objectBody(req.body))],
  ["GET", /^delivery$/, (sb) => sb.delivery],
  ["POST", /^delivery$/, (sb, req) => sb.configureDelivery(req.body as Partial<DeliveryConfig>)],
  [
    "GET",
    new RegExp(`^sellers/${ID}/delivery$`),
    (sb, req) => sb.deliveryFor(sb.seller(p(req, 0)).sellerId),
  ],
  [
    "POST",
    new RegExp(`^sellers/${ID}/delivery$`),
    (sb, req) => sb.configureDelivery(req.body as Partial<DeliveryConfig>, p(req, 0)),
  ],
  ["GET", /^rate-limits$/, (sb) => ({ enabled: sb.limiter.enabled, plans: sb.limiter.snapshot() })],
  [
    "POST",
    /^rate-limits$/,
    (sb, req) => {
      const body = objectBody(req.body);
      if (typeof body.enabled === "boolean") sb.limiter.enabled = body.enabled;
      if (body.operation !== undefined) sb.setRateLimit(body);
      return { enabled: sb.limiter.enabled, plans: sb.limiter.snapshot() };
    },
  ],
  [
    "POST",
    /^rate-limits\/reset$/,
    (sb, req) => {
      sb.limiter.reset(objectBody(req.body).plans === true);
      return { enabled: sb.limiter.enabled, plans: sb.limiter.snapshot() };
    },
  ],
  ["GET", /^faults$/, (sb) => ({ faults: sb.faults.list(), latency: sb.faults.latency })],
  ["POST", /^faults$/, (sb, req) => ({ fault: sb.injectFault(req.body as FaultRule) }), 201],
  [
    "DELETE",
    /^faults$/,
    (sb) => {
      sb.faults.clear();
      return { ok: true };
    },
  ],
  [
    "POST",
    /^latency$/,
    (sb, req) => {
      const body = objectBody(req.body);
      try {
        sb.faults.setLatency(Number(body.minMs ?? 0), Number(body.maxMs ?? body.minMs ?? 0));
      } catch (error) {
        throw badRequest((error as Error).message);
      }
      return { latency: sb.faults.latency };
    },
  ],
  ["POST", /^tokens\/expire$/, (sb, req) => sb.expireAccessTokens(objectBody(req.body))],
  ["POST", /^tokens\/revoke$/, (sb, req) => sb.revokeRefreshToken(objectBody(req.body))],
  ["POST", /^auth-codes\/expire$/, (sb) => sb.expireAuthCodes()],
  ["GET", /^consent$/, (sb) => sb.consent],
  ["POST", /^consent$/, (sb, req) => sb.configureConsent(req.body as Partial<ConsentConfig>)],
  [
    "GET",
    /^requests$/,
    (sb, req) => {
      const status = req.query.get("status");
      return {
        requests: sb.requests({
          operation: req.query.get("operation"),
          status: status === null ? null : Number(status),
          api: req.query.get("api"),
        }),
        throttled: sb.throttledCount(req.query.get("operation")),
      };
    },
  ],
];

function missing(what: string): never {
  throw notFound(what);
}

/** Dispatches `/_control/{subPath}`. */
export async function handleControl(
  sb: AmazonSandbox,
  subPath: string,
  method: string,
  query: URLSearchParams,
  body: unknown,
): Promise<Reply> {
  const path = subPath.replace(/\/+$/, "");
  if (path === "idle" && method === "POST") {
    const timeoutMs = Number(objectBody(body).timeoutMs ?? 10_000);
    const idle = await sb.waitForIdle(timeoutMs);
    return { status: idle ? 200 : 504, json: { idle, pending: sb.scheduler.pending } };
  }
  let pathMatched = false;
  for (const [routeMethod, pattern, handler, status] of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (routeMethod !== method) continue;
    const params = match.slice(1).map((s) => decodeURIComponent(s ?? ""));
    const result = handler(sb, { method, params, query, body });
    return { status: status ?? 200, json: result };
  }
  if (pathMatched) throw new ControlError(405, "method_not_allowed", `${method} not allowed`);
  throw notFound(`control route /_control/${path}`);
}
