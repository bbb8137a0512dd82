import type { MaintenanceJob } from "../queues/definitions";
import { log } from "../logger.server";

/** Housekeeping tasks run on the maintenance queue. */
export async function runMaintenance(job: MaintenanceJob): Promise<unknown> {
  switch (job.task) {
    default:
      log({ task: job.task }).warn("maintenance task not available in this version");
      return { skipped: job.task };
  }
}
