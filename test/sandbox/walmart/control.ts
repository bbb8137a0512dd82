/** `/_control/…`: the JSON control API (see README.md for every route). */
import { ControlError, badRequest, notFound } from "./errors";
import type { ApiFaultRule } from "./faults";
import type { HttpResult } from "./http";
import type { CancelInput, PlaceOrderInput, Sandbox, SandboxSeed } from "./sandbox";
import {
  itemView,
  type ItemSeed,
  type SellerSeed,
  type SellerState,
  type SubscriptionInput,
} from "./state";
import type { DeliveryConfig, DeliveryFaultRule } from "./webhooks";

type Request = {
  method: string;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
};
type Handler = (sb: Sandbox, req: Request, baseUrl: string) => HttpResult | Promise<HttpResult>;

const ok = (body: unknown, status = 200): HttpResult => ({ status, body });
const P = "([^/]+)";

export function sellerSummary(seller: SellerState) {
  return {
    partnerId: seller.partnerId,
    sellerId: seller.sellerId,
    name: seller.name,
    clientId: seller.clientId,
    clientSecret: seller.clientSecret,
    keysRevoked: seller.keysRevoked,
    shipNodes: seller.shipNodes.map((n) => ({ ...n })),
    items: seller.items.size,
    orders: seller.orders.size,
    feeds: seller.feeds.size,
    subscriptions: seller.subscriptions.size,
  };
}

function num(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw badRequest(`${name} must be a number`);
  return value;
}

function str(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw badRequest(`${name} is required`);
  return value;
}

const routes: [string, RegExp, Handler][] = [
  [
    "GET",
    /^health$/,
    (sb) => ok({ ok: true, sellers: [...sb.sellers.keys()], ...sb.idleStatus() }),
  ],
  [
    "POST",
    /^reset$/,
    (sb, req) => {
      sb.reset(req.body.reseed !== false);
      return ok({ ok: true, sellers: [...sb.sellers.keys()] });
    },
  ],
  [
    "POST",
    /^seed$/,
    (sb, req) => ok({ sellers: sb.applySeed(req.body as SandboxSeed).map(sellerSummary) }, 201),
  ],
  [
    "GET",
    /^config$/,
    (sb) =>
      ok({
        timeScale: sb.timeScale,
        now: new Date(sb.now()).toISOString(),
        options: sb.options,
        delivery: sb.webhooks.config,
      }),
  ],
  [
    "POST",
    /^config$/,
    (sb, req) => {
      const { timeScale, rngSeed } = req.body;
      if (timeScale !== undefined) {
        if (typeof timeScale !== "number" || !(timeScale > 0))
          throw badRequest("timeScale must be a positive number");
        sb.timeScale = timeScale;
      }
      if (rngSeed !== undefined) {
        if (rngSeed !== null && typeof rngSeed !== "number")
          throw badRequest("rngSeed must be a number or null");
        sb.setRngSeed(rngSeed ?? undefined);
      }
      return ok({ timeScale: sb.timeScale, delivery: sb.webhooks.config });
    },
  ],
  [
    "POST",
    /^clock\/advance$/,
    (sb, req) => ok({ now: new Date(sb.advanceClock(num(req.body.ms, "ms") ?? 0)).toISOString() }),
  ],
  ["GET", /^sellers$/, (sb) => ok({ sellers: [...sb.sellers.values()].map(sellerSummary) })],
  [
    "POST",
    /^sellers$/,
    (sb, req) => ok(sellerSummary(sb.createSeller(req.body as SellerSeed)), 201),
  ],
  ["GET", new RegExp(`^sellers/${P}$`), (sb, req) => ok(sellerSummary(sb.seller(param(req, 0))))],
  [
    "DELETE",
    new RegExp(`^sellers/${P}$`),
    (sb, req) => {
      sb.deleteSeller(param(req, 0));
      return ok({ ok: true });
    },
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/keys/revoke$`),
    (sb, req) => {
      sb.revokeKeys(param(req, 0));
      return ok(sellerSummary(sb.seller(param(req, 0))));
    },
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/keys/restore$`),
    (sb, req) =>
      ok(
        sb.restoreKeys(param(req, 0), {
          ...(typeof req.body.clientId === "string" ? { clientId: req.body.clientId } : {}),
          ...(typeof req.body.clientSecret === "string"
            ? { clientSecret: req.body.clientSecret }
            : {}),
        }),
      ),
  ],
  [
    "POST",
    /^tokens\/expire$/,
    (sb, req) =>
      ok({
        expired: sb.expireTokens(
          typeof req.body.partnerId === "string" ? req.body.partnerId : undefined,
        ),
      }),
  ],
  [
    "GET",
    /^tokens$/,
    (sb, req) => ok({ tokens: sb.tokenList(req.query.get("partnerId") ?? undefined) }),
  ],
  // items and inventory
  [
    "GET",
    new RegExp(`^sellers/${P}/items$`),
    (sb, req) => ok({ items: [...sb.seller(param(req, 0)).items.values()].map(itemView) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/items$`),
    (sb, req) => ok({ item: sb.createItem(param(req, 0), req.body as ItemSeed) }, 201),
  ],
  [
    "GET",
    new RegExp(`^sellers/${P}/items/${P}$`),
    (sb, req) => ok({ item: sb.item(param(req, 0), param(req, 1)) }),
  ],
  [
    "PATCH",
    new RegExp(`^sellers/${P}/items/${P}$`),
    (sb, req) => ok({ item: sb.updateItem(param(req, 0), param(req, 1), req.body as never) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/items/${P}/unpublish$`),
    (sb, req) => ok({ item: sb.unpublishItem(param(req, 0), param(req, 1), req.body as never) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/items/${P}/publish$`),
    (sb, req) => ok({ item: sb.publishItem(param(req, 0), param(req, 1)) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/inventory$`),
    (sb, req) => {
      const pid = param(req, 0);
      const write = sb.setInventory(pid, {
        sku: str(req.body.sku, "sku"),
        quantity: num(req.body.quantity, "quantity") ?? Number.NaN,
        ...(typeof req.body.shipNode === "string" ? { shipNode: req.body.shipNode } : {}),
        source: "control",
      });
      return ok({ write, item: sb.item(pid, write.sku) });
    },
  ],
  [
    "GET",
    new RegExp(`^sellers/${P}/inventory-writes$`),
    (sb, req) =>
      ok({ writes: sb.inventoryWriteLog(param(req, 0), req.query.get("sku") ?? undefined) }),
  ],
  [
    "GET",
    /^inventory-writes$/,
    (sb, req) => ok({ writes: sb.inventoryWriteLog(undefined, req.query.get("sku") ?? undefined) }),
  ],
  // orders
  [
    "GET",
    new RegExp(`^sellers/${P}/orders$`),
    (sb, req) => ok({ orders: sb.orders(param(req, 0)) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/orders$`),
    (sb, req) => ok({ order: sb.placeOrder(param(req, 0), req.body as PlaceOrderInput) }, 201),
  ],
  [
    "GET",
    new RegExp(`^sellers/${P}/orders/${P}$`),
    (sb, req) => ok({ order: sb.order(param(req, 0), param(req, 1)) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/orders/${P}/acknowledge$`),
    (sb, req) => ok({ order: sb.acknowledgeOrder(param(req, 0), param(req, 1)) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/orders/${P}/cancel$`),
    (sb, req) => ok({ order: sb.cancelLines(param(req, 0), param(req, 1), req.body as never) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/orders/${P}/lines/${P}/cancel$`),
    (sb, req) =>
      ok({
        order: sb.cancelLine(param(req, 0), param(req, 1), param(req, 2), req.body as CancelInput),
      }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/orders/${P}/lines/${P}/ship$`),
    (sb, req) =>
      ok({ order: sb.shipLine(param(req, 0), param(req, 1), param(req, 2), req.body as never) }),
  ],
  // feeds
  [
    "GET",
    new RegExp(`^sellers/${P}/feeds$`),
    (sb, req) => ok({ feeds: sb.feedList(param(req, 0)) }),
  ],
  [
    "POST",
    /^feeds\/complete$/,
    (sb, req) =>
      ok({
        feeds: sb.completeFeeds(
          typeof req.body.partnerId === "string" ? req.body.partnerId : undefined,
        ),
      }),
  ],
  // webhooks
  [
    "GET",
    new RegExp(`^sellers/${P}/subscriptions$`),
    (sb, req) => ok({ subscriptions: sb.subscriptions(param(req, 0)) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/subscriptions$`),
    (sb, req) =>
      ok(
        {
          subscriptions: sb.createSubscriptions(
            param(req, 0),
            (req.body.events ?? [req.body]) as SubscriptionInput[],
          ),
        },
        201,
      ),
  ],
  [
    "GET",
    /^events$/,
    (sb, req) =>
      ok({
        events: sb.eventLog({
          ...(req.query.get("partnerId")
            ? { partnerId: req.query.get("partnerId") as string }
            : {}),
          ...(req.query.get("eventType")
            ? { eventType: req.query.get("eventType") as string }
            : {}),
        }),
      }),
  ],
  [
    "GET",
    /^deliveries$/,
    (sb, req) =>
      ok({
        deliveries: sb.deliveries({
          ...(req.query.get("partnerId")
            ? { partnerId: req.query.get("partnerId") as string }
            : {}),
          ...(req.query.get("eventType")
            ? { eventType: req.query.get("eventType") as string }
            : {}),
        }),
      }),
  ],
  [
    "GET",
    /^oauth-requests$/,
    (sb) => ok({ requests: sb.webhooks.oauthRequests.map((r) => ({ ...r })) }),
  ],
  ["GET", /^webhooks\/config$/, (sb) => ok(sb.webhooks.config)],
  [
    "POST",
    /^webhooks\/config$/,
    (sb, req) => {
      const { rngSeed, ...config } = req.body;
      if (rngSeed !== undefined) {
        if (rngSeed !== null && typeof rngSeed !== "number")
          throw badRequest("rngSeed must be a number or null");
        sb.setRngSeed(rngSeed ?? undefined);
      }
      return ok(sb.configureDelivery(config as Partial<DeliveryConfig>));
    },
  ],
  ["POST", /^webhooks\/pause$/, (sb) => ok(sb.configureDelivery({ paused: true }))],
  ["POST", /^webhooks\/resume$/, (sb) => ok(sb.configureDelivery({ paused: false }))],
  ["GET", /^webhooks\/faults$/, (sb) => ok({ faults: sb.webhooks.listFaults() })],
  [
    "POST",
    /^webhooks\/faults$/,
    (sb, req) => ok({ fault: sb.addDeliveryFault(req.body as DeliveryFaultRule) }, 201),
  ],
  [
    "DELETE",
    /^webhooks\/faults$/,
    (sb) => {
      sb.webhooks.clearFaults();
      return ok({ ok: true });
    },
  ],
  [
    "POST",
    /^idle$/,
    async (sb, req) => {
      const timeoutMs = num(req.body.timeoutMs, "timeoutMs") ?? 10_000;
      const idle = await sb.waitForIdle(timeoutMs);
      return ok({ idle, ...sb.idleStatus() }, idle ? 200 : 504);
    },
  ],
  // inspection, throttling, faults
  [
    "GET",
    /^requests$/,
    (sb, req) => {
      const pid = req.query.get("partnerId");
      return ok({
        requests: sb.requestLog.filter((r) => !pid || r.partnerId === pid),
        throttled: sb.throttledCount,
      });
    },
  ],
  [
    "GET",
    /^stats$/,
    (sb) =>
      ok({
        requests: sb.requestLog.length,
        throttled: sb.throttledCount,
        events: sb.events.length,
        ...sb.idleStatus(),
      }),
  ],
  [
    "GET",
    new RegExp(`^sellers/${P}/throttle$`),
    (sb, req) => ok({ buckets: sb.throttleStatus(param(req, 0)) }),
  ],
  [
    "POST",
    new RegExp(`^sellers/${P}/throttle$`),
    (sb, req) => {
      const { operation, ...config } = req.body;
      return ok({
        bucket: sb.configureThrottle(param(req, 0), str(operation, "operation"), config as never),
      });
    },
  ],
  ["GET", /^faults$/, (sb) => ok({ faults: sb.faults.list(sb.now()) })],
  ["POST", /^faults$/, (sb, req) => ok({ fault: sb.addFault(req.body as ApiFaultRule) }, 201)],
  [
    "DELETE",
    /^faults$/,
    (sb) => {
      sb.faults.clear();
      return ok({ ok: true });
    },
  ],
];

function param(req: Request, index: number): string {
  return req.params[index] ?? "";
}

/** Dispatches `/_control/{subPath}`. */
export async function handleControl(
  sb: Sandbox,
  subPath: string,
  method: string,
  query: URLSearchParams,
  body: unknown,
  baseUrl: string,
): Promise<HttpResult> {
  const path = subPath.replace(/\/+$/, "");
  if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
    if (!(path === "seed" && Array.isArray(body)))
      throw badRequest("the body must be a JSON object");
  }
  let pathMatched = false;
  for (const [routeMethod, pattern, handler] of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (routeMethod !== method) continue;
    const params = match.slice(1).map((p) => decodeURIComponent(p ?? ""));
    return handler(
      sb,
      { method, params, query, body: (body ?? {}) as Record<string, unknown> },
      baseUrl,
    );
  }
  if (pathMatched) throw new ControlError(405, "method_not_allowed", `${method} not allowed`);
  throw notFound(`control route /_control/${path}`);
}
