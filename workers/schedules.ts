/**
 * Periodic work, registered idempotently by every worker process (BullMQ job schedulers are
 * upserted by id, so N workers still produce one job per tick).
 */
import { env } from "../app/env.server";
import { producersReady, queue } from "../app/queues/queues.server";

export async function registerSchedules(): Promise<void> {
  await producersReady(10_000);
  const maintenance = queue("maintenance");
  await maintenance.upsertJobScheduler(
    "sweep",
    { every: 5_000 },
    { name: "sweep_receipts", data: { task: "sweep_receipts" } },
  );
  // Marketplaces: due polls and a running receive on every shared queue.
  await maintenance.upsertJobScheduler(
    "polls",
    { every: 2_000 },
    { name: "schedule_polls", data: { task: "schedule_polls" } },
  );
  await maintenance.upsertJobScheduler(
    "prune",
    { every: 3_600_000 },
    { name: "prune", data: { task: "prune" } },
  );
  // Shops that opted in to "keep recommendations applied": due ones re-evaluated once a day.
  await maintenance.upsertJobScheduler(
    "keep-recommendations",
    { every: 3_600_000 },
    { name: "keep_recommendations", data: { task: "keep_recommendations" } },
  );
  await maintenance.upsertJobScheduler(
    "reconcile",
    { every: env().RECONCILE_INTERVAL_MS },
    { name: "schedule_reconcile", data: { task: "schedule_reconcile" } },
  );
}
