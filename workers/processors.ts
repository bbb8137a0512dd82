/**
 * The worker's processor and concurrency per queue (ingest, push, reconcile, maintenance,
 * catalog, poll, spool), each built with job-runner.ts around one service call.
 */
import type { Processor } from "bullmq";
import { env } from "../app/env.server";
import {
  ZIngestJob,
  ZMaintenanceJob,
  ZPollJob,
  ZPushJob,
  ZReconcileJob,
  ZSpoolJob,
  type QueueName,
} from "../app/queues/definitions";
import { ingestReceipt } from "../app/services/ingest/ingest-receipt.server";
import { runMaintenance } from "../app/services/maintenance.server";
import { pushConnection } from "../app/services/push/push-connection.server";
import { isDeferredPushJob } from "../app/queues/jobs.server";
import { reconcileConnection } from "../app/services/reconcile/reconcile-connection.server";
import { pollConnection, receiveQueueAndContinue } from "../app/services/inbound/poll.server";
import { confirmWrites } from "../app/services/push/confirm-writes.server";
import { drainSpooled } from "../app/services/inbound/spool.server";
import { ShopShares } from "./fairness";
import { processor } from "./job-runner";

export type ProcessorSpec = { processor: Processor; concurrency?: number };

/** Queue → processor. Processors stay thin: parse `job.data`, call one service. */
export function processors(): Partial<Record<QueueName, ProcessorSpec>> {
  const concurrency = env().WORKER_CONCURRENCY;
  const shares = new ShopShares(concurrency);
  return {
    ingest: {
      processor: processor(ZIngestJob, ({ receiptId, shopId }) =>
        shares.run(shopId, () => ingestReceipt(BigInt(receiptId))),
      ),
      concurrency,
    },
    push: {
      processor: processor(ZPushJob, ({ connectionId }, { job }) =>
        pushConnection(connectionId, { deferredCheck: isDeferredPushJob(job.id) }),
      ),
      concurrency,
    },
    reconcile: {
      processor: processor(ZReconcileJob, ({ connectionId, reason }) =>
        reconcileConnection(connectionId, reason),
      ),
      concurrency: 2,
    },
    maintenance: {
      processor: processor(ZMaintenanceJob, (data) => runMaintenance(data)),
      concurrency: 2,
    },
    catalog: {
      processor: processor(ZMaintenanceJob, (data) => runMaintenance(data)),
      concurrency: 1,
    },
    spool: {
      processor: processor(ZSpoolJob, (data) => drainSpooled(data)),
      concurrency,
    },
    poll: {
      processor: processor(ZPollJob, (data) => {
        switch (data.task) {
          case "poll_connection":
            return pollConnection(data.connectionId);
          case "poll_queue":
            return receiveQueueAndContinue(data.kind);
          case "confirm_writes":
            return confirmWrites(data.connectionId, data.attempt);
        }
      }),
      concurrency: 4,
    },
  };
}
