/**
 * The Sync health page: what needs the merchant's attention in one shop (open failures, catalog
 * issues, unmatched order lines, drift) and its two actions, "Mark resolved" on a failure and
 * "Reconcile now" on a connection. Reads and writes through
 * `repositories/admin/sync-health.server.ts`.
 */
import { z } from "zod";
import {
  findHealthConnection,
  listHealthConnections,
  listListingLabels,
  listOpenCatalogIssues,
  listOpenFailures,
  listOpenUnmatchedLines,
  listRecentDrift,
  syncLatencyByHour,
  pendingWriteChanges,
  resolveFailure,
} from "../../repositories/admin/sync-health.server";
import { pendingPeaks } from "../../domain/pending-writes";
import { enqueueReconcile, enqueueSafely } from "../../queues/jobs.server";
import { STALE_PAGE, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

const LIMIT = 100;
const DRIFT_LIMIT = 50;

export type SyncHealth = {
  now: string;
  connections: {
    id: string;
    name: string;
    kind: string;
    role: string;
    status: string;
    statusReason: string | null;
    lastReconciledAt: string | null;
  }[];
  failures: {
    id: string;
    connection: string;
    kind: string;
    reason: string;
    listing: string | null;
    occurredAt: string;
  }[];
  catalogIssues: {
    id: string;
    connection: string;
    kind: string;
    sku: string | null;
    remoteRefs: string[];
    details: string;
    lastSeenAt: string;
  }[];
  unmatchedLines: {
    id: string;
    connection: string;
    orderId: string;
    lineId: string;
    sku: string | null;
    remoteRef: string | null;
    quantity: number;
    lastSeenAt: string;
  }[];
  drift: {
    id: string;
    connection: string;
    listing: string;
    expected: number;
    observed: number;
    cause: string;
    repaired: boolean;
    detectedAt: string;
  }[];
  /**
   * Sync latency (event received → channel written) per connection over the last 24 hours, by
   * hour: p50 and p95 in ms (null: nothing written that hour).
   */
  latency: {
    hours: string[];
    series: {
      connectionId: string;
      name: string;
      p50: (number | null)[];
      p95: (number | null)[];
      writes: number;
    }[];
  };
  /**
   * Writes waiting per connection over the same hours: the most that waited at once in each
   * hour (an event waits from its arrival until the channel is written), and how many wait now.
   */
  pending: {
    hours: string[];
    series: { connectionId: string; name: string; peak: number[]; now: number }[];
  };
};

const LATENCY_HOURS = 24;

/** The Sync health page: what needs the merchant's attention, scoped to one shop. */
export async function getSyncHealth(shopDomain: string): Promise<SyncHealth> {
  const shop = await requireShop(shopDomain);
  const shopId = shop.id;
  const now = new Date();
  const firstHour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  firstHour.setUTCHours(firstHour.getUTCHours() - (LATENCY_HOURS - 1));
  const [connections, failures, catalogIssues, unmatchedLines, drift, latency, pendingChanges] =
    await Promise.all([
      listHealthConnections({ shopId }),
      listOpenFailures({ shopId, limit: LIMIT }),
      listOpenCatalogIssues({ shopId, limit: LIMIT }),
      listOpenUnmatchedLines({ shopId, limit: LIMIT }),
      listRecentDrift({ shopId, limit: DRIFT_LIMIT }),
      syncLatencyByHour({ shopId, since: firstHour }),
      pendingWriteChanges({ shopId, since: firstHour }),
    ]);
  const listingIds = [
    ...new Set(
      [...failures.map((f) => f.listingId), ...drift.map((d) => d.listingId)].filter(
        (id): id is string => id !== null,
      ),
    ),
  ];
  const listings = await listListingLabels({ shopId, listingIds });
  const listingLabel = new Map(listings.map((l) => [l.id, l.sku ?? l.remoteRef]));
  const names = new Map(connections.map((c) => [c.id, c.name]));
  const connection = (id: string) => names.get(id) ?? id;
  const hours = Array.from({ length: LATENCY_HOURS }, (_, i) =>
    new Date(firstHour.getTime() + i * 3_600_000).toISOString(),
  );
  const series = connections
    .map((c) => {
      const rows = latency.filter((r) => r.connectionId === c.id);
      const at = (hour: string) => rows.find((r) => r.hour.toISOString() === hour);
      return {
        connectionId: c.id,
        name: c.name,
        p50: hours.map((h) => at(h)?.p50 ?? null),
        p95: hours.map((h) => at(h)?.p95 ?? null),
        writes: rows.reduce((sum, r) => sum + r.writes, 0),
      };
    })
    .filter((s) => s.writes > 0);
  const hourStarts = hours.map((h) => new Date(h));
  const pending = connections
    .map((c) => {
      const { peaks, waitingAtEnd } = pendingPeaks(
        pendingChanges.filter((r) => r.connectionId === c.id),
        hourStarts,
        3_600_000,
      );
      return { connectionId: c.id, name: c.name, peak: peaks, now: waitingAtEnd };
    })
    .filter((s) => s.now > 0 || s.peak.some((p) => p > 0));
  return {
    now: now.toISOString(),
    latency: { hours, series },
    pending: { hours, series: pending },
    connections: connections.map((c) => ({
      id: c.id,
      name: c.name,
      kind: c.kind,
      role: c.role,
      status: c.status,
      statusReason: c.statusReason,
      lastReconciledAt: c.lastReconciledAt?.toISOString() ?? null,
    })),
    failures: failures.map((f) => ({
      id: f.id.toString(),
      connection: connection(f.connectionId),
      kind: f.kind,
      reason: f.reason,
      listing: f.listingId ? (listingLabel.get(f.listingId) ?? f.listingId) : null,
      occurredAt: f.occurredAt.toISOString(),
    })),
    catalogIssues: catalogIssues.map((i) => ({
      id: i.id.toString(),
      connection: connection(i.connectionId),
      kind: i.kind,
      sku: i.sku,
      remoteRefs: i.remoteRefs,
      details: i.details,
      lastSeenAt: i.lastSeenAt.toISOString(),
    })),
    unmatchedLines: unmatchedLines.map((u) => ({
      id: u.id.toString(),
      connection: connection(u.connectionId),
      orderId: u.orderId,
      lineId: u.lineId,
      sku: u.sku,
      remoteRef: u.remoteRef,
      quantity: u.quantity,
      lastSeenAt: u.lastSeenAt.toISOString(),
    })),
    drift: drift.map((d) => ({
      id: d.id.toString(),
      connection: connection(d.connectionId),
      listing: listingLabel.get(d.listingId) ?? d.listingId,
      expected: d.expected,
      observed: d.observed,
      cause: d.cause,
      repaired: d.repaired,
      detectedAt: d.detectedAt.toISOString(),
    })),
  };
}

export const ZHealthAction = z.discriminatedUnion(
  "intent",
  [
    z.object({
      intent: z.literal("resolve_failure"),
      failureId: z.string().regex(/^\d{1,18}$/, STALE_PAGE),
    }),
    z.object({ intent: z.literal("reconcile"), connectionId: z.uuid(STALE_PAGE) }),
  ],
  { error: STALE_PAGE },
);
export type HealthAction = z.infer<typeof ZHealthAction>;

/**
 * "Mark resolved" on a sync failure (idempotent: resolving twice keeps the first time), or
 * "Reconcile now" on a connection (a coalesced reconcile job; the worker does the reading).
 * A failure or connection this shop does not have is a 404 with a form error.
 */
export async function performHealthAction(input: {
  shopDomain: string;
  action: HealthAction;
}): Promise<{ ok: true; message: string } | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const action = input.action;
  if (action.intent === "resolve_failure") {
    const resolved = await resolveFailure({
      shopId: shop.id,
      failureId: BigInt(action.failureId),
      at: new Date(),
    });
    if (!resolved) {
      return {
        ok: false,
        intent: action.intent,
        fieldErrors: {},
        formError: "Unknown failure",
        status: 404,
      };
    }
    return { ok: true, message: "Failure marked resolved" };
  }
  const connection = await findHealthConnection({
    shopId: shop.id,
    connectionId: action.connectionId,
  });
  if (!connection) {
    return {
      ok: false,
      intent: action.intent,
      fieldErrors: {},
      formError: "Unknown connection",
      status: 404,
    };
  }
  const queued = await enqueueSafely("manual reconcile", () =>
    enqueueReconcile({ connectionId: connection.id, reason: "manual" }),
  );
  if (!queued) {
    return {
      ok: false,
      intent: action.intent,
      fieldErrors: {},
      formError: "The job queue is unavailable right now; try again in a minute",
      status: 422,
    };
  }
  return { ok: true, message: `Reconciliation of ${connection.name} queued` };
}
