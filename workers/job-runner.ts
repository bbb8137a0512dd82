/**
 * `processor`, the wrapper every queue's processor is built with: it parses `job.data`, records
 * job timings, and is the one place where typed errors become BullMQ retries, delays or failures.
 */
import { DelayedError, UnrecoverableError, type Job, type Processor } from "bullmq";
import type { z } from "zod";
import {
  ChannelAuthError,
  ChannelPermanentError,
  ChannelThrottledError,
} from "../app/channels/errors";
import { DomainError } from "../app/domain/errors";
import { isDatabaseUnavailable } from "../app/lib/data-errors";
import { metrics } from "../app/lib/metrics.server";
import { log } from "../app/logger.server";

export type JobContext = { job: Job; token: string | undefined };

/** How long a job waits out an unreachable database before its failures count as attempts. */
const DATABASE_PATIENCE_MS = 60 * 60_000;

/**
 * The pause before a job tries an unreachable database again: 0.5–0.75 s while the job is young
 * (a restart or failover: work resumes within a second of the database's return), growing with
 * the job's age to 5–7.5 s, so a long outage's thousands of waiting jobs do not each knock
 * twice a second.
 */
export function databaseWaitMs(jobAgeMs: number, random = Math.random()): number {
  const base = Math.min(5_000, Math.max(500, jobAgeMs / 10));
  return Math.round(base * (1 + random / 2));
}

/**
 * Wraps a service call as a BullMQ processor. The one place where typed errors become BullMQ
 * behaviour:
 * - invalid payload, `ChannelPermanentError`, `ChannelAuthError`, `DomainError` → `UnrecoverableError`
 *   (no retry; the failure is recorded with its reason for the merchant);
 * - `ChannelThrottledError` → the job is moved to delayed until the channel's budget refills and
 *   `DelayedError` is thrown, which leaves `attemptsMade` untouched;
 * - the database unreachable (`isDatabaseUnavailable`) → delayed the same way (`databaseWaitMs`:
 *   0.5 s, growing with the job's age to 5 s), for up to an hour from the job's creation;
 * - anything else → rethrown, so BullMQ retries with the queue's exponential backoff and jitter.
 */
export function processor<T>(
  schema: z.ZodType<T>,
  handle: (data: T, ctx: JobContext) => Promise<unknown>,
): Processor {
  return async (job, token) => {
    const parsed = schema.safeParse(job.data);
    if (!parsed.success) {
      throw new UnrecoverableError(
        `invalid job payload: ${parsed.error.issues[0]?.message ?? "?"}`,
      );
    }
    const logger = log({ queue: job.queueName, jobId: job.id });
    const started = Date.now();
    // First starts only: a retry's wait is its backoff, and a job delayed for a busy lock or a
    // throttled channel would otherwise count its whole history again at every start.
    if (job.attemptsStarted <= 1) {
      const due = job.timestamp + (job.opts.delay ?? 0);
      metrics().jobWaitSeconds.observe({ queue: job.queueName }, Math.max(0, started - due) / 1000);
    }
    let outcome = "failed";
    try {
      const result = await handle(parsed.data, { job, token });
      outcome = "completed";
      return result;
    } catch (error) {
      if (error instanceof ChannelThrottledError) {
        const until = Date.now() + Math.max(50, error.retryAfterMs);
        metrics().throttleWaits.inc({
          channel: String(error.details.channel ?? job.queueName),
          source: String(error.details.source ?? "channel"),
        });
        logger.debug(
          { retryAfterMs: error.retryAfterMs },
          "throttled; delaying job without using an attempt",
        );
        outcome = "delayed";
        await job.moveToDelayed(until, token);
        throw new DelayedError();
      }
      if (isDatabaseUnavailable(error) && Date.now() - job.timestamp < DATABASE_PATIENCE_MS) {
        // Not this job's fault and not worth an attempt: it waits a moment and tries again, so
        // work resumes within a second of the database's return rather than after a backoff
        // grown through the outage (which could also use up every attempt of a long one).
        metrics().databaseWaits.inc({ queue: job.queueName });
        logger.debug({ err: (error as Error).message }, "database unreachable; job waits for it");
        outcome = "delayed";
        await job.moveToDelayed(Date.now() + databaseWaitMs(Date.now() - job.timestamp), token);
        throw new DelayedError();
      }
      if (
        error instanceof ChannelPermanentError ||
        error instanceof ChannelAuthError ||
        error instanceof DomainError
      ) {
        logger.warn({ err: error.message, kind: error.name }, "permanent failure");
        throw new UnrecoverableError(`${error.name}: ${error.message}`);
      }
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "job failed; will retry",
      );
      throw error;
    } finally {
      metrics().jobSeconds.observe(
        { queue: job.queueName, outcome },
        (Date.now() - started) / 1000,
      );
    }
  };
}
