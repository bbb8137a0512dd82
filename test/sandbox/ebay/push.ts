/**
 * Push delivery of Notification API messages: a signed JSON POST per notification to the
 * subscription's destination endpoint. Success is a 2xx answer within `timeoutMs`; anything
 * else is retried on `retryIntervalsSeconds` × timeScale with the same notificationId and a
 * growing `publishAttemptCount` (the body is rebuilt and re-signed per attempt, so `publishDate`
 * moves too). Seeded delays, reordering and duplicate deliveries are configurable.
 */
import type { Rng } from "../shopify/rng";
import type { OutboundClient } from "./http";
import {
  corruptSignatureHeader,
  signatureHeader,
  type SignatureDigest,
  type SigningKey,
} from "./signing";

/** Retry schedule (seconds after a failed attempt): not published by eBay, see README. */
export const RETRY_INTERVALS_SECONDS: readonly number[] = [
  60, 120, 300, 600, 1800, 3600, 7200, 14400,
];

export type PushConfig = {
  /** Random delay before the first attempt, [min, max] real ms (not scaled). */
  delayMs: [number, number];
  /** false: first attempts leave in notification order; true: each draws its own delay. */
  reorder: boolean;
  /** Probability that a notification is delivered twice (same notificationId, two chains). */
  duplicateProbability: number;
  /**
   * Probability that an ORDER_CONFIRMATION is published again for the same line item with a new
   * notificationId (eBay: "again if payment fails and is retried").
   */
  repeatProbability: number;
  retryIntervalsSeconds: number[];
  /** Deadline for the endpoint's answer, real ms. */
  timeoutMs: number;
  /** Attempts in flight per endpoint. */
  concurrency: number;
  paused: boolean;
  signatureDigest: SignatureDigest;
  /** Probability that an attempt carries a signature that does not verify. */
  corruptSignatureProbability: number;
};

export const DEFAULT_PUSH_CONFIG: PushConfig = {
  delayMs: [0, 0],
  reorder: false,
  duplicateProbability: 0,
  repeatProbability: 0,
  retryIntervalsSeconds: [...RETRY_INTERVALS_SECONDS],
  timeoutMs: 3000,
  concurrency: 10,
  paused: false,
  signatureDigest: "SHA1",
  corruptSignatureProbability: 0,
};

export type NotificationRec = {
  notificationId: string;
  topic: string;
  schemaVersion: string;
  eventDate: string;
  data: Record<string, unknown>;
  subscriptionId: string;
  destinationId: string;
  endpoint: string;
  /** Seller the notification is about (ORDER_CONFIRMATION), null for application topics. */
  userId: string | null;
  /** Set on a repeated ORDER_CONFIRMATION: the notification it repeats. */
  repeatOf: string | null;
  test: boolean;
};

export type AttemptRec = {
  publishAttemptCount: number;
  scheduledAt: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  publishDate: string;
  kid: string;
  corruptSignature: boolean;
  status: number | null;
  error: string | null;
  ok: boolean;
};

export type DeliveryState = "pending" | "in_flight" | "delivered" | "failed";

export type DeliveryRec = {
  seq: number;
  notificationId: string;
  topic: string;
  subscriptionId: string;
  destinationId: string;
  endpoint: string;
  userId: string | null;
  duplicate: boolean;
  state: DeliveryState;
  attempts: AttemptRec[];
  nextAttemptAt: string | null;
};

type Delivery = { rec: DeliveryRec; notification: NotificationRec; dueAt: number };

export type DispatcherDeps = {
  rng: () => Rng;
  timeScale: () => number;
  /** eBay-side ISO timestamp for `publishDate`. */
  nowIso: () => string;
  signingKey: () => SigningKey;
  client: OutboundClient;
};

/** The JSON body of one attempt (key order as in the SDK's test vector). */
export function notificationBody(
  n: NotificationRec,
  publishDate: string,
  publishAttemptCount: number,
): string {
  return JSON.stringify({
    metadata: { topic: n.topic, schemaVersion: n.schemaVersion, deprecated: false },
    notification: {
      notificationId: n.notificationId,
      eventDate: n.eventDate,
      publishDate,
      publishAttemptCount,
      data: n.data,
    },
  });
}

export class PushDispatcher {
  config: PushConfig = structuredClone(DEFAULT_PUSH_CONFIG);
  readonly notifications: NotificationRec[] = [];
  private readonly all: Delivery[] = [];
  private readonly active = new Set<Delivery>();
  private readonly inFlightByEndpoint = new Map<string, number>();
  private lastDue = 0;
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private seq = 0;
  private generation = 0;
  private closed = false;

  constructor(private readonly deps: DispatcherDeps) {}

  /** Records a notification and queues its delivery (plus a random duplicate). */
  publish(notification: NotificationRec): DeliveryRec[] {
    this.notifications.push(notification);
    if (this.closed) return [];
    const rng = this.deps.rng();
    const copies = rng.chance(this.config.duplicateProbability) ? 2 : 1;
    const created: DeliveryRec[] = [];
    for (let copy = 0; copy < copies; copy++) {
      const delay = rng.between(this.config.delayMs[0], this.config.delayMs[1]);
      let dueAt = Date.now() + delay;
      if (!this.config.reorder) {
        dueAt = Math.max(dueAt, this.lastDue);
        this.lastDue = dueAt;
      }
      this.seq += 1;
      const rec: DeliveryRec = {
        seq: this.seq,
        notificationId: notification.notificationId,
        topic: notification.topic,
        subscriptionId: notification.subscriptionId,
        destinationId: notification.destinationId,
        endpoint: notification.endpoint,
        userId: notification.userId,
        duplicate: copy > 0,
        state: "pending",
        attempts: [],
        nextAttemptAt: new Date(dueAt).toISOString(),
      };
      const delivery: Delivery = { rec, notification, dueAt };
      this.all.push(delivery);
      this.active.add(delivery);
      created.push(rec);
    }
    this.pump();
    return created.map((r) => structuredClone(r));
  }

  deliveries(): DeliveryRec[] {
    return this.all.map((d) => structuredClone(d.rec));
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

  /** Starts due attempts and arms the timer for the next one. */
  pump(): void {
    if (this.closed) return;
    if (this.config.paused) {
      this.clearTimer();
      return;
    }
    const now = Date.now();
    const limit = Math.max(1, this.config.concurrency);
    const due = [...this.active]
      .filter((d) => d.rec.state === "pending")
      .sort((a, b) => a.dueAt - b.dueAt || a.rec.seq - b.rec.seq);
    let next = Infinity;
    for (const delivery of due) {
      if (delivery.dueAt > now) {
        next = Math.min(next, delivery.dueAt);
        continue;
      }
      const endpoint = delivery.rec.endpoint;
      const busy = this.inFlightByEndpoint.get(endpoint) ?? 0;
      if (busy >= limit) continue;
      this.inFlightByEndpoint.set(endpoint, busy + 1);
      void this.attempt(delivery);
    }
    this.clearTimer();
    if (next !== Infinity) {
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

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = 0;
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { rec, notification } = delivery;
    rec.state = "in_flight";
    const scheduledAt = rec.nextAttemptAt ?? new Date().toISOString();
    rec.nextAttemptAt = null;
    const publishAttemptCount = rec.attempts.length + 1;
    const publishDate = this.deps.nowIso();
    const body = notificationBody(notification, publishDate, publishAttemptCount);
    const key = this.deps.signingKey();
    let signature = signatureHeader(key, body, this.config.signatureDigest);
    const corrupt = this.deps.rng().chance(this.config.corruptSignatureProbability);
    if (corrupt) signature = corruptSignatureHeader(signature);
    const started = Date.now();
    const generation = this.generation;
    const result = await this.deps.client.request(rec.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        Accept: "application/json",
        "X-EBAY-SIGNATURE": signature,
      },
      body,
      timeoutMs: this.config.timeoutMs,
    });
    const finished = Date.now();
    if (this.closed || generation !== this.generation) return;
    const busy = (this.inFlightByEndpoint.get(rec.endpoint) ?? 1) - 1;
    if (busy <= 0) this.inFlightByEndpoint.delete(rec.endpoint);
    else this.inFlightByEndpoint.set(rec.endpoint, busy);
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    rec.attempts.push({
      publishAttemptCount,
      scheduledAt,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - started,
      publishDate,
      kid: key.kid,
      corruptSignature: corrupt,
      status: result.status,
      error: ok ? null : (result.error ?? `HTTP ${result.status ?? "?"}`),
      ok,
    });
    const retriesSoFar = rec.attempts.length - 1;
    const intervals = this.config.retryIntervalsSeconds;
    if (ok) {
      rec.state = "delivered";
      this.active.delete(delivery);
    } else if (retriesSoFar < intervals.length) {
      delivery.dueAt = finished + (intervals[retriesSoFar] ?? 0) * 1000 * this.deps.timeScale();
      rec.nextAttemptAt = new Date(delivery.dueAt).toISOString();
      rec.state = "pending";
    } else {
      rec.state = "failed";
      this.active.delete(delivery);
    }
    this.pump();
    if (this.isIdle()) this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  reset(): void {
    this.generation += 1;
    this.deps.client.abortAll();
    this.notifications.length = 0;
    this.all.length = 0;
    this.active.clear();
    this.inFlightByEndpoint.clear();
    this.lastDue = 0;
    this.config = structuredClone(DEFAULT_PUSH_CONFIG);
    this.clearTimer();
    this.wakeIdle();
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.wakeIdle();
  }
}
