/**
 * Every queue StockGuard uses, with its payload schema. Jobs carry keys, never quantities: the
 * processor re-reads current state, so a late or repeated job cannot write a stale number.
 * Payloads are parsed with these schemas by the processor (`job.data` is untrusted JSON).
 */
import { z } from "zod";

export const QUEUES = {
  /** A stored webhook/poll receipt to apply to the ledger. */
  ingest: "ingest",
  /** Write the published quantities of one connection's dirty listings. */
  push: "push",
  /** Compare one connection's remote quantities with what should be published, and repair. */
  reconcile: "reconcile",
  /** Source-level reads, sweeper, retention, schedules: low-volume housekeeping. */
  maintenance: "maintenance",
  /** Catalog imports: long jobs, kept off the maintenance queue so they never hold reads up. */
  catalog: "catalog",
  /**
   * Reads from channels that do not push everything: polls per connection (orders, cancels),
   * the shared notification queue (Amazon SQS), confirmation of accepted writes.
   */
  poll: "poll",
  /**
   * Verified deliveries the web could not store because the database was unreachable, held in
   * Redis until it is back (decision 0023). The one queue whose jobs carry the event itself:
   * there is no row yet for a key to point at.
   */
  spool: "spool",
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const ZIngestJob = z.object({
  receiptId: z.string().regex(/^\d+$/),
  /** The receipt's shop: per-shop fairness (priority at enqueue, active cap per worker). */
  shopId: z.uuid().optional(),
});
export const ZPushJob = z.object({ connectionId: z.uuid() });
export const ZReconcileJob = z.object({
  connectionId: z.uuid(),
  reason: z.enum(["schedule", "manual", "push_failed", "startup"]),
});
export const ZMaintenanceJob = z.discriminatedUnion("task", [
  z.object({ task: z.literal("sweep_receipts") }),
  z.object({ task: z.literal("prune") }),
  z.object({ task: z.literal("keep_recommendations") }),
  z.object({ task: z.literal("schedule_reconcile") }),
  z.object({
    task: z.literal("import_catalog"),
    connectionId: z.uuid(),
    /** Why: `install`, `connect`, `refresh` (catalog webhooks), `retry` (the merchant). */
    reason: z.string().max(40).optional(),
  }),
  z.object({ task: z.literal("schedule_polls") }),
  z.object({
    task: z.literal("read_source_levels"),
    connectionId: z.uuid(),
    /** How many times in-flight source orders made us postpone applying a count. */
    attempt: z.number().int().min(0).default(0),
  }),
  /** Shopify Flow triggers of the shop whose source store this is (services/flow). */
  z.object({ task: z.literal("deliver_flow_triggers"), connectionId: z.uuid() }),
]);

const ZChannelKind = z.enum(["shopify", "amazon", "ebay", "walmart"]);
export const ZPollJob = z.discriminatedUnion("task", [
  z.object({ task: z.literal("poll_connection"), connectionId: z.uuid() }),
  z.object({ task: z.literal("poll_queue"), kind: ZChannelKind }),
  z.object({
    task: z.literal("confirm_writes"),
    connectionId: z.uuid(),
    /** Confirmation rounds so far (the wait between them grows). */
    attempt: z.number().int().min(0).default(0),
  }),
]);

/** A verified, schema-checked Shopify delivery for one connection, as the web received it. */
export const ZSpoolJob = z.object({
  channel: z.literal("shopify"),
  /** The store's domain (recorded with a delivery refused when drained). */
  accountRef: z.string().max(255),
  connectionId: z.uuid(),
  shopId: z.uuid(),
  role: z.enum(["source", "sales"]),
  /** Every connection of the account (a replayed delivery id is refused as in the web). */
  sameAccount: z.array(z.uuid()).max(50),
  topic: z.string().max(100),
  eventId: z.string().min(1).max(255),
  deliveryId: z.string().max(255).nullable(),
  occurredAt: z.iso.datetime({ offset: true }).nullable(),
  /** When the web received it: the receipt's time and a level observation's. */
  receivedAt: z.iso.datetime({ offset: true }),
  payload: z.unknown(),
});

export type IngestJob = z.infer<typeof ZIngestJob>;
export type SpoolJob = z.infer<typeof ZSpoolJob>;
export type PollJob = z.infer<typeof ZPollJob>;
export type PushJob = z.infer<typeof ZPushJob>;
export type ReconcileJob = z.infer<typeof ZReconcileJob>;
export type MaintenanceJob = z.infer<typeof ZMaintenanceJob>;

export type JobPayloads = {
  ingest: IngestJob;
  push: PushJob;
  reconcile: ReconcileJob;
  maintenance: MaintenanceJob;
  catalog: MaintenanceJob;
  poll: PollJob;
  spool: SpoolJob;
};
