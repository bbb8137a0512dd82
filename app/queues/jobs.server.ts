/**
 * Producers. Ids never contain `:` (BullMQ's key separator). Every job carries keys only.
 */
import { env } from "../env.server";
import { log } from "../logger.server";
import type { ChannelKind } from "../channels/channel-adapter";
import type { MaintenanceJob, ReconcileJob, SpoolJob } from "./definitions";
import { producersReady, queue, queueRedis } from "./queues.server";

/**
 * For the sweeper: a receipt whose job exhausted its attempts (a long outage) keeps its failed
 * job under the same id, which would swallow a plain re-add; retry that job instead.
 */
export async function reviveIngest(receiptId: bigint, shopId: string): Promise<void> {
  await producersReady();
  const job = await queue("ingest").getJob(`r-${receiptId}`);
  if (job && (await job.isFailed())) await job.retry("failed");
  else if (!job) await enqueueIngest(receiptId, shopId);
}

/**
 * Holds a verified delivery in Redis while the database is unreachable (decision 0023). One job
 * per connection and event: the same event spooled twice is kept once. Fails fast (within the
 * producers' ready wait) when Redis is unreachable too; the caller then answers 503.
 */
export async function spoolDelivery(job: SpoolJob): Promise<void> {
  await producersReady();
  await queue("spool").add("delivery", job, {
    jobId: `s-${job.connectionId}-${job.eventId.replaceAll(":", "_")}`,
  });
}

/** Deliveries of one shop within this window raise its jobs' priority number (fairness). */
const SHOP_LOAD_WINDOW_MS = 15_000;
const MAX_PRIORITY = 2 ** 21 - 1;

/**
 * One ingest job per receipt; re-adding the same receipt is a no-op while the job exists.
 *
 * Fair across shops: a job's priority number is how many deliveries its shop sent in the last
 * few seconds, so a shop flooding thousands of orders queues behind its own backlog while
 * another shop's order goes to the front (BullMQ serves lower numbers first, FIFO within one).
 * Every ingest job has a priority (a job without one would jump every prioritized job).
 */
export async function enqueueIngest(receiptId: bigint, shopId: string): Promise<void> {
  await producersReady();
  const load = `${env().QUEUE_PREFIX}:load:${shopId}`;
  const results = await queueRedis().multi().incr(load).pexpire(load, SHOP_LOAD_WINDOW_MS).exec();
  const count = Number(results?.[0]?.[1] ?? 1);
  await queue("ingest").add(
    "receipt",
    { receiptId: receiptId.toString(), shopId },
    { jobId: `r-${receiptId}`, priority: Math.min(MAX_PRIORITY, Math.max(1, count)) },
  );
}

/**
 * A push for a connection, coalesced: at most one push of a connection starts per
 * PUSH_COALESCE_MS window, at most one runs at a time, and a change during a running push
 * schedules exactly one more run after it (BullMQ deduplication with keepLastIfActive). The
 * window opens when a push starts (`openPushWindow`): a change while it is open waits for its end
 * and shares that push with every other change until then; the first change after a quiet
 * window is pushed at once instead of waiting a window for company that is not coming.
 * `delayMs` (the follow-up round of a push that had more than a batch) bypasses the window.
 */
export async function enqueuePush(connectionId: string, delayMs?: number): Promise<void> {
  await producersReady();
  const delay = delayMs ?? (await pushWindowLeft(connectionId));
  await queue("push").add(
    "push",
    { connectionId },
    {
      delay: Math.max(0, delay),
      deduplication: { id: `push-${connectionId}`, keepLastIfActive: true },
    },
  );
}

const pushWindowKey = (connectionId: string) => `${env().QUEUE_PREFIX}:pushwin:${connectionId}`;

/**
 * A push of the connection is starting: its coalescing window opens for PUSH_COALESCE_MS. Not
 * opened (Redis unreachable) only means the next change is pushed without waiting: an extra
 * write, never a lost one.
 */
export async function openPushWindow(connectionId: string): Promise<void> {
  const ms = env().PUSH_COALESCE_MS;
  if (ms <= 0) return;
  await queueRedis()
    .set(pushWindowKey(connectionId), "1", "PX", ms)
    .catch((error: unknown) =>
      log({ connectionId }).warn({ err: (error as Error).message }, "push window not opened"),
    );
}

/** What is left of the connection's coalescing window, in ms (0 when none is open). */
async function pushWindowLeft(connectionId: string): Promise<number> {
  return Math.max(0, await queueRedis().pttl(pushWindowKey(connectionId)));
}

const DEFERRED_PREFIX = "pushd-";

/**
 * A later re-check of a connection (an unexplained channel drop settling). It must not take the
 * place of the coalesced push (whose deduplication would then hold every new change back until
 * the re-check fires), so it has its own id; the push processor's per-connection lock keeps the
 * two from running at once.
 */
export async function enqueueDeferredPush(connectionId: string, delayMs: number): Promise<void> {
  await producersReady();
  const push = queue("push");
  let at = Math.ceil((Date.now() + Math.max(0, delayMs)) / 1000);
  // Re-checks due in the same second share one job. But a job id that has already run (or is
  // running: a re-check that re-defers within its own second) stays taken while BullMQ keeps
  // the job, and adding it again is silently ignored — the listing then waited for the sweeper
  // (10–15 s). Such a second is passed over for the next one.
  for (let tries = 0; tries < 5; tries++) {
    const state = await push.getJobState(`${DEFERRED_PREFIX}${connectionId}-${at}`);
    if (state === "unknown") break;
    if (state === "delayed" || state === "waiting" || state === "prioritized") return;
    at += 1;
  }
  await push.add(
    "push",
    { connectionId },
    {
      delay: Math.max(0, delayMs, (at - 1) * 1000 - Date.now()),
      jobId: `${DEFERRED_PREFIX}${connectionId}-${at}`,
    },
  );
}

export function isDeferredPushJob(jobId: string | undefined): boolean {
  return jobId?.startsWith(DEFERRED_PREFIX) ?? false;
}

export async function enqueuePushes(connectionIds: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(connectionIds)].map((id) => enqueuePush(id)));
}

export async function enqueueReconcile(job: ReconcileJob, delayMs = 0): Promise<void> {
  await producersReady();
  await queue("reconcile").add("reconcile", job, {
    delay: delayMs,
    deduplication: { id: `reconcile-${job.connectionId}`, keepLastIfActive: true },
  });
}

/** Maintenance tasks that concern one connection are coalesced per task and connection. */
export async function enqueueMaintenance(job: MaintenanceJob, delayMs = 0): Promise<void> {
  const scope = "connectionId" in job ? `${job.task}-${job.connectionId}` : job.task;
  await producersReady();
  // Imports run on their own queue: one shop's big import never holds every shop's reads up.
  await queue(job.task === "import_catalog" ? "catalog" : "maintenance").add(job.task, job, {
    delay: delayMs,
    deduplication: { id: scope, keepLastIfActive: true },
  });
}

/** Confirms a connection's accepted writes after `delayMs` (one job per connection at a time). */
export async function enqueueConfirmWrites(
  connectionId: string,
  delayMs: number,
  attempt = 0,
): Promise<void> {
  await producersReady();
  await queue("poll").add(
    "confirm_writes",
    { task: "confirm_writes", connectionId, attempt },
    { delay: delayMs, deduplication: { id: `confirm-${connectionId}`, keepLastIfActive: true } },
  );
}

/** Polls one connection (orders changed since its cursor, cancellations). */
export async function enqueuePoll(connectionId: string, delayMs = 0): Promise<void> {
  await producersReady();
  await queue("poll").add(
    "poll_connection",
    { task: "poll_connection", connectionId },
    { delay: delayMs, deduplication: { id: `poll-${connectionId}`, keepLastIfActive: true } },
  );
}

/** Receives from a channel's shared notification queue (Amazon SQS). */
export async function enqueueQueueReceive(kind: ChannelKind, delayMs = 0): Promise<void> {
  await producersReady();
  await queue("poll").add(
    "poll_queue",
    { task: "poll_queue", kind },
    { delay: delayMs, deduplication: { id: `queue-${kind}`, keepLastIfActive: true } },
  );
}

/**
 * A catalog refresh asked for by something anyone can trigger (a level update naming an item we
 * do not track): at most one per connection per `throttleMs`, however often it is asked
 * (BullMQ deduplication in throttle mode), so replayed deliveries cannot drive imports.
 */
export async function enqueueThrottledCatalogRefresh(
  connectionId: string,
  throttleMs = 600_000,
): Promise<void> {
  await producersReady();
  await queue("catalog").add(
    "import_catalog",
    { task: "import_catalog", connectionId },
    { delay: 2_000, deduplication: { id: `catalog-unknown-${connectionId}`, ttl: throttleMs } },
  );
}

/** Enqueue without failing the caller: the sweeper and reconciliation recover a lost job. */
export async function enqueueSafely(what: string, fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    log({ what }).warn(
      { err: (error as Error).message },
      "could not enqueue; the sweeper will retry",
    );
    return false;
  }
}
