/**
 * The Sync health page's read model and its two writes: the shop's connections, open sync
 * failures, open catalog issues, open unmatched order lines, recent drift, the labels of the
 * listings they name; resolving a failure, finding a connection to reconcile.
 */
import prisma from "../../db.server";

/** Every connection of the shop, source first, then by creation. */
export async function listHealthConnections(input: { shopId: string }) {
  return prisma.connection.findMany({
    where: { shopId: input.shopId },
    orderBy: [{ role: "asc" }, { createdAt: "asc" }],
  });
}

/** Unresolved sync failures, newest first. */
export async function listOpenFailures(input: { shopId: string; limit: number }) {
  return prisma.syncFailure.findMany({
    where: { shopId: input.shopId, resolvedAt: null },
    orderBy: { occurredAt: "desc" },
    take: input.limit,
  });
}

/** Unresolved catalog issues, most recently seen first. */
export async function listOpenCatalogIssues(input: { shopId: string; limit: number }) {
  return prisma.catalogIssue.findMany({
    where: { shopId: input.shopId, resolvedAt: null },
    orderBy: { lastSeenAt: "desc" },
    take: input.limit,
  });
}

/** Order lines no stock item matched (and not resolved since), most recently seen first. */
export async function listOpenUnmatchedLines(input: { shopId: string; limit: number }) {
  return prisma.unmatchedLine.findMany({
    where: { shopId: input.shopId, resolvedAt: null },
    orderBy: { lastSeenAt: "desc" },
    take: input.limit,
  });
}

/** Drift found by reconciliation, newest first. */
export async function listRecentDrift(input: { shopId: string; limit: number }) {
  return prisma.driftRecord.findMany({
    where: { shopId: input.shopId },
    orderBy: { detectedAt: "desc" },
    take: input.limit,
  });
}

/** SKU and remote reference of these listings of the shop. */
export async function listListingLabels(input: { shopId: string; listingIds: string[] }) {
  return prisma.listing.findMany({
    where: { shopId: input.shopId, id: { in: input.listingIds } },
    select: { id: true, sku: true, remoteRef: true },
  });
}

/**
 * Marks a failure of the shop resolved now (a second call keeps the first time). False when the
 * shop has no such failure.
 */
export async function resolveFailure(input: {
  shopId: string;
  failureId: bigint;
  at: Date;
}): Promise<boolean> {
  const failure = await prisma.syncFailure.findFirst({
    where: { id: input.failureId, shopId: input.shopId },
    select: { id: true },
  });
  if (!failure) return false;
  await prisma.syncFailure.updateMany({
    where: { id: input.failureId, shopId: input.shopId, resolvedAt: null },
    data: { resolvedAt: input.at },
  });
  return true;
}

/** One connection of the shop, or null. */
export async function findHealthConnection(input: { shopId: string; connectionId: string }) {
  return prisma.connection.findFirst({
    where: { id: input.connectionId, shopId: input.shopId },
    select: { id: true, name: true, status: true },
  });
}

/**
 * Sync latency per connection and hour since `since`: event received → the channel written
 * (push trace), p50 and p95 in milliseconds, and how many writes were measured.
 */
export async function syncLatencyByHour(input: { shopId: string; since: Date }) {
  return prisma.$queryRaw<
    { connectionId: string; hour: Date; p50: number; p95: number; writes: number }[]
  >`
    SELECT pt.connection_id::text AS "connectionId",
           date_trunc('hour', pt.written_at) AS hour,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pt.written_at - r.received_at) * 1000)::float8 AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM pt.written_at - r.received_at) * 1000)::float8 AS p95,
           count(*)::int AS writes
      FROM push_trace pt
      JOIN receipt r ON r.id = pt.receipt_id
     WHERE r.shop_id = ${input.shopId}::uuid AND pt.written_at >= ${input.since}
     GROUP BY 1, 2
     ORDER BY 2`;
}

/**
 * Writes waiting per connection since `since`, as the moments they started and stopped waiting
 * (delta +n / −n, summed per connection and moment): each event (receipt) that changed what a
 * channel shows waits from its arrival until that channel is written (push trace), or until now
 * while a listing still owes it (pending receipts of a listing not yet pushed). An event already
 * waiting at `since` starts at `since`.
 */
export async function pendingWriteChanges(input: { shopId: string; since: Date }) {
  // The columns are UTC timestamps without a zone.
  return prisma.$queryRaw<{ connectionId: string; at: Date; delta: number }[]>`
    WITH since AS (SELECT (${input.since.toISOString()}::timestamptz AT TIME ZONE 'UTC') AS at),
    spans AS (
      SELECT pt.connection_id, r.received_at AS from_at,
             greatest(pt.written_at, r.received_at) AS to_at
        FROM push_trace pt
        JOIN receipt r ON r.id = pt.receipt_id
       WHERE r.shop_id = ${input.shopId}::uuid AND pt.written_at >= (SELECT at FROM since)
      UNION ALL
      SELECT DISTINCT l.connection_id, r.received_at, NULL::timestamp
        FROM listing l
        CROSS JOIN LATERAL unnest(l.pending_receipt_ids) AS p(receipt_id)
        JOIN receipt r ON r.id = p.receipt_id
       WHERE l.shop_id = ${input.shopId}::uuid AND l.published_version > l.pushed_version
         AND NOT EXISTS (SELECT 1 FROM push_trace t
                          WHERE t.receipt_id = r.id AND t.connection_id = l.connection_id)
    ), changes AS (
      SELECT connection_id, greatest(from_at, (SELECT at FROM since)) AS at, 1 AS delta FROM spans
      UNION ALL
      SELECT connection_id, to_at, -1 FROM spans WHERE to_at IS NOT NULL
    )
    SELECT connection_id::text AS "connectionId", at, sum(delta)::int AS delta
      FROM changes
     GROUP BY 1, 2
     ORDER BY 2`;
}
