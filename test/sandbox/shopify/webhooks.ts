/**
 * Webhook delivery as Shopify does it (shopify.md §3): signed POSTs with the standard headers,
 * success = 2xx within 5 s (1 s to connect), 8 retries over ~4 hours with the original payload
 * (intervals scaled by `timeScale`), optional duplicates, delays and reordering.
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { Rng } from "./rng";
import type { EventRec, ShopState } from "./state";

export const WEBHOOK_API_VERSION = "2026-10";

/** Seconds between attempts: 8 retries, doubling, ≈ 4 hours in total. */
export const RETRY_INTERVALS_SECONDS: readonly number[] = [
  56, 113, 226, 452, 904, 1807, 3614, 7228,
];

export type DeliveryConfig = {
  /** Random delay before the first attempt, [min, max] ms. */
  delayMs: [number, number];
  /** Probability that an event is delivered a second time (same event id, new webhook id). */
  duplicateProbability: number;
  /**
   * false: first attempts go out in emission order (delays are made non-decreasing);
   * true: each delivery draws its own delay, so later events may overtake earlier ones.
   */
  reorder: boolean;
  paused: boolean;
  /** Whole response deadline and connect deadline, real milliseconds (not scaled). */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Attempts in flight at once per address. 1 gives strictly ordered arrival. */
  concurrency: number;
  /**
   * Reuse connections between attempts, as Shopify's delivery system does ("uses HTTP Keep-Alive
   * to reuse connections to the same host and endpoint", webhook best practices). On by
   * default; off gives every attempt a fresh connection.
   */
  keepAlive: boolean;
  /**
   * Probability that a delivery's first attempt is lost before reaching the app (recorded as a
   * failed attempt with `dropped: true`, nothing sent), so Shopify retries it later.
   */
  dropFirstProbability: number;
  /**
   * When the retry of a dropped first attempt is due, [min, max] ms after it; null: Shopify's
   * schedule (56 s × timeScale).
   */
  dropRetryMs: [number, number] | null;
};

export const DEFAULT_DELIVERY_CONFIG: DeliveryConfig = {
  delayMs: [0, 0],
  duplicateProbability: 0,
  reorder: false,
  paused: false,
  timeoutMs: 5000,
  connectTimeoutMs: 1000,
  concurrency: 10,
  keepAlive: true,
  dropFirstProbability: 0,
  dropRetryMs: null,
};

export type SubscriptionRec = {
  id: string;
  topics: string[];
  address: string;
  secret: string;
  includeFields: string[] | null;
  /**
   * "shop": this shop only (control API); "app": app-wide (toml); "api": created by an app through
   * the Admin API (`webhookSubscriptionCreate`).
   */
  scope: "shop" | "app" | "api";
  /** Sent as `X-Shopify-Name` when set (Admin API subscriptions may be named). */
  name?: string | null;
};

export type AttemptRec = {
  attempt: number;
  scheduledAt: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  status: number | null;
  error: string | null;
  ok: boolean;
  /** A first attempt lost on purpose (`dropFirstProbability`): never sent to the app. */
  dropped?: boolean;
};

export type DeliveryState = "pending" | "in_flight" | "delivered" | "failed";

export type DeliveryRec = {
  seq: number;
  webhookId: string;
  eventId: string;
  topic: string;
  shop: string;
  address: string;
  subscriptionId: string;
  triggeredAt: string;
  duplicate: boolean;
  state: DeliveryState;
  attempts: AttemptRec[];
  nextAttemptAt: string | null;
};

type Delivery = {
  rec: DeliveryRec;
  shop: ShopState;
  body: string;
  secret: string;
  name: string | null;
  dueAt: number;
};

export type DispatcherOptions = {
  rng: () => Rng;
  timeScale: () => number;
  config?: Partial<DeliveryConfig>;
};

export class WebhookDispatcher {
  config: DeliveryConfig;
  appSubscriptions: SubscriptionRec[] = [];
  private readonly all: Delivery[] = [];
  private readonly active = new Set<Delivery>();
  /** Pending deliveries by (due time, sequence). */
  private readonly queue = new Heap<Delivery>(
    (a, b) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.rec.seq < b.rec.seq),
  );
  /** Due deliveries waiting for a free slot at their address, in due order. */
  private readonly waiting = new Map<string, Fifo<Delivery>>();
  /** Due deliveries of a paused shop. */
  private readonly parked = new Set<Delivery>();
  private readonly inFlightByAddress = new Map<string, number>();
  private readonly requests = new Set<http.ClientRequest>();
  private readonly lastDueByAddress = new Map<string, number>();
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private seq = 0;
  private subscriptionSeq = 0;
  private closed = false;
  // With `keepAlive` (Shopify's own behaviour) attempts share pooled connections: a fresh
  // connection per attempt costs the receiver an accept, a socket and a parser per webhook, which
  // Shopify does not make it pay. A pooled socket the receiver closed just as it was reused fails
  // before any answer; that attempt is sent again once on a fresh connection (`agents.fresh`)
  // instead of counting as a failed delivery (Node's `reusedSocket` advice).
  private readonly agents = {
    pooled: {
      "http:": new http.Agent({ keepAlive: true, timeout: 30_000 }),
      "https:": new https.Agent({ keepAlive: true, timeout: 30_000 }),
    },
    fresh: {
      "http:": new http.Agent({ keepAlive: false }),
      "https:": new https.Agent({ keepAlive: false }),
    },
  };

  constructor(private readonly options: DispatcherOptions) {
    this.config = { ...DEFAULT_DELIVERY_CONFIG, ...options.config };
  }

  configFor(shop: ShopState): DeliveryConfig {
    const merged = { ...this.config, ...shop.deliveryConfig };
    merged.paused = this.config.paused || shop.deliveryConfig.paused === true;
    return merged;
  }

  subscription(
    topics: string[],
    address: string,
    secret: string,
    scope: "shop" | "app",
    includeFields?: string[],
  ): SubscriptionRec {
    if (
      !Array.isArray(topics) ||
      topics.length === 0 ||
      topics.some((t) => typeof t !== "string")
    ) {
      throw new WebhookConfigError("a subscription needs a non-empty topics array");
    }
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      throw new WebhookConfigError(`invalid address ${JSON.stringify(address)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new WebhookConfigError(`unsupported address ${address}: http(s) only`);
    }
    if (typeof secret !== "string" || secret === "") {
      throw new WebhookConfigError("a subscription needs the app's API secret");
    }
    if (
      includeFields !== undefined &&
      (!Array.isArray(includeFields) || includeFields.some((f) => typeof f !== "string"))
    ) {
      throw new WebhookConfigError("includeFields must be an array of strings");
    }
    this.subscriptionSeq += 1;
    return {
      id: `sub-${this.subscriptionSeq}`,
      topics: [...topics],
      address,
      secret,
      includeFields: includeFields ? [...includeFields] : null,
      scope,
    };
  }

  /**
   * Creates one delivery per matching subscription (plus random duplicates) and schedules.
   * `subscriptions` defaults to the shop's and the app-wide control-API ones; the sandbox passes
   * every subscription that applies to the shop (see `Sandbox.subscriptionsFor`).
   */
  enqueue(
    shop: ShopState,
    event: EventRec,
    subscriptions: readonly SubscriptionRec[] = [...shop.subscriptions, ...this.appSubscriptions],
  ): DeliveryRec[] {
    if (this.closed) return [];
    const config = this.configFor(shop);
    const rng = this.options.rng();
    const created: DeliveryRec[] = [];
    for (const subscription of subscriptions) {
      if (!subscription.topics.includes(event.topic)) continue;
      const body = subscription.includeFields
        ? JSON.stringify(pickFields(event.payload, subscription.includeFields))
        : event.body;
      const copies = rng.chance(config.duplicateProbability) ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        const delay = rng.between(config.delayMs[0], config.delayMs[1]);
        let dueAt = Date.now() + delay;
        if (!config.reorder) {
          dueAt = Math.max(dueAt, this.lastDueByAddress.get(subscription.address) ?? 0);
          this.lastDueByAddress.set(subscription.address, dueAt);
        }
        this.seq += 1;
        const rec: DeliveryRec = {
          seq: this.seq,
          webhookId: rng.uuid(),
          eventId: event.eventId,
          topic: event.topic,
          shop: shop.domain,
          address: subscription.address,
          subscriptionId: subscription.id,
          triggeredAt: event.triggeredAt.toISOString(),
          duplicate: copy > 0,
          state: "pending",
          attempts: [],
          nextAttemptAt: new Date(dueAt).toISOString(),
        };
        const delivery: Delivery = {
          rec,
          shop,
          body,
          secret: subscription.secret,
          name: subscription.name ?? null,
          dueAt,
        };
        this.all.push(delivery);
        this.active.add(delivery);
        this.queue.push(delivery);
        created.push(rec);
      }
    }
    if (created.length > 0) this.pump();
    return created;
  }

  deliveries(shopDomain?: string): DeliveryRec[] {
    return this.all
      .filter((d) => shopDomain === undefined || d.rec.shop === shopDomain)
      .map((d) => structuredClone(d.rec));
  }

  pendingCount(): { pending: number; inFlight: number } {
    let pending = 0;
    let inFlight = 0;
    for (const d of this.active) {
      if (d.rec.state === "in_flight") inFlight += 1;
      else pending += 1;
    }
    return { pending, inFlight };
  }

  isIdle(): boolean {
    return this.active.size === 0;
  }

  /** Resolves true once nothing is pending or in flight, false after `timeoutMs`. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(waiter);
    });
  }

  /** Re-evaluates pause state and timers (call after changing configuration). */
  pump(): void {
    if (this.closed) return;
    const now = Date.now();
    // pump runs on every new webhook and every finished attempt, so its cost must not grow with
    // the backlog: pending deliveries wait in a heap by (due time, sequence), due ones without a
    // free slot in a FIFO per address (they are due before anything still in the heap), those
    // of a paused shop aside until a pump finds the shop resumed.
    const configs = new Map<ShopState, DeliveryConfig>();
    const config = (shop: ShopState) => {
      let c = configs.get(shop);
      if (!c) configs.set(shop, (c = this.configFor(shop)));
      return c;
    };
    for (const d of this.parked) {
      if (!this.active.has(d)) this.parked.delete(d);
      else if (!config(d.shop).paused) {
        this.parked.delete(d);
        this.queue.push(d);
      }
    }
    const free = (d: Delivery) =>
      Math.max(1, config(d.shop).concurrency) - (this.inFlightByAddress.get(d.rec.address) ?? 0);
    const start = (d: Delivery) => {
      const address = d.rec.address;
      this.inFlightByAddress.set(address, (this.inFlightByAddress.get(address) ?? 0) + 1);
      void this.attempt(d);
    };
    // Those already due first, address by address, as many as each has slots for.
    for (const [address, fifo] of this.waiting) {
      while (fifo.size > 0) {
        const d = fifo.peek()!;
        if (!this.active.has(d) || d.rec.state !== "pending") fifo.shift();
        else if (config(d.shop).paused) this.parked.add(fifo.shift()!);
        else if (free(d) > 0) start(fifo.shift()!);
        else break;
      }
      if (fifo.size === 0) this.waiting.delete(address);
    }
    // Then whatever has come due, earliest (then lowest sequence) first.
    while (this.queue.size > 0 && this.queue.peek()!.dueAt <= now) {
      const d = this.queue.pop()!;
      if (!this.active.has(d) || d.rec.state !== "pending") continue;
      if (config(d.shop).paused) {
        this.parked.add(d);
        continue;
      }
      const fifo = this.waiting.get(d.rec.address);
      if (!fifo && free(d) > 0) start(d);
      else if (fifo) fifo.push(d);
      else this.waiting.set(d.rec.address, new Fifo(d));
    }
    const next = this.queue.peek()?.dueAt ?? Infinity;
    if (this.timer && (next === Infinity || next < this.timerAt)) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.timer && next !== Infinity) {
      this.timerAt = next;
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.pump();
        },
        Math.max(0, next - now),
      );
      this.timer.unref();
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { rec } = delivery;
    const config = this.configFor(delivery.shop);
    rec.state = "in_flight";
    const scheduledAt = rec.nextAttemptAt ?? new Date().toISOString();
    rec.nextAttemptAt = null;
    const started = Date.now();
    const dropped =
      rec.attempts.length === 0 &&
      config.dropFirstProbability > 0 &&
      this.options.rng().chance(config.dropFirstProbability);
    // Awaited either way: pump() starts attempts in a loop and must not be re-entered by one.
    const result = dropped
      ? await Promise.resolve({
          status: null,
          error: "dropped before reaching the app (simulated)",
        })
      : await this.post(delivery, config);
    const finished = Date.now();
    const inFlight = (this.inFlightByAddress.get(rec.address) ?? 1) - 1;
    if (inFlight <= 0) this.inFlightByAddress.delete(rec.address);
    else this.inFlightByAddress.set(rec.address, inFlight);
    if (this.closed) return;
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    rec.attempts.push({
      attempt: rec.attempts.length + 1,
      scheduledAt,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - started,
      status: result.status,
      error: ok ? null : (result.error ?? `HTTP ${result.status ?? "?"}`),
      ok,
      ...(dropped ? { dropped: true } : {}),
    });
    const retriesSoFar = rec.attempts.length - 1;
    if (ok) {
      rec.state = "delivered";
      this.active.delete(delivery);
    } else if (retriesSoFar < RETRY_INTERVALS_SECONDS.length) {
      const interval = (RETRY_INTERVALS_SECONDS[retriesSoFar] ?? 0) * 1000;
      const range = dropped ? config.dropRetryMs : null;
      delivery.dueAt = range
        ? finished + this.options.rng().between(range[0], range[1])
        : finished + interval * this.options.timeScale();
      rec.nextAttemptAt = new Date(delivery.dueAt).toISOString();
      rec.state = "pending";
      this.queue.push(delivery);
    } else {
      rec.state = "failed";
      this.active.delete(delivery);
    }
    this.pump();
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  private post(
    delivery: Delivery,
    config: DeliveryConfig,
    fresh = false,
  ): Promise<{ status: number | null; error: string | null }> {
    const { rec, body, secret, name } = delivery;
    const headers: Record<string, string | number> = {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      "User-Agent": "Shopify-Captain-Hook",
      "X-Shopify-Topic": rec.topic,
      "X-Shopify-Hmac-Sha256": webhookHmac(body, secret),
      "X-Shopify-Shop-Domain": rec.shop,
      "X-Shopify-API-Version": WEBHOOK_API_VERSION,
      "X-Shopify-Webhook-Id": rec.webhookId,
      "X-Shopify-Event-Id": rec.eventId,
      "X-Shopify-Triggered-At": rec.triggeredAt,
    };
    if (name) headers["X-Shopify-Name"] = name;
    return new Promise((resolve) => {
      let settled = false;
      let request: http.ClientRequest | null = null;
      const finish = (status: number | null, error: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(total);
        clearTimeout(connect);
        if (request) this.requests.delete(request);
        resolve({ status, error });
      };
      const total = setTimeout(() => {
        finish(null, `timeout after ${config.timeoutMs} ms`);
        request?.destroy();
      }, config.timeoutMs);
      const connect = setTimeout(() => {
        finish(null, `connect timeout after ${config.connectTimeoutMs} ms`);
        request?.destroy();
      }, config.connectTimeoutMs);
      try {
        const url = new URL(rec.address);
        const secure = url.protocol === "https:";
        const send = secure ? https.request : http.request;
        const agent =
          this.agents[fresh || !config.keepAlive ? "fresh" : "pooled"][secure ? "https:" : "http:"];
        request = send(url, { method: "POST", headers, agent });
      } catch (error) {
        finish(null, (error as Error).message);
        return;
      }
      this.requests.add(request);
      request.on("socket", (socket) => {
        if (socket.connecting) socket.once("connect", () => clearTimeout(connect));
        else clearTimeout(connect);
      });
      let answered = false;
      request.on("response", (response) => {
        answered = true;
        clearTimeout(connect);
        response.on("error", (error) => finish(null, error.message));
        response.on("end", () => finish(response.statusCode ?? null, null));
        response.resume();
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        const sent = request;
        if (
          !fresh &&
          !answered &&
          !settled &&
          sent?.reusedSocket &&
          (error.code === "ECONNRESET" || error.code === "EPIPE")
        ) {
          // The pooled connection was closed under this attempt before any answer: sent once
          // more on a new one (if the app did get it, this is a duplicate it must take anyway).
          settled = true;
          clearTimeout(total);
          clearTimeout(connect);
          this.requests.delete(sent);
          resolve(this.post(delivery, config, true));
          return;
        }
        finish(null, error.code ?? error.message);
      });
      request.end(body);
    });
  }

  /** Drops every delivery and subscription (server reset). */
  reset(): void {
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    this.all.length = 0;
    this.active.clear();
    this.queue.clear();
    this.waiting.clear();
    this.parked.clear();
    this.inFlightByAddress.clear();
    this.lastDueByAddress.clear();
    this.appSubscriptions = [];
    this.config = { ...DEFAULT_DELIVERY_CONFIG };
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Forgets the deliveries of one shop (shop deleted). */
  forgetShop(domain: string): void {
    for (const d of [...this.active]) if (d.rec.shop === domain) this.active.delete(d);
    for (let i = this.all.length - 1; i >= 0; i--) {
      if (this.all[i]?.rec.shop === domain) this.all.splice(i, 1);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    for (const agents of Object.values(this.agents))
      for (const agent of Object.values(agents)) agent.destroy();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** Keeps only the given (dotted) paths of a payload, the way `include_fields` does. */
export function pickFields(payload: unknown, paths: readonly string[]): unknown {
  const pick = (value: unknown, path: string[]): unknown => {
    if (path.length === 0) return value;
    if (Array.isArray(value)) return value.map((element) => pick(element, path));
    if (typeof value !== "object" || value === null) return undefined;
    const [head, ...rest] = path;
    const record = value as Record<string, unknown>;
    return head !== undefined && head in record ? { [head]: pick(record[head], rest) } : {};
  };
  const merge = (a: unknown, b: unknown): unknown => {
    if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => merge(x, b[i]));
    if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
      const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
      for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
      return out;
    }
    return b === undefined ? a : b;
  };
  return paths.reduce<unknown>((acc, path) => merge(acc, pick(payload, path.split("."))), {});
}

/** base64 HMAC-SHA256 of the raw body, keyed with the app's API secret. */
export function webhookHmac(body: string, secret: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64");
}

export class WebhookConfigError extends Error {}

/** A binary min-heap under `before`. */
class Heap<T> {
  private items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.before(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.before(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.items = [];
  }
}

/** A FIFO queue with O(1) shift. */
class Fifo<T> {
  private items: T[];
  private head = 0;
  constructor(first: T) {
    this.items = [first];
  }
  get size(): number {
    return this.items.length - this.head;
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
