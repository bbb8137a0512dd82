/** `/_control/…`: the JSON control API (see README.md for every route). */
import type { AppRec, AppSeed } from "./apps";
import { ControlError, badRequest, notFound } from "./errors";
import { FaultError, type FaultRule } from "./faults";
import type { HttpResult } from "./http-util";
import { orderPayload } from "./payloads";
import { objectBody, resolveOrder } from "./refs";
import type { Sandbox, SandboxSeed } from "./sandbox";
import type { ShopState, SubscriptionSeed } from "./state";
import { subscriptionsFromToml } from "./toml";
import { restTopic } from "./topics";
import { subscriptionSummary } from "./webhook-subscriptions";
import type { DeliveryConfig } from "./webhooks";

type Request = {
  method: string;
  params: string[];
  query: URLSearchParams;
  body: unknown;
};
type Handler = (sb: Sandbox, req: Request, baseUrl: string) => HttpResult | Promise<HttpResult>;

const ok = (body: unknown, status = 200): HttpResult => ({ status, body });
const SHOP = "([^/]+)";

export function shopSummary(shop: ShopState, baseUrl: string) {
  return {
    domain: shop.domain,
    name: shop.name,
    accessToken: shop.accessToken,
    accessScopes: shop.accessScopes,
    appInstalled: shop.installation !== null,
    graphqlUrl: `${baseUrl}/${shop.domain}/admin/api/2026-10/graphql.json`,
    storefrontUrl: `${baseUrl}/${shop.domain}/storefront`,
    locations: shop
      .orderedLocations()
      .map((l) => ({ id: `gid://shopify/Location/${l.id}`, name: l.name })),
  };
}

function subscriptionBody(input: unknown) {
  const body = objectBody(input);
  if (typeof body.secret !== "string") throw badRequest("secret is required");
  if (typeof body.toml === "string") {
    if (typeof body.baseUrl !== "string") throw badRequest("baseUrl (the app's URL) is required");
    return { secret: body.secret, subscriptions: subscriptionsFromToml(body.toml, body.baseUrl) };
  }
  if (!Array.isArray(body.subscriptions)) throw badRequest("subscriptions must be an array");
  return { secret: body.secret, subscriptions: body.subscriptions as SubscriptionSeed[] };
}

function publicSubscriptions(list: { id: string; topics: string[]; address: string }[]) {
  return list.map(({ id, topics, address }) => ({ id, topics, address }));
}

/** The app without its secret, and where it is installed. */
function appSummary(sb: Sandbox, app: AppRec | null) {
  if (!app) return null;
  return {
    clientId: app.clientId,
    title: app.title,
    scopes: app.scopes,
    subscriptions: publicSubscriptions(app.subscriptions),
    installOnTokenExchange: app.installOnTokenExchange,
    accessTokenTtlSeconds: app.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: app.refreshTokenTtlSeconds,
    onlineTokenTtlSeconds: app.onlineTokenTtlSeconds,
    installedOn: [...sb.shops.values()].filter((s) => s.installation).map((s) => s.domain),
  };
}

function appState(sb: Sandbox, domain: string) {
  return { ...sb.appInstallation(domain), tokenRequests: sb.shop(domain).tokenRequestLog };
}

const routes: [string, RegExp, Handler][] = [
  ["GET", /^health$/, (sb) => ok({ ok: true, shops: [...sb.shops.keys()] })],
  [
    "POST",
    /^reset$/,
    (sb, req) => {
      sb.reset(objectBody(req.body).reseed !== false);
      return ok({ ok: true, shops: [...sb.shops.keys()] });
    },
  ],
  [
    "POST",
    /^seed$/,
    (sb, req, base) => {
      const shops = sb.applySeed(req.body as SandboxSeed);
      return ok({ shops: shops.map((s) => shopSummary(s, base)) }, 201);
    },
  ],
  ["GET", /^config$/, (sb) => ok({ timeScale: sb.timeScale, delivery: sb.webhooks.config })],
  [
    "POST",
    /^config$/,
    (sb, req) => {
      const body = objectBody(req.body);
      if (body.timeScale !== undefined) {
        if (typeof body.timeScale !== "number" || !(body.timeScale > 0)) {
          throw badRequest("timeScale must be a positive number");
        }
        sb.timeScale = body.timeScale;
      }
      if (body.rngSeed !== undefined) {
        if (body.rngSeed !== null && typeof body.rngSeed !== "number") {
          throw badRequest("rngSeed must be a number or null");
        }
        sb.setRngSeed(body.rngSeed ?? undefined);
      }
      return ok({ timeScale: sb.timeScale, delivery: sb.webhooks.config });
    },
  ],
  [
    "GET",
    /^shops$/,
    (sb, _r, base) => ok({ shops: [...sb.shops.values()].map((s) => shopSummary(s, base)) }),
  ],
  [
    "POST",
    /^shops$/,
    (sb, req, base) => {
      const shop = sb.createShop(objectBody(req.body) as never);
      return ok({ ...shopSummary(shop, base), state: shop.snapshot() }, 201);
    },
  ],
  [
    "DELETE",
    new RegExp(`^shops/${SHOP}$`),
    (sb, req) => {
      sb.deleteShop(param(req, 0));
      return ok({ ok: true });
    },
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}$`),
    (sb, req, base) => ok(shopSummary(sb.shop(param(req, 0)), base)),
  ],
  ["GET", new RegExp(`^shops/${SHOP}/state$`), (sb, req) => ok(sb.shop(param(req, 0)).snapshot())],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/mutations$`),
    (sb, req) => ok({ mutations: sb.shop(param(req, 0)).mutationLog }),
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/levels/history$`),
    (sb, req) => {
      const since = req.query.get("since");
      const sku = req.query.get("sku");
      if (since !== null && !Number.isFinite(Number(since))) {
        throw badRequest("since must be epoch milliseconds");
      }
      const domain = param(req, 0);
      return ok({
        history: sb.levelHistory(domain, {
          ...(since === null ? {} : { since: Number(since) }),
          ...(sku === null ? {} : { sku }),
        }),
        dropped: sb.shop(domain).levelHistoryDropped,
      });
    },
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/requests$`),
    (sb, req) => ok({ requests: sb.shop(param(req, 0)).requestLog }),
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/events$`),
    (sb, req) => {
      const topic = req.query.get("topic");
      const events = sb
        .shop(param(req, 0))
        .events.filter((e) => topic === null || e.topic === topic)
        .map((e) => ({
          eventId: e.eventId,
          topic: e.topic,
          triggeredAt: e.triggeredAt.toISOString(),
          payload: e.payload,
        }));
      return ok({ events });
    },
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/deliveries$`),
    (sb, req) => {
      const topic = req.query.get("topic");
      const deliveries = sb
        .deliveries(param(req, 0))
        .filter((d) => topic === null || d.topic === topic);
      return ok({ deliveries });
    },
  ],
  ["GET", /^deliveries$/, (sb) => ok({ deliveries: sb.deliveries() })],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/orders$`),
    (sb, req) => {
      const shop = sb.shop(param(req, 0));
      return ok({ orders: shop.snapshot().orders });
    },
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/orders/([^/]+)$`),
    (sb, req) => {
      const shop = sb.shop(param(req, 0));
      return ok({ order: orderPayload(shop, resolveOrder(shop, param(req, 1))) });
    },
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/orders/([^/]+)/(fulfill|cancel|refund|edit)$`),
    (sb, req) => {
      const [domain, order, action] = [param(req, 0), param(req, 1), param(req, 2)];
      switch (action) {
        case "fulfill":
          return ok(sb.fulfillOrder(domain, order, req.body), 201);
        case "cancel":
          return ok(sb.cancelOrder(domain, order, req.body));
        case "refund":
          return ok(sb.refundOrder(domain, order, req.body), 201);
        default:
          return ok(sb.editOrder(domain, order, req.body));
      }
    },
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/orders/([^/]+)/fulfillments/([^/]+)/cancel$`),
    (sb, req) => ok(sb.cancelFulfillment(param(req, 0), param(req, 1), param(req, 2))),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/checkout$`),
    (sb, req) => ok({ order: sb.checkout(param(req, 0), req.body) }, 201),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/inventory/(adjust|set|activate)$`),
    (sb, req) => {
      const domain = param(req, 0);
      switch (param(req, 1)) {
        case "adjust":
          return ok(sb.adjustInventory(domain, req.body));
        case "set":
          return ok(sb.setInventory(domain, req.body));
        default:
          return ok(sb.activateInventory(domain, req.body), 201);
      }
    },
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/products$`),
    (sb, req) => ok({ product: sb.createProduct(param(req, 0), req.body) }, 201),
  ],
  [
    "DELETE",
    new RegExp(`^shops/${SHOP}/products/([^/]+)$`),
    (sb, req) => ok(sb.deleteProduct(param(req, 0), param(req, 1))),
  ],
  [
    "PATCH",
    new RegExp(`^shops/${SHOP}/variants/([^/]+)$`),
    (sb, req) => ok({ product: sb.updateVariant(param(req, 0), param(req, 1), req.body) }),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/locations$`),
    (sb, req) => ok({ location: sb.createLocation(param(req, 0), req.body) }, 201),
  ],
  [
    "PATCH",
    new RegExp(`^shops/${SHOP}/locations/([^/]+)$`),
    (sb, req) => ok({ location: sb.updateLocation(param(req, 0), param(req, 1), req.body) }),
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/subscriptions$`),
    (sb, req) => ok({ subscriptions: publicSubscriptions(sb.shop(param(req, 0)).subscriptions) }),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/subscriptions$`),
    (sb, req) => {
      const list = sb.setShopSubscriptions(param(req, 0), subscriptionBody(req.body));
      return ok({ subscriptions: publicSubscriptions(list) });
    },
  ],
  [
    "GET",
    /^subscriptions$/,
    (sb) => ok({ subscriptions: publicSubscriptions(sb.webhooks.appSubscriptions) }),
  ],
  [
    "POST",
    /^subscriptions$/,
    (sb, req) =>
      ok({
        subscriptions: publicSubscriptions(sb.setAppSubscriptions(subscriptionBody(req.body))),
      }),
  ],
  ["GET", /^app$/, (sb) => ok({ app: appSummary(sb, sb.app) })],
  [
    "POST",
    /^app$/,
    (sb, req) => ok({ app: appSummary(sb, sb.configureApp(objectBody(req.body) as AppSeed)) }),
  ],
  ["GET", new RegExp(`^shops/${SHOP}/app$`), (sb, req) => ok(appState(sb, param(req, 0)))],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/app/install$`),
    (sb, req) => {
      const body = objectBody(req.body);
      sb.installApp(param(req, 0), { scopes: body.scopes });
      return ok(appState(sb, param(req, 0)));
    },
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/app/uninstall$`),
    (sb, req) => ok(sb.uninstallApp(param(req, 0))),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/app/session-token$`),
    (sb, req) => ok(sb.sessionToken(param(req, 0), objectBody(req.body)), 201),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/app/expire-tokens$`),
    (sb, req) => ok(sb.expireAppTokens(param(req, 0))),
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/webhook-subscriptions$`),
    (sb, req) => {
      const topicParam = req.query.get("topic");
      const app = req.query.get("app");
      const topic = topicParam === null ? null : (restTopic(topicParam) ?? topicParam);
      const subscriptions = sb
        .webhookSubscriptions(param(req, 0))
        .filter((s) => (topic === null || s.topic === topic) && (app === null || s.owner === app))
        .map(subscriptionSummary);
      return ok({ subscriptions });
    },
  ],
  [
    "DELETE",
    new RegExp(`^shops/${SHOP}/webhook-subscriptions/([^/]+)$`),
    (sb, req) => ok(sb.deleteWebhookSubscription(param(req, 0), param(req, 1))),
  ],
  ["GET", /^webhooks\/config$/, (sb) => ok(sb.webhooks.config)],
  [
    "POST",
    /^webhooks\/config$/,
    (sb, req) => {
      const { rngSeed, ...config } = objectBody(req.body);
      if (rngSeed !== undefined) {
        if (rngSeed !== null && typeof rngSeed !== "number") {
          throw badRequest("rngSeed must be a number or null");
        }
        sb.setRngSeed(rngSeed ?? undefined);
      }
      return ok(sb.configureDelivery(config as Partial<DeliveryConfig>));
    },
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/webhooks/config$`),
    (sb, req) => ok(sb.webhooks.configFor(sb.shop(param(req, 0)))),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/webhooks/config$`),
    (sb, req) =>
      ok(sb.configureDelivery(objectBody(req.body) as Partial<DeliveryConfig>, param(req, 0))),
  ],
  ["POST", /^webhooks\/pause$/, (sb) => ok(sb.configureDelivery({ paused: true }))],
  ["POST", /^webhooks\/resume$/, (sb) => ok(sb.configureDelivery({ paused: false }))],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/webhooks/(pause|resume)$`),
    (sb, req) => ok(sb.configureDelivery({ paused: param(req, 1) === "pause" }, param(req, 0))),
  ],
  [
    "POST",
    /^webhooks\/idle$/,
    async (sb, req) => {
      const body = objectBody(req.body);
      const timeoutMs = typeof body.timeoutMs === "number" ? body.timeoutMs : 10_000;
      const idle = await sb.waitForWebhooksIdle(timeoutMs);
      return ok({ idle, ...sb.webhooks.pendingCount() }, idle ? 200 : 504);
    },
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/faults$`),
    (sb, req) => {
      const shop = sb.shop(param(req, 0));
      return ok({ faults: shop.faults.list(), latency: shop.faults.latency });
    },
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/faults$`),
    (sb, req) =>
      ok({ fault: sb.shop(param(req, 0)).faults.add(objectBody(req.body) as FaultRule) }, 201),
  ],
  [
    "DELETE",
    new RegExp(`^shops/${SHOP}/faults$`),
    (sb, req) => {
      sb.shop(param(req, 0)).faults.clear();
      return ok({ ok: true });
    },
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/latency$`),
    (sb, req) => {
      const body = objectBody(req.body);
      const shop = sb.shop(param(req, 0));
      shop.faults.setLatency(Number(body.minMs ?? 0), Number(body.maxMs ?? body.minMs ?? 0));
      return ok({ latency: shop.faults.latency });
    },
  ],
  [
    "GET",
    new RegExp(`^shops/${SHOP}/throttle$`),
    (sb, req) => ok(sb.shop(param(req, 0)).bucket.status()),
  ],
  [
    "POST",
    new RegExp(`^shops/${SHOP}/throttle$`),
    (sb, req) => {
      const body = objectBody(req.body);
      const shop = sb.shop(param(req, 0));
      const num = (value: unknown, name: string): number | undefined => {
        if (value === undefined) return undefined;
        if (typeof value !== "number" || !(value >= 0)) throw badRequest(`${name} must be >= 0`);
        return value;
      };
      const maximumAvailable = num(body.maximumAvailable, "maximumAvailable");
      const restoreRate = num(body.restoreRate, "restoreRate");
      const currentlyAvailable = num(body.currentlyAvailable, "currentlyAvailable");
      shop.bucket.configure({
        ...(maximumAvailable === undefined ? {} : { maximumAvailable }),
        ...(restoreRate === undefined ? {} : { restoreRate }),
      });
      if (currentlyAvailable !== undefined) shop.bucket.force(currentlyAvailable);
      return ok(shop.bucket.status());
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
  let pathMatched = false;
  for (const [routeMethod, pattern, handler] of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (routeMethod !== method) continue;
    const params = match.slice(1).map((p) => decodeURIComponent(p ?? ""));
    try {
      return await handler(sb, { method, params, query, body }, baseUrl);
    } catch (error) {
      if (error instanceof FaultError) throw badRequest(error.message);
      throw error;
    }
  }
  if (pathMatched) throw new ControlError(405, "method_not_allowed", `${method} not allowed`);
  throw notFound(`control route /_control/${path}`);
}
