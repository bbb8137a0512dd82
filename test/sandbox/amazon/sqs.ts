/**
 * An in-memory SQS standard queue engine: queues and their attributes, messages with MD5s,
 * receipt handles, visibility timeouts, long polling, ApproximateReceiveCount, redrive to a
 * dead-letter queue, purge. Standard-queue liberties are configurable: duplicate copies
 * (at-least-once) and reordering. SQS timings (VisibilityTimeout, WaitTimeSeconds, DelaySeconds)
 * are the client's numbers of real seconds and are never scaled.
 */
import { createHash } from "node:crypto";
import type { Rng } from "../shopify/rng";
import { alnum } from "./ids";

export class SqsError extends Error {
  constructor(
    readonly status: number,
    /** The awsQuery error code, sent in `x-amzn-query-error` (e.g. AWS.SimpleQueueService.NonExistentQueue). */
    readonly queryCode: string,
    /** The JSON `__type` (e.g. com.amazonaws.sqs#QueueDoesNotExist). */
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export const queueDoesNotExist = (): SqsError =>
  new SqsError(
    400,
    "AWS.SimpleQueueService.NonExistentQueue",
    "com.amazonaws.sqs#QueueDoesNotExist",
    "The specified queue does not exist.",
  );

export const invalidParameter = (message: string): SqsError =>
  new SqsError(400, "InvalidParameterValue", "com.amazonaws.sqs#InvalidParameterValue", message);

const receiptHandleInvalid = (handle: string): SqsError =>
  new SqsError(
    404,
    "ReceiptHandleIsInvalid",
    "com.amazonaws.sqs#ReceiptHandleIsInvalid",
    `The input receipt handle "${handle}" is not a valid receipt handle.`,
  );

export type MessageAttributeValue = {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
};

export type SqsMessageRec = {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, MessageAttributeValue> | null;
  md5OfMessageAttributes: string | null;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt: number | null;
  /** The receipt handle of the latest receive; older handles no longer delete. */
  receiptHandle: string | null;
  deleted: boolean;
  senderId: string;
  /** Set on the extra copy a standard queue may deliver (same MessageId and body). */
  duplicate: boolean;
};

export type SqsBehaviour = {
  /** Probability that a sent message is stored twice (the copy shows up after `duplicateDelayMs`). */
  duplicateProbability: number;
  duplicateDelayMs: [number, number];
  /** true: each receive picks visible messages in random order instead of send order. */
  reorder: boolean;
};

export const DEFAULT_SQS_BEHAVIOUR: SqsBehaviour = {
  duplicateProbability: 0,
  duplicateDelayMs: [0, 1000],
  reorder: false,
};

const ATTRIBUTE_DEFAULTS: Record<string, string> = {
  DelaySeconds: "0",
  MaximumMessageSize: "262144",
  MessageRetentionPeriod: "345600",
  ReceiveMessageWaitTimeSeconds: "0",
  VisibilityTimeout: "30",
  SqsManagedSseEnabled: "true",
};

const SETTABLE_ATTRIBUTES = new Set([
  ...Object.keys(ATTRIBUTE_DEFAULTS),
  "Policy",
  "RedrivePolicy",
  "RedriveAllowPolicy",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
]);

export class SqsQueueRec {
  messages: SqsMessageRec[] = [];
  lastPurgeAt = 0;
  lastModifiedAt: number;
  readonly createdAt: number;

  constructor(
    readonly accountId: string,
    readonly region: string,
    readonly name: string,
    public attributes: Record<string, string>,
    now: number,
  ) {
    this.createdAt = now;
    this.lastModifiedAt = now;
  }

  get arn(): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${this.name}`;
  }

  get key(): string {
    return `${this.accountId}/${this.name}`;
  }

  num(name: string): number {
    return Number(this.attributes[name] ?? ATTRIBUTE_DEFAULTS[name] ?? 0);
  }
}

export type ReceiveOptions = {
  maxNumberOfMessages?: number;
  visibilityTimeout?: number;
  waitTimeSeconds?: number;
  /** System attribute names ("All", "ApproximateReceiveCount", "SentTimestamp", …). */
  attributeNames?: string[];
  messageAttributeNames?: string[];
};

export type ReceivedMessage = {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
};

type Waiter = { queue: SqsQueueRec; wake: () => void };

export function md5Hex(text: string | Buffer): string {
  return createHash("md5").update(text).digest("hex");
}

/** MD5OfMessageAttributes as SQS computes it (length-prefixed name, type, transport, value). */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const withLength = (data: Buffer): void => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    parts.push(length, data);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    if (!value) continue;
    withLength(Buffer.from(name, "utf8"));
    withLength(Buffer.from(value.DataType, "utf8"));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      withLength(Buffer.from(value.BinaryValue, "base64"));
    } else {
      parts.push(Buffer.from([1]));
      withLength(Buffer.from(value.StringValue ?? "", "utf8"));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

export class SqsEngine {
  readonly queues = new Map<string, SqsQueueRec>();
  behaviour: SqsBehaviour = { ...DEFAULT_SQS_BEHAVIOUR };
  private readonly handles = new Map<string, { queue: SqsQueueRec; message: SqsMessageRec }>();
  private waiters = new Set<Waiter>();
  private timers = new Set<ReturnType<typeof setTimeout>>();
  /** Bumped by close(): long polls started before answer empty. */
  private epoch = 0;

  constructor(private readonly rng: () => Rng) {}

  // --- queues --------------------------------------------------------------------------------

  createQueue(
    accountId: string,
    region: string,
    name: string,
    attributes: Record<string, string> = {},
    now = Date.now(),
  ): SqsQueueRec {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
      if (name.endsWith(".fifo")) {
        throw invalidParameter("FIFO queues are not supported by the local sandbox.");
      }
      throw invalidParameter(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
      );
    }
    const clean = checkAttributes(attributes);
    const existing = this.queues.get(`${accountId}/${name}`);
    if (existing) {
      for (const [key, value] of Object.entries(clean)) {
        if ((existing.attributes[key] ?? ATTRIBUTE_DEFAULTS[key]) !== value) {
          throw new SqsError(
            400,
            "QueueAlreadyExists",
            "com.amazonaws.sqs#QueueNameExists",
            `A queue already exists with the same name and a different value for attribute ${key}`,
          );
        }
      }
      return existing;
    }
    const queue = new SqsQueueRec(accountId, region, name, clean, now);
    this.queues.set(queue.key, queue);
    return queue;
  }

  deleteQueue(queue: SqsQueueRec): void {
    this.queues.delete(queue.key);
    for (const message of queue.messages) {
      if (message.receiptHandle) this.handles.delete(message.receiptHandle);
    }
    for (const waiter of [...this.waiters]) if (waiter.queue === queue) waiter.wake();
  }

  queue(accountId: string, name: string): SqsQueueRec | undefined {
    return this.queues.get(`${accountId}/${name}`);
  }

  /** Resolves a queue URL (`…/{accountId}/{name}`, any host) or throws QueueDoesNotExist. */
  queueByUrl(url: unknown): SqsQueueRec {
    if (typeof url !== "string" || url === "") throw queueDoesNotExist();
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      path = url;
    }
    const [accountId, name] = path
      .split("/")
      .filter((s) => s !== "")
      .slice(-2);
    const queue = accountId && name ? this.queue(accountId, name) : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  queueByArn(arn: string): SqsQueueRec | undefined {
    const match = /^arn:aws:sqs:([^:]+):(\d{12}):([^:]+)$/.exec(arn);
    if (!match) return undefined;
    const queue = this.queue(match[2] ?? "", match[3] ?? "");
    return queue && queue.region === match[1] ? queue : undefined;
  }

  setAttributes(queue: SqsQueueRec, attributes: Record<string, string>, now = Date.now()): void {
    queue.attributes = { ...queue.attributes, ...checkAttributes(attributes) };
    queue.lastModifiedAt = now;
  }

  /** GetQueueAttributes values (all strings). */
  attributes(
    queue: SqsQueueRec,
    names: string[] = ["All"],
    now = Date.now(),
  ): Record<string, string> {
    const live = queue.messages.filter((m) => !m.deleted);
    const all: Record<string, string> = {
      ...ATTRIBUTE_DEFAULTS,
      ...queue.attributes,
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(live.filter((m) => m.visibleAt <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(
        live.filter((m) => m.visibleAt > now && m.receiveCount > 0).length,
      ),
      ApproximateNumberOfMessagesDelayed: String(
        live.filter((m) => m.visibleAt > now && m.receiveCount === 0).length,
      ),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
    };
    if (names.includes("All")) return all;
    const out: Record<string, string> = {};
    for (const name of names) {
      const value = all[name];
      if (value === undefined) {
        if (!KNOWN_READ_ATTRIBUTES.has(name)) {
          throw new SqsError(
            400,
            "InvalidAttributeName",
            "com.amazonaws.sqs#InvalidAttributeName",
            `Unknown Attribute ${name}.`,
          );
        }
        continue;
      }
      out[name] = value;
    }
    return out;
  }

  purge(queue: SqsQueueRec, now = Date.now()): void {
    if (now - queue.lastPurgeAt < 60_000) {
      throw new SqsError(
        403,
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "com.amazonaws.sqs#PurgeQueueInProgress",
        `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
      );
    }
    queue.lastPurgeAt = now;
    for (const message of queue.messages) {
      if (message.receiptHandle) this.handles.delete(message.receiptHandle);
    }
    queue.messages = [];
  }

  // --- messages ------------------------------------------------------------------------------

  send(
    queue: SqsQueueRec,
    body: string,
    options: {
      delaySeconds?: number;
      senderId: string;
      messageAttributes?: Record<string, MessageAttributeValue>;
      messageId?: string;
    },
    now = Date.now(),
  ): SqsMessageRec {
    if (typeof body !== "string" || body.length === 0) {
      throw new SqsError(
        400,
        "MissingParameter",
        "com.amazonaws.sqs#MissingParameter",
        "The request must contain the parameter MessageBody.",
      );
    }
    const maxSize = queue.num("MaximumMessageSize");
    if (Buffer.byteLength(body) > maxSize) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`,
      );
    }
    const delay = options.delaySeconds ?? queue.num("DelaySeconds");
    if (!Number.isInteger(delay) || delay < 0 || delay > 900) {
      throw invalidParameter(
        `Value ${String(delay)} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`,
      );
    }
    const attributes =
      options.messageAttributes && Object.keys(options.messageAttributes).length > 0
        ? options.messageAttributes
        : null;
    const message: SqsMessageRec = {
      messageId: options.messageId ?? this.rng().uuid(),
      body,
      md5OfBody: md5Hex(body),
      messageAttributes: attributes,
      md5OfMessageAttributes: attributes ? md5OfMessageAttributes(attributes) : null,
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
      firstReceiveAt: null,
      receiptHandle: null,
      deleted: false,
      senderId: options.senderId,
      duplicate: false,
    };
    queue.messages.push(message);
    if (this.rng().chance(this.behaviour.duplicateProbability)) {
      const [min, max] = this.behaviour.duplicateDelayMs;
      const copy: SqsMessageRec = {
        ...message,
        visibleAt: message.visibleAt + this.rng().between(min, max),
        duplicate: true,
      };
      queue.messages.push(copy);
      this.wakeLater(queue, copy.visibleAt - now);
    }
    this.wakeLater(queue, message.visibleAt - now);
    return message;
  }

  /** ReceiveMessage, long-polling up to `waitTimeSeconds` when nothing is visible. */
  async receive(queue: SqsQueueRec, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const max = options.maxNumberOfMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw invalidParameter(
        `Value ${String(max)} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const visibility = options.visibilityTimeout ?? queue.num("VisibilityTimeout");
    if (!Number.isInteger(visibility) || visibility < 0 || visibility > 43_200) {
      throw invalidParameter(
        `Value ${String(visibility)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
      );
    }
    const wait = options.waitTimeSeconds ?? queue.num("ReceiveMessageWaitTimeSeconds");
    if (!Number.isInteger(wait) || wait < 0 || wait > 20) {
      throw invalidParameter(
        `Value ${String(wait)} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`,
      );
    }
    const take = (): ReceivedMessage[] => this.take(queue, max, visibility, options);
    const first = take();
    if (first.length > 0 || wait === 0) return first;
    const deadline = Date.now() + wait * 1000;
    const epoch = this.epoch;
    return new Promise<ReceivedMessage[]>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const finish = (messages: ReceivedMessage[]): void => {
        this.waiters.delete(waiter);
        if (timer) {
          clearTimeout(timer);
          this.timers.delete(timer);
        }
        resolve(messages);
      };
      const check = (): void => {
        if (epoch !== this.epoch || !this.queues.has(queue.key)) return finish([]);
        const messages = take();
        if (messages.length > 0) return finish(messages);
        const now = Date.now();
        if (now >= deadline) return finish([]);
        const next = queue.messages
          .filter((m) => !m.deleted && m.visibleAt > now)
          .reduce((min, m) => Math.min(min, m.visibleAt), deadline);
        if (timer) {
          clearTimeout(timer);
          this.timers.delete(timer);
        }
        timer = setTimeout(check, Math.max(1, Math.min(next, deadline) - now));
        this.timers.add(timer);
      };
      const waiter: Waiter = { queue, wake: check };
      this.waiters.add(waiter);
      check();
    });
  }

  deleteMessage(queue: SqsQueueRec, handle: unknown): void {
    const entry = this.handleEntry(queue, handle);
    // A stale handle (the message was received again since) succeeds without deleting.
    if (entry.message.receiptHandle !== handle) return;
    entry.message.deleted = true;
    queue.messages = queue.messages.filter((m) => m !== entry.message);
  }

  changeVisibility(queue: SqsQueueRec, handle: unknown, timeout: unknown, now = Date.now()): void {
    const entry = this.handleEntry(queue, handle);
    if (
      typeof timeout !== "number" ||
      !Number.isInteger(timeout) ||
      timeout < 0 ||
      timeout > 43_200
    ) {
      throw invalidParameter(
        `Value ${String(timeout)} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`,
      );
    }
    const message = entry.message;
    if (message.deleted || message.receiptHandle !== handle || message.visibleAt <= now) {
      throw new SqsError(
        400,
        "AWS.SimpleQueueService.MessageNotInflight",
        "com.amazonaws.sqs#MessageNotInflight",
        "Message does not exist or is not available for visibility timeout change.",
      );
    }
    message.visibleAt = now + timeout * 1000;
    this.wakeLater(queue, timeout * 1000);
  }

  /** Every message the queue holds (deleted ones are gone), for inspection. */
  contents(queue: SqsQueueRec, now = Date.now()) {
    return queue.messages.map((m) => ({
      messageId: m.messageId,
      body: m.body,
      sentAt: new Date(m.sentAt).toISOString(),
      visible: m.visibleAt <= now,
      visibleAt: new Date(m.visibleAt).toISOString(),
      receiveCount: m.receiveCount,
      duplicate: m.duplicate,
      senderId: m.senderId,
    }));
  }

  reset(): void {
    this.close();
    this.queues.clear();
    this.handles.clear();
    this.behaviour = { ...DEFAULT_SQS_BEHAVIOUR };
  }

  /** Ends every long poll (empty answers) and stops timers. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.epoch += 1;
    for (const waiter of [...this.waiters]) waiter.wake();
    this.waiters.clear();
  }

  // --- internals -----------------------------------------------------------------------------

  private handleEntry(
    queue: SqsQueueRec,
    handle: unknown,
  ): { queue: SqsQueueRec; message: SqsMessageRec } {
    if (typeof handle !== "string" || handle === "") {
      throw new SqsError(
        400,
        "MissingParameter",
        "com.amazonaws.sqs#MissingParameter",
        "The request must contain the parameter ReceiptHandle.",
      );
    }
    const entry = this.handles.get(handle);
    if (!entry || entry.queue !== queue) throw receiptHandleInvalid(handle);
    return entry;
  }

  private take(
    queue: SqsQueueRec,
    max: number,
    visibility: number,
    options: ReceiveOptions,
  ): ReceivedMessage[] {
    const now = Date.now();
    let candidates = queue.messages.filter((m) => !m.deleted && m.visibleAt <= now);
    if (this.behaviour.reorder) {
      candidates = candidates
        .map((m) => ({ m, k: this.rng().next() }))
        .sort((a, b) => a.k - b.k)
        .map(({ m }) => m);
    }
    const out: ReceivedMessage[] = [];
    for (const message of candidates) {
      if (out.length >= max) break;
      if (this.redrive(queue, message, now)) continue;
      message.receiveCount += 1;
      message.firstReceiveAt ??= now;
      message.visibleAt = now + visibility * 1000;
      const handle = `AQEB${alnum(this.rng(), 160)}`;
      message.receiptHandle = handle;
      this.handles.set(handle, { queue, message });
      if (visibility > 0) this.wakeLater(queue, visibility * 1000);
      out.push(this.render(message, options));
    }
    return out;
  }

  /** Moves a message past `maxReceiveCount` to the dead-letter queue; true if moved. */
  private redrive(queue: SqsQueueRec, message: SqsMessageRec, now: number): boolean {
    const policy = queue.attributes.RedrivePolicy;
    if (!policy) return false;
    let parsed: { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
    try {
      parsed = JSON.parse(policy) as typeof parsed;
    } catch {
      return false;
    }
    const maxReceives = Number(parsed.maxReceiveCount);
    const target = parsed.deadLetterTargetArn
      ? this.queueByArn(parsed.deadLetterTargetArn)
      : undefined;
    if (!target || !(maxReceives >= 1) || message.receiveCount < maxReceives) return false;
    queue.messages = queue.messages.filter((m) => m !== message);
    target.messages.push({ ...message, visibleAt: now, receiptHandle: null });
    return true;
  }

  private render(message: SqsMessageRec, options: ReceiveOptions): ReceivedMessage {
    const out: ReceivedMessage = {
      MessageId: message.messageId,
      ReceiptHandle: message.receiptHandle ?? "",
      MD5OfBody: message.md5OfBody,
      Body: message.body,
    };
    const wanted = options.attributeNames ?? [];
    if (wanted.length > 0) {
      const all: Record<string, string> = {
        SenderId: message.senderId,
        SentTimestamp: String(message.sentAt),
        ApproximateReceiveCount: String(message.receiveCount),
        ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? message.sentAt),
      };
      const attributes: Record<string, string> = {};
      for (const [key, value] of Object.entries(all)) {
        if (wanted.includes("All") || wanted.includes(key)) attributes[key] = value;
      }
      out.Attributes = attributes;
    }
    const wantedAttributes = options.messageAttributeNames ?? [];
    if (message.messageAttributes && wantedAttributes.length > 0) {
      const picked: Record<string, MessageAttributeValue> = {};
      for (const [name, value] of Object.entries(message.messageAttributes)) {
        const match = wantedAttributes.some(
          (w) =>
            w === "All" ||
            w === ".*" ||
            w === name ||
            (w.endsWith(".*") && name.startsWith(w.slice(0, -1))),
        );
        if (match) picked[name] = value;
      }
      if (Object.keys(picked).length > 0) {
        out.MessageAttributes = picked;
        out.MD5OfMessageAttributes = md5OfMessageAttributes(picked);
      }
    }
    return out;
  }

  /** Wakes long polls on `queue` now and again after `ms` (a message becoming visible). */
  private wakeLater(queue: SqsQueueRec, ms: number): void {
    const wake = (): void => {
      for (const waiter of [...this.waiters]) if (waiter.queue === queue) waiter.wake();
    };
    if (ms <= 0) {
      wake();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      wake();
    }, ms + 1);
    this.timers.add(timer);
  }
}

const KNOWN_READ_ATTRIBUTES = new Set([
  "All",
  "Policy",
  "RedrivePolicy",
  "RedriveAllowPolicy",
  "KmsMasterKeyId",
  "KmsDataKeyReusePeriodSeconds",
  "FifoQueue",
  "ContentBasedDeduplication",
  "DeduplicationScope",
  "FifoThroughputLimit",
  "SqsManagedSseEnabled",
]);

function checkAttributes(attributes: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attributes ?? {})) {
    if (name === "FifoQueue") {
      throw invalidParameter("FIFO queues are not supported by the local sandbox.");
    }
    if (!SETTABLE_ATTRIBUTES.has(name)) {
      throw new SqsError(
        400,
        "InvalidAttributeName",
        "com.amazonaws.sqs#InvalidAttributeName",
        `Unknown Attribute ${name}.`,
      );
    }
    const value = String(raw);
    const ranges: Record<string, [number, number]> = {
      DelaySeconds: [0, 900],
      MaximumMessageSize: [1024, 262_144],
      MessageRetentionPeriod: [60, 1_209_600],
      ReceiveMessageWaitTimeSeconds: [0, 20],
      VisibilityTimeout: [0, 43_200],
    };
    const range = ranges[name];
    if (range) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < range[0] || n > range[1]) {
        throw new SqsError(
          400,
          "InvalidAttributeValue",
          "com.amazonaws.sqs#InvalidAttributeValue",
          `Invalid value for the parameter ${name}.`,
        );
      }
    }
    out[name] = value;
  }
  return out;
}
