/**
 * `npm run worker`: every queue processor, in its own process (never inside the web server).
 * Attaches 'error' listeners, and on SIGTERM/SIGINT stops taking jobs, lets active jobs finish
 * (BullMQ `worker.close()`), then closes Redis and Postgres.
 */
import { Worker } from "bullmq";
import { env } from "../app/env.server";
import { runShutdown } from "../app/lib/lifecycle.server";
import { logger } from "../app/logger.server";
import { createRedis } from "../app/queues/connection.server";
import { cappedBackoff } from "../app/queues/queues.server";
import type { QueueName } from "../app/queues/definitions";
import { disconnectDb } from "../app/db.server";
import { sweep } from "../app/services/maintenance.server";
import { processors, type ProcessorSpec } from "./processors";
import { startMetricsServer } from "./metrics-server";
import { registerSchedules } from "./schedules";

process.env.STOCKGUARD_PROCESS ??= "worker";

export async function startWorkers(only?: QueueName[]): Promise<Worker[]> {
  const config = env();
  const connection = createRedis("worker");
  // After Redis restarts (its data gone), register the schedulers again on reconnect.
  let readyOnce = false;
  connection.on("ready", () => {
    if (readyOnce) {
      logger().warn("Redis connection restored; registering schedules again");
      registerSchedules().catch((error: Error) =>
        logger().error({ err: error.message }, "schedules not registered"),
      );
      // Its jobs may be gone with it: everything pending is queued again now (idempotent by
      // job id) instead of when the sweeper next finds it 10 s old.
      void sweepAfterRedisLoss();
    }
    readyOnce = true;
  });
  const workers: Worker[] = [];
  for (const [name, spec] of Object.entries(processors()) as [
    QueueName,
    ProcessorSpec | undefined,
  ][]) {
    if (!spec || (only && !only.includes(name))) continue;
    const worker = new Worker(name, spec.processor, {
      connection,
      prefix: config.QUEUE_PREFIX,
      concurrency: spec.concurrency ?? config.WORKER_CONCURRENCY,
      autorun: true,
      // A killed worker's jobs come back within 4.5 s: its lock lapses after lockDuration and
      // the stalled check (every stalledInterval) returns them to the queue. Live workers renew
      // their locks every lockDuration / 2.
      lockDuration: 3_000,
      settings: { backoffStrategy: cappedBackoff },
      stalledInterval: 1_500,
      maxStalledCount: 5,
    });
    worker.on("error", (error) =>
      logger().error({ queue: name, err: error.message }, "worker error"),
    );
    worker.on("failed", (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        logger().warn({ queue: name, jobId: job.id, err: error.message }, "job failed permanently");
      }
    });
    workers.push(worker);
  }
  return workers;
}

/**
 * The sweep after Redis came back, retried every half second for up to 30 s: the producers'
 * connection (which the sweep enqueues on) reconnects on its own schedule, up to 2 s after this
 * worker's. A sweep that failed once left every lost job to the regular sweeper, which waits
 * until work is 10 s old (the Redis fault's recovery went 4 s -> 13 s when it happened).
 */
export async function sweepAfterRedisLoss(
  run: () => Promise<unknown> = () => sweep({ redisLost: true }),
  pauseMs = 500,
): Promise<boolean> {
  for (let attempt = 1; attempt <= 60; attempt++) {
    try {
      await run();
      if (attempt > 1) logger().info({ attempt }, "sweep after Redis came back done");
      return true;
    } catch (error) {
      if (attempt === 1 || attempt % 10 === 0)
        logger().warn(
          { err: (error as Error).message, attempt },
          "sweep after Redis came back failed; trying again",
        );
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  logger().error("sweep after Redis came back failed for 30 s; the regular sweeper takes over");
  return false;
}

async function main(): Promise<void> {
  env();
  const workers = await startWorkers();
  await registerSchedules();
  const metricsServer = startMetricsServer(
    env().WORKER_METRICS_PORT,
    env().WORKER_METRICS_HOST,
    env().STOCKGUARD_METRICS_TOKEN,
  );
  logger().info({ queues: workers.map((w) => w.name) }, "StockGuard worker started");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger().info({ signal }, "worker shutting down: finishing active jobs");
    const hardStop = setTimeout(() => process.exit(1), 30_000);
    hardStop.unref();
    metricsServer?.close();
    await Promise.allSettled(workers.map((w) => w.close()));
    await runShutdown();
    await disconnectDb();
    logger().info("worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    logger().fatal(
      { err: error instanceof Error ? error.message : error },
      "worker failed to start",
    );
    process.exit(1);
  });
}
