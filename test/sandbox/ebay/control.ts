/**
 * `/_control/…`: the JSON control API of the local eBay (README.md lists every route). Each route
 * calls the EbaySandbox function of the same name with the same body.
 */
import { ControlError, badRequest, notFound } from "./errors";
import type { EbayResult } from "./http";
import { orderPayload } from "./payloads";
import type { EbaySandbox } from "./sandbox";

type Request = { method: string; params: string[]; query: URLSearchParams; body: unknown };
type Handler = (sb: EbaySandbox, req: Request, baseUrl: string) => EbayResult | Promise<EbayResult>;

const ok = (body: unknown, status = 200): EbayResult => ({ status, body });
const p = (req: Request, i: number): string => req.params[i] ?? "";
const body = (req: Request): Record<string, unknown> =>
  typeof req.body === "object" && req.body !== null && !Array.isArray(req.body)
    ? (req.body as Record<string, unknown>)
    : {};

function summary(sb: EbaySandbox, baseUrl: string) {
  return {
    url: baseUrl,
    apps: [...sb.apps.values()].map((a) => ({ ...a })),
    sellers: [...sb.sellers.values()].map((s) => ({ ...s })),
    consent: sb.consent,
    clock: sb.clockState(),
    settings: sb.settings,
    push: sb.push.config,
    timeScale: sb.timeScale,
  };
}

const routes: [string, RegExp, Handler][] = [
  [
    "GET",
    /^health$/,
    (sb) => ok({ ok: true, sellers: [...sb.sellers.values()].map((s) => s.username) }),
  ],
  ["GET", /^state$/, (sb, _r, base) => ok(summary(sb, base))],
  [
    "POST",
    /^reset$/,
    (sb, req) => {
      sb.reset(body(req).reseed !== false);
      return ok({ ok: true });
    },
  ],
  ["POST", /^seed$/, (sb, req) => ok(sb.applySeed(req.body), 201)],
  [
    "GET",
    /^config$/,
    (sb) => ok({ timeScale: sb.timeScale, settings: sb.settings, push: sb.push.config }),
  ],
  [
    "POST",
    /^config$/,
    (sb, req) => {
      const { timeScale, rngSeed, push, ...settings } = body(req);
      if (timeScale !== undefined) {
        if (typeof timeScale !== "number" || !(timeScale > 0))
          throw badRequest("timeScale must be > 0");
        sb.timeScale = timeScale;
      }
      if (rngSeed !== undefined) {
        if (rngSeed !== null && typeof rngSeed !== "number")
          throw badRequest("rngSeed must be a number or null");
        sb.setRngSeed(rngSeed ?? undefined);
      }
      if (push !== undefined) sb.configurePush(push);
      sb.configure(settings);
      return ok({ timeScale: sb.timeScale, settings: sb.settings, push: sb.push.config });
    },
  ],
  ["GET", /^apps$/, (sb) => ok({ apps: [...sb.apps.values()] })],
  ["POST", /^apps$/, (sb, req) => ok({ app: sb.createApp(req.body) }, 201)],
  ["GET", /^consent$/, (sb) => ok(sb.consent)],
  ["POST", /^consent$/, (sb, req) => ok(sb.configureConsent(req.body))],
  ["GET", /^sellers$/, (sb) => ok({ sellers: [...sb.sellers.values()] })],
  ["POST", /^sellers$/, (sb, req) => ok({ seller: sb.createSeller(req.body) }, 201)],
  ["GET", /^sellers\/([^/]+)$/, (sb, req) => ok({ seller: sb.seller(p(req, 0)) })],
  [
    "POST",
    /^sellers\/([^/]+)\/inventory$/,
    (sb, req) => {
      const { item, offers } = sb.addInventoryItem(p(req, 0), req.body);
      return ok(
        {
          sku: item.sku,
          offers: offers.map((o) => ({ offerId: o.offerId, listingId: o.listingId })),
        },
        201,
      );
    },
  ],
  [
    "POST",
    /^sellers\/([^/]+)\/trading-listings$/,
    (sb, req) => ok({ listing: sb.addTradingListing(p(req, 0), req.body) }, 201),
  ],
  ["GET", /^sellers\/([^/]+)\/listings$/, (sb, req) => ok({ listings: sb.listings(p(req, 0)) })],
  [
    "GET",
    /^sellers\/([^/]+)\/listings\/([^/]+)$/,
    (sb, req) => ok({ listing: sb.listing(p(req, 0), p(req, 1)) }),
  ],
  ["POST", /^sellers\/([^/]+)\/checkout$/, (sb, req) => ok(sb.checkout(p(req, 0), req.body), 201)],
  ["GET", /^sellers\/([^/]+)\/orders$/, (sb, req) => ok({ orders: sb.orderList(p(req, 0)) })],
  [
    "POST",
    /^sellers\/([^/]+)\/account-deletion$/,
    (sb, req) => ok(sb.accountDeletion(p(req, 0), req.body)),
  ],
  [
    "GET",
    /^revisions$/,
    (sb, req) =>
      ok({
        revisions: sb.revisionLog({
          ...(req.query.get("seller") ? { seller: req.query.get("seller") as string } : {}),
          ...(req.query.get("listingId")
            ? { listingId: req.query.get("listingId") as string }
            : {}),
          ...(req.query.get("sku") ? { sku: req.query.get("sku") as string } : {}),
        }),
      }),
  ],
  ["GET", /^orders$/, (sb) => ok({ orders: sb.orderList() })],
  [
    "GET",
    /^orders\/([^/]+)$/,
    (sb, req) => {
      const order = sb.order(p(req, 0));
      return ok({ order: orderPayload(order, sb.sellerById(order.sellerId), true) });
    },
  ],
  [
    "POST",
    /^orders\/([^/]+)\/cancel$/,
    (sb, req) => ok({ order: sb.cancelOrder(p(req, 0), req.body) }),
  ],
  [
    "POST",
    /^orders\/([^/]+)\/cancel\/approve$/,
    (sb, req) => ok({ order: sb.approveCancellation(p(req, 0)) }),
  ],
  [
    "POST",
    /^orders\/([^/]+)\/cancel\/reject$/,
    (sb, req) => ok({ order: sb.rejectCancellation(p(req, 0)) }),
  ],
  ["POST", /^orders\/([^/]+)\/ship$/, (sb, req) => ok({ order: sb.shipOrder(p(req, 0)) })],
  [
    "GET",
    /^notifications$/,
    (sb, req) => ok({ notifications: sb.notifications(topicFilter(req)) }),
  ],
  ["GET", /^deliveries$/, (sb, req) => ok({ deliveries: sb.deliveries(topicFilter(req)) })],
  ["GET", /^destinations$/, (sb) => ok({ destinations: [...sb.destinations.values()] })],
  ["GET", /^subscriptions$/, (sb) => ok({ subscriptions: [...sb.subscriptions.values()] })],
  ["GET", /^push$/, (sb) => ok(sb.push.config)],
  ["POST", /^push$/, (sb, req) => ok(sb.configurePush(req.body))],
  ["POST", /^push\/pause$/, (sb) => ok(sb.configurePush({ paused: true }))],
  ["POST", /^push\/resume$/, (sb) => ok(sb.configurePush({ paused: false }))],
  [
    "POST",
    /^idle$/,
    async (sb, req) => {
      const timeoutMs =
        typeof body(req).timeoutMs === "number" ? (body(req).timeoutMs as number) : 10_000;
      const idle = await sb.waitForIdle(timeoutMs);
      return ok({ idle, ...sb.push.pendingCount() }, idle ? 200 : 504);
    },
  ],
  ["POST", /^keys\/rotate$/, (sb) => ok(sb.rotateSigningKey(), 201)],
  [
    "GET",
    /^keys$/,
    (sb) => ok({ keys: sb.signingKeys.map((k) => ({ kid: k.kid, createdAt: k.createdAt })) }),
  ],
  ["GET", /^tokens$/, (sb) => ok({ tokens: sb.tokens.list() })],
  ["POST", /^tokens\/user$/, (sb, req) => ok(sb.issueUserTokens(req.body), 201)],
  ["POST", /^tokens\/application$/, (sb, req) => ok(sb.issueApplicationToken(req.body), 201)],
  ["POST", /^tokens\/expire$/, (sb, req) => ok(sb.expireTokens(req.body))],
  ["POST", /^tokens\/revoke$/, (sb, req) => ok(sb.revokeTokens(req.body))],
  ["GET", /^clock$/, (sb) => ok(sb.clockState())],
  ["POST", /^clock\/advance$/, (sb, req) => ok(sb.advanceClock(req.body))],
  ["GET", /^faults$/, (sb) => ok({ faults: sb.faults.list() })],
  ["POST", /^faults$/, (sb, req) => ok({ fault: sb.addFault(req.body) }, 201)],
  [
    "DELETE",
    /^faults$/,
    (sb) => {
      sb.faults.clear();
      return ok({ ok: true });
    },
  ],
  [
    "GET",
    /^call-limits$/,
    (sb) => ok({ limits: sb.limiter.limits, usage: sb.limiter.usage(sb.clock.dayKey()) }),
  ],
  ["POST", /^call-limits$/, (sb, req) => ok({ limits: sb.setCallLimits(req.body) })],
  [
    "GET",
    /^requests$/,
    (sb, req) => {
      const operation = req.query.get("operation");
      return ok({
        requests: sb.requestLog.filter((r) => operation === null || r.operation === operation),
      });
    },
  ],
];

function topicFilter(req: Request): { topic?: string } {
  const topic = req.query.get("topic");
  return topic === null ? {} : { topic };
}

/** Dispatches `/_control/{subPath}`. */
export async function handleControl(
  sb: EbaySandbox,
  subPath: string,
  method: string,
  query: URLSearchParams,
  input: unknown,
  baseUrl: string,
): Promise<EbayResult> {
  const path = subPath.replace(/\/+$/, "");
  let pathMatched = false;
  for (const [routeMethod, pattern, handler] of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (routeMethod !== method) continue;
    const params = match.slice(1).map((v) => decodeURIComponent(v ?? ""));
    return handler(sb, { method, params, query, body: input }, baseUrl);
  }
  if (pathMatched) throw new ControlError(405, "method_not_allowed", `${method} not allowed`);
  throw notFound(`control route /_control/${path}`);
}
