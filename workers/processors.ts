import type { Processor } from "bullmq";
import { ZMaintenanceJob, type QueueName } from "../app/queues/definitions";
import { runMaintenance } from "../app/services/maintenance.server";
import { processor } from "./job-runner";

export type ProcessorSpec = { processor: Processor; concurrency?: number };

/** Queue → processor. Processors stay thin: parse `job.data`, call one service. */
export function processors(): Partial<Record<QueueName, ProcessorSpec>> {
  return {
    maintenance: {
      processor: processor(ZMaintenanceJob, (data) => runMaintenance(data)),
      concurrency: 2,
    },
  };
}
