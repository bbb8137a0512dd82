/**
 * Webhook (Notifications API) delivery as Walmart documents it: a JSON POST to the
 * subscription's eventUrl, authenticated per `authDetails` (BASIC_AUTH, HMAC over the complete
 * body keyed with clientSecret, or OAUTH with a client-credentials token fetched from authUrl
 * first and cached), custom `headers` added. Success is a 2xx; otherwise Walmart retries two more
 * times (three attempts in total), intervals scaled by `timeScale`. Events may be duplicated
 * (same eventId), delayed and reordered (seeded RNG).
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { Rng } from "../shopify/rng";
import type { AuthDetails, SubscriptionRec } from "./state";

/** Seconds between attempts: 3 attempts in total (the intervals themselves are our choice). */
export const RETRY_INTERVALS_SECONDS: readonly number[] = [60, 300];

export type DeliveryConfig = {
  /** Random delay before the first attempt, [min, max] ms (not scaled). */
  delayMs: [number, number];
  /** Probability that an event is delivered twice (same eventId, same body). */
  duplicateProbability: number;
  /** false: first attempts leave in emission order; true: each draws its own delay. */
  reorder: boolean;
  paused: boolean;
  /** Whole response deadline and connect deadline, real ms. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Attempts in flight at once per eventUrl. 1 gives strictly ordered arrival. */
  concurrency: number;
  /** Seconds between attempts (scaled by timeScale); length + 1 = attempts in total. */
  retryIntervalsSeconds: number[];
  /** Encoding of the HMAC header value (Walmart does not say; base64 like its other signatures). */
  hmacEncoding: "base64" | "hex";
  /** Prefix of the BASIC_AUTH header value ("Basic " or "" for the bare base64 of the docs). */
  basicPrefix: string;
  /** "2xx": any 2xx is success; "200": only 200 ("Walmart expects to receive a 200"). */
  success: "2xx" | "200";
};

export const DEFAULT_DELIVERY_CONFIG: DeliveryConfig = {
  delayMs: [0, 0],
  duplicateProbability: 0,
  reorder: false,
  paused: false,
  timeoutMs: 5000,
  connectTimeoutMs: 1000,
  concurrency: 10,
  retryIntervalsSeconds: [...RETRY_INTERVALS_SECONDS],
  hmacEncoding: "base64",
  basicPrefix: "Basic ",
  success: "2xx",
};

export type EventRec = {
  eventId: string;
  eventType: string;
  subEventType: string | null;
  partnerId: string;
  eventTime: string;
  payload: unknown;
  body: string;
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
  /** OAUTH: whether a new token was fetched for this attempt, and its outcome. */
  tokenFetch: { status: number | null; error: string | null } | null;
};

export type DeliveryState = "pending" | "in_flight" | "delivered" | "failed";

export type DeliveryRec = {
  seq: number;
  deliveryId: string;
  eventId: string;
  eventType: string;
  subEventType: string | null;
  partnerId: string;
  subscriptionId: string;
  eventUrl: string;
  authMethod: string | null;
  eventTime: string;
  duplicate: boolean;
  test: boolean;
  state: DeliveryState;
  attempts: AttemptRec[];
  nextAttemptAt: string | null;
};

export type DeliveryFaultRule = {
  /** Attempts to fail without sending anything (the next N matching attempts). */
  count?: number;
  probability?: number;
  eventType?: string;
  subscriptionId?: string;
  /** Status to record (default null: "connection refused"). */
  status?: number;
};

type ActiveDeliveryFault = Required<Pick<DeliveryFaultRule, "probability">> & {
  id: number;
  remaining: number | null;
  eventType: string | null;
  subscriptionId: string | null;
  status: number | null;
  triggered: number;
};

type Delivery = {
  rec: DeliveryRec;
  body: string;
  subscription: SubscriptionRec;
  dueAt: number;
};

export type OAuthTokenRequestRec = {
  at: string;
  subscriptionId: string;
  authUrl: string;
  status: number | null;
  error: string | null;
};

export type DispatcherOptions = {
  rng: () => Rng;
  timeScale: () => number;
  config?: Partial<DeliveryConfig>;
  newId: () => string;
};

type PostResult = { status: number | null; error: string | null; body?: string };

export class WebhookDispatcher {
  config: DeliveryConfig;
  readonly oauthRequests: OAuthTokenRequestRec[] = [];
  private readonly all: Delivery[] = [];
  private readonly active = new Set<Delivery>();
  private readonly inFlightByUrl = new Map<string, number>();
  private readonly requests = new Set<http.ClientRequest>();
  private readonly lastDueByUrl = new Map<string, number>();
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  /** Token requests under way, so concurrent deliveries share one (single flight per key). */
  private readonly tokenFetches = new Map<string, ReturnType<WebhookDispatcher["fetchToken"]>>();
  private faults: ActiveDeliveryFault[] = [];
  private faultSeq = 0;
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private seq = 0;
  private closed = false;
  private readonly httpAgent = new http.Agent({ keepAlive: false });
  private readonly httpsAgent = new https.Agent({ keepAlive: false });

  constructor(private readonly options: DispatcherOptions) {
    this.config = { ...DEFAULT_DELIVERY_CONFIG, ...options.config };
  }

  configure(patch: Partial<DeliveryConfig>): DeliveryConfig {
    this.config = checkDeliveryConfig({ ...this.config, ...patch });
    this.pump();
    return this.config;
  }

  /** One delivery per matching ACTIVE subscription, plus random duplicates. */
  enqueue(event: EventRec, subscriptions: SubscriptionRec[]): DeliveryRec[] {
    if (this.closed) return [];
    const rng = this.options.rng();
    const created: DeliveryRec[] = [];
    for (const subscription of subscriptions) {
      const copies = rng.chance(this.config.duplicateProbability) ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        created.push(this.add(event, subscription, copy > 0, false, rng));
      }
    }
    if (created.length > 0) this.pump();
    return created;
  }

  private add(
    event: EventRec,
    subscription: SubscriptionRec,
    duplicate: boolean,
    test: boolean,
    rng: Rng,
  ) {
    const delay = test ? 0 : rng.between(this.config.delayMs[0], this.config.delayMs[1]);
    let dueAt = Date.now() + delay;
    if (!this.config.reorder && !test) {
      dueAt = Math.max(dueAt, this.lastDueByUrl.get(subscription.eventUrl) ?? 0);
      this.lastDueByUrl.set(subscription.eventUrl, dueAt);
    }
    this.seq += 1;
    const rec: DeliveryRec = {
      seq: this.seq,
      deliveryId: this.options.newId(),
      eventId: event.eventId,
      eventType: event.eventType,
      subEventType: event.subEventType,
      partnerId: event.partnerId,
      subscriptionId: subscription.subscriptionId,
      eventUrl: subscription.eventUrl,
      authMethod: subscription.authDetails?.authMethod ?? null,
      eventTime: event.eventTime,
      duplicate,
      test,
      state: "pending",
      attempts: [],
      nextAttemptAt: new Date(dueAt).toISOString(),
    };
    const delivery: Delivery = { rec, body: event.body, subscription: { ...subscription }, dueAt };
    this.all.push(delivery);
    if (!test) this.active.add(delivery);
    return rec;
  }

  /** POST /v3/webhooks/test: one synchronous attempt, recorded as a test delivery. */
  async sendTest(event: EventRec, subscription: SubscriptionRec): Promise<AttemptRec> {
    const rec = this.add(event, subscription, false, true, this.options.rng());
    const delivery = this.all[this.all.length - 1] as Delivery;
    const attempt = await this.runAttempt(delivery);
    rec.attempts.push(attempt);
    rec.state = attempt.ok ? "delivered" : "failed";
    rec.nextAttemptAt = null;
    return attempt;
  }

  deliveries(filter: { partnerId?: string; eventType?: string } = {}): DeliveryRec[] {
    return this.all
      .filter((d) => filter.partnerId === undefined || d.rec.partnerId === filter.partnerId)
      .filter((d) => filter.eventType === undefined || d.rec.eventType === filter.eventType)
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

  addFault(rule: DeliveryFaultRule): ActiveDeliveryFault {
    if (rule.count === undefined && rule.probability === undefined) {
      throw new WebhookConfigError("a delivery fault needs count or probability");
    }
    if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count > 0)) {
      throw new WebhookConfigError("count must be a positive integer");
    }
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new WebhookConfigError("probability must be within [0, 1]");
    }
    const fault: ActiveDeliveryFault = {
      id: ++this.faultSeq,
      remaining: rule.count ?? null,
      probability: rule.probability ?? 1,
      eventType: rule.eventType ?? null,
      subscriptionId: rule.subscriptionId ?? null,
      status: rule.status ?? null,
      triggered: 0,
    };
    this.faults.push(fault);
    return { ...fault };
  }

  listFaults() {
    return this.faults.map((f) => ({ ...f }));
  }

  clearFaults(): void {
    this.faults = [];
  }

  private takeFault(rec: DeliveryRec): ActiveDeliveryFault | null {
    for (const fault of this.faults) {
      if (fault.eventType !== null && fault.eventType !== rec.eventType) continue;
      if (fault.subscriptionId !== null && fault.subscriptionId !== rec.subscriptionId) continue;
      if (!this.options.rng().chance(fault.probability)) continue;
      fault.triggered += 1;
      if (fault.remaining !== null) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
      }
      return fault;
    }
    return null;
  }

  /** Re-evaluates timers and starts due attempts. */
  pump(): void {
    if (this.closed) return;
    const now = Date.now();
    const free = new Map<string, number>();
    const slots = (url: string) => {
      let n = free.get(url);
      if (n === undefined) {
        n = Math.max(1, this.config.concurrency) - (this.inFlightByUrl.get(url) ?? 0);
        free.set(url, n);
      }
      return n;
    };
    const due: Delivery[] = [];
    let next = Infinity;
    for (const d of this.active) {
      if (d.rec.state !== "pending" || this.config.paused) continue;
      if (d.dueAt > now) next = Math.min(next, d.dueAt);
      else if (slots(d.rec.eventUrl) > 0) due.push(d);
    }
    due.sort((a, b) => a.dueAt - b.dueAt || a.rec.seq - b.rec.seq);
    for (const delivery of due) {
      const url = delivery.rec.eventUrl;
      if ((free.get(url) ?? 0) <= 0) continue;
      free.set(url, (free.get(url) ?? 0) - 1);
      this.inFlightByUrl.set(url, (this.inFlightByUrl.get(url) ?? 0) + 1);
      void this.attempt(delivery);
    }
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
    rec.state = "in_flight";
    const attempt = await this.runAttempt(delivery);
    const inFlight = (this.inFlightByUrl.get(rec.eventUrl) ?? 1) - 1;
    if (inFlight <= 0) this.inFlightByUrl.delete(rec.eventUrl);
    else this.inFlightByUrl.set(rec.eventUrl, inFlight);
    if (this.closed) return;
    rec.attempts.push(attempt);
    const retriesSoFar = rec.attempts.length - 1;
    const intervals = this.config.retryIntervalsSeconds;
    if (attempt.ok) {
      rec.state = "delivered";
      this.active.delete(delivery);
    } else if (retriesSoFar < intervals.length) {
      const interval = (intervals[retriesSoFar] ?? 0) * 1000 * this.options.timeScale();
      delivery.dueAt = Date.parse(attempt.finishedAt) + interval;
      rec.nextAttemptAt = new Date(delivery.dueAt).toISOString();
      rec.state = "pending";
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

  private async runAttempt(delivery: Delivery): Promise<AttemptRec> {
    const { rec } = delivery;
    const scheduledAt = rec.nextAttemptAt ?? new Date().toISOString();
    rec.nextAttemptAt = null;
    const started = Date.now();
    let tokenFetch: AttemptRec["tokenFetch"] = null;
    let result: PostResult;
    const fault = this.takeFault(rec);
    if (fault) {
      result = { status: fault.status, error: "injected delivery fault" };
    } else {
      const auth = await this.authHeaders(delivery);
      tokenFetch = auth.tokenFetch;
      if (auth.headers === null) {
        result = { status: null, error: `oauth token request failed: ${auth.error ?? "?"}` };
      } else {
        const headers: Record<string, string> = {
          "Content-Type": "application/json",
          ...delivery.subscription.headers,
          ...auth.headers,
        };
        result = await this.post(rec.eventUrl, "POST", headers, delivery.body);
        if (result.status === 401 && delivery.subscription.authDetails?.authMethod === "OAUTH") {
          this.tokens.delete(tokenKey(delivery.subscription));
        }
      }
    }
    const finished = Date.now();
    const ok =
      result.status !== null &&
      (this.config.success === "200"
        ? result.status === 200
        : result.status >= 200 && result.status < 300);
    return {
      attempt: rec.attempts.length + 1,
      scheduledAt,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - started,
      status: result.status,
      error: ok ? null : (result.error ?? `HTTP ${result.status ?? "?"}`),
      ok,
      tokenFetch,
    };
  }

  private async authHeaders(delivery: Delivery): Promise<{
    headers: Record<string, string> | null;
    tokenFetch: AttemptRec["tokenFetch"];
    error?: string;
  }> {
    const auth = delivery.subscription.authDetails;
    if (!auth) return { headers: {}, tokenFetch: null };
    const name = auth.authHeaderName ?? "Authorization";
    switch (auth.authMethod) {
      case "BASIC_AUTH": {
        const b64 = Buffer.from(`${auth.userName ?? ""}:${auth.password ?? ""}`, "utf8").toString(
          "base64",
        );
        return { headers: { [name]: `${this.config.basicPrefix}${b64}` }, tokenFetch: null };
      }
      case "HMAC":
        return {
          headers: {
            [name]: hmacSignature(delivery.body, auth.clientSecret ?? "", this.config.hmacEncoding),
          },
          tokenFetch: null,
        };
      case "OAUTH": {
        const key = tokenKey(delivery.subscription);
        const cached = this.tokens.get(key);
        if (cached && cached.expiresAt > Date.now()) {
          return { headers: { [name]: `Bearer ${cached.token}` }, tokenFetch: null };
        }
        let pending = this.tokenFetches.get(key);
        const initiator = pending === undefined;
        if (!pending) {
          pending = this.fetchToken(delivery.subscription, auth);
          this.tokenFetches.set(key, pending);
          void pending.finally(() => this.tokenFetches.delete(key));
        }
        const fetched = await pending;
        const tokenFetch = initiator ? { status: fetched.status, error: fetched.error } : null;
        if (fetched.token === null)
          return { headers: null, tokenFetch, error: fetched.error ?? "?" };
        this.tokens.set(key, { token: fetched.token, expiresAt: Date.now() + fetched.expiresInMs });
        return { headers: { [name]: `Bearer ${fetched.token}` }, tokenFetch };
      }
      default:
        return { headers: {}, tokenFetch: null };
    }
  }

  /** POST authUrl: grant_type=client_credentials, Basic clientId:clientSecret under authHeaderName. */
  private async fetchToken(
    subscription: SubscriptionRec,
    auth: AuthDetails,
  ): Promise<{
    token: string | null;
    expiresInMs: number;
    status: number | null;
    error: string | null;
  }> {
    const name = auth.authHeaderName ?? "Authorization";
    const b64 = Buffer.from(`${auth.clientId ?? ""}:${auth.clientSecret ?? ""}`, "utf8").toString(
      "base64",
    );
    const headers: Record<string, string> = {
      ...subscription.headers,
      [name]: `${this.config.basicPrefix}${b64}`,
      Accept: "application/json; charset=UTF-8",
      "Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1",
    };
    const result = await this.post(
      auth.authUrl ?? "",
      "POST",
      headers,
      "grant_type=client_credentials",
    );
    const record = (status: number | null, error: string | null) => {
      this.oauthRequests.push({
        at: new Date().toISOString(),
        subscriptionId: subscription.subscriptionId,
        authUrl: auth.authUrl ?? "",
        status,
        error,
      });
    };
    if (result.status !== 200) {
      const error = result.error ?? `HTTP ${result.status ?? "?"}`;
      record(result.status, error);
      return { token: null, expiresInMs: 0, status: result.status, error };
    }
    try {
      const parsed = JSON.parse(result.body ?? "") as {
        access_token?: unknown;
        expires_in?: unknown;
      };
      if (typeof parsed.access_token !== "string" || parsed.access_token === "") {
        throw new Error("no access_token in the answer");
      }
      const expiresIn = Number(parsed.expires_in);
      if (!Number.isFinite(expiresIn)) throw new Error("no expires_in in the answer");
      record(200, null);
      return {
        token: parsed.access_token,
        expiresInMs: expiresIn * 1000,
        status: 200,
        error: null,
      };
    } catch (error) {
      const message = (error as Error).message;
      record(200, message);
      return { token: null, expiresInMs: 0, status: 200, error: message };
    }
  }

  private post(
    address: string,
    method: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<PostResult> {
    return new Promise((resolve) => {
      let settled = false;
      let request: http.ClientRequest | null = null;
      const chunks: Buffer[] = [];
      const finish = (status: number | null, error: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(total);
        clearTimeout(connect);
        if (request) this.requests.delete(request);
        resolve({ status, error, body: Buffer.concat(chunks).toString("utf8") });
      };
      const total = setTimeout(() => {
        finish(null, `timeout after ${this.config.timeoutMs} ms`);
        request?.destroy();
      }, this.config.timeoutMs);
      const connect = setTimeout(() => {
        finish(null, `connect timeout after ${this.config.connectTimeoutMs} ms`);
        request?.destroy();
      }, this.config.connectTimeoutMs);
      try {
        const url = new URL(address);
        const secure = url.protocol === "https:";
        const send = secure ? https.request : http.request;
        request = send(url, {
          method,
          headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) },
          agent: secure ? this.httpsAgent : this.httpAgent,
        });
      } catch (error) {
        finish(null, (error as Error).message);
        return;
      }
      this.requests.add(request);
      request.on("socket", (socket) => {
        if (socket.connecting) socket.once("connect", () => clearTimeout(connect));
        else clearTimeout(connect);
      });
      request.on("response", (response) => {
        clearTimeout(connect);
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error) => finish(null, error.message));
        response.on("end", () => finish(response.statusCode ?? null, null));
      });
      request.on("error", (error: NodeJS.ErrnoException) =>
        finish(null, error.code ?? error.message),
      );
      request.end(body);
    });
  }

  /** Drops every delivery, cached token and fault (server reset). */
  reset(config: Partial<DeliveryConfig> = {}): void {
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    this.all.length = 0;
    this.active.clear();
    this.inFlightByUrl.clear();
    this.lastDueByUrl.clear();
    this.tokens.clear();
    this.tokenFetches.clear();
    this.oauthRequests.length = 0;
    this.faults = [];
    this.config = checkDeliveryConfig({ ...DEFAULT_DELIVERY_CONFIG, ...config });
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  forgetPartner(partnerId: string): void {
    for (const d of [...this.active]) if (d.rec.partnerId === partnerId) this.active.delete(d);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const request of this.requests) request.destroy();
    this.requests.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}

function tokenKey(subscription: SubscriptionRec): string {
  const a = subscription.authDetails;
  return `${subscription.subscriptionId}|${a?.authUrl ?? ""}|${a?.clientId ?? ""}|${a?.clientSecret ?? ""}`;
}

/** HMAC-SHA256 of the raw body keyed with the subscription's clientSecret. */
export function hmacSignature(
  body: string,
  secret: string,
  encoding: "base64" | "hex" = "base64",
): string {
  return createHmac("sha256", secret).update(body, "utf8").digest(encoding);
}

export class WebhookConfigError extends Error {}

export function checkDeliveryConfig(config: DeliveryConfig): DeliveryConfig {
  const { delayMs } = config;
  if (
    !Array.isArray(delayMs) ||
    delayMs.length !== 2 ||
    !(delayMs[0] >= 0 && delayMs[1] >= delayMs[0])
  ) {
    throw new WebhookConfigError("delayMs must be [min, max] with 0 <= min <= max");
  }
  if (!(config.duplicateProbability >= 0 && config.duplicateProbability <= 1)) {
    throw new WebhookConfigError("duplicateProbability must be within [0, 1]");
  }
  if (typeof config.reorder !== "boolean" || typeof config.paused !== "boolean") {
    throw new WebhookConfigError("reorder and paused must be booleans");
  }
  for (const key of ["timeoutMs", "connectTimeoutMs", "concurrency"] as const) {
    if (!(typeof config[key] === "number" && config[key] > 0)) {
      throw new WebhookConfigError(`${key} must be a positive number`);
    }
  }
  if (
    !Array.isArray(config.retryIntervalsSeconds) ||
    config.retryIntervalsSeconds.some((s) => !(typeof s === "number" && s >= 0))
  ) {
    throw new WebhookConfigError("retryIntervalsSeconds must be an array of numbers >= 0");
  }
  if (config.hmacEncoding !== "base64" && config.hmacEncoding !== "hex") {
    throw new WebhookConfigError("hmacEncoding must be base64 or hex");
  }
  if (typeof config.basicPrefix !== "string")
    throw new WebhookConfigError("basicPrefix must be a string");
  if (config.success !== "2xx" && config.success !== "200") {
    throw new WebhookConfigError('success must be "2xx" or "200"');
  }
  return {
    ...config,
    delayMs: [delayMs[0], delayMs[1]],
    retryIntervalsSeconds: [...config.retryIntervalsSeconds],
  };
}
