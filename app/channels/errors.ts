/**
 * The closed set of errors a channel adapter may throw. Workers map them to BullMQ behaviour in
 * exactly one place (`workers/job-runner.ts`); everything else is treated as a bug and retried.
 * Shape copied from BullMQ's own error classes: a stable name, `instanceof` works after
 * transpilation, no detection by message text.
 */
import type { RemoteQuantity } from "./channel-adapter";

export abstract class ChannelError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Try again later with backoff (5xx, timeouts, connection resets). */
export class ChannelRetryableError extends ChannelError {}

/** The channel asked us to slow down; waiting does not consume a retry attempt. */
export class ChannelThrottledError extends ChannelError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    details: Record<string, unknown> = {},
  ) {
    super(message, details);
  }
}

/**
 * A read of several items ran out of the channel's budget part-way: `partial` holds what was read
 * before it did, so the caller keeps that progress instead of reading it all again (a push that
 * re-read every item from the start after each throttle could spend each refill on the same first
 * items and never finish).
 */
export class ChannelReadsThrottledError extends ChannelThrottledError {
  constructor(
    message: string,
    retryAfterMs: number,
    readonly partial: RemoteQuantity[],
    details: Record<string, unknown> = {},
  ) {
    super(message, retryAfterMs, details);
  }
}

/** Retrying cannot help (validation error, unknown item, mapping broken). */
export class ChannelPermanentError extends ChannelError {}

/** Credentials rejected or revoked: the connection needs the merchant's attention. */
export class ChannelAuthError extends ChannelError {}
