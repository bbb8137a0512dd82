/**
 * Connections (a shop's source store and its sales channels): loading one with its shop's state,
 * its sealed credentials, status changes, failures, and the timestamps the admin shows.
 */
import type { ChannelKind, ConnectionContext } from "../channels/channel-adapter";
import prisma from "../db.server";
import { db, raw, sql, type SqlClient } from "../lib/sql.server";

export type ConnectionRow = {
  id: string;
  shopId: string;
  kind: ChannelKind;
  role: "source" | "sales";
  status: string;
  accountRef: string;
  apiBaseUrl: string | null;
  credentials: string | null;
  settings: Record<string, unknown>;
  shopDomain: string;
  shopStatus: string;
  syncEnabled: boolean;
};

/** A `ConnectionRow` (connection `c` joined with its shop `s`), for every query that loads one. */
export const CONNECTION_ROW = raw(`
    c.id, c.shop_id AS "shopId", c.kind::text AS kind, c.role::text AS role, c.status::text AS status,
    c.account_ref AS "accountRef", c.api_base_url AS "apiBaseUrl", c.credentials, c.settings,
    s.domain AS "shopDomain", s.status::text AS "shopStatus", s.sync_enabled AS "syncEnabled"`);

export async function loadConnection(
  connectionId: string,
  client: SqlClient = db(),
): Promise<ConnectionRow | null> {
  const rows = await client.query<ConnectionRow>(sql`
    SELECT ${CONNECTION_ROW}
      FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.id = ${connectionId}::uuid`);
  return rows[0] ?? null;
}

/** What an adapter needs to know about a connection (credentials stay in the row). */
export function toContext(row: ConnectionRow): ConnectionContext {
  return {
    id: row.id,
    shopId: row.shopId,
    kind: row.kind,
    role: row.role,
    accountRef: row.accountRef,
    apiBaseUrl: row.apiBaseUrl,
    settings: row.settings ?? {},
  };
}

/** Sealed credentials of a connection (opened by the channel's credentials provider). */
export async function sealedCredentials(connectionId: string): Promise<string | null> {
  const rows = await db().query<{ credentials: string | null }>(sql`
    SELECT credentials FROM connection WHERE id = ${connectionId}::uuid`);
  return rows[0]?.credentials ?? null;
}

/** Every connection of any shop that is this account on this channel (inbound routing). */
export async function connectionsForAccount(
  kind: ChannelKind,
  accountRef: string,
): Promise<
  {
    connectionId: string;
    shopId: string;
    role: "source" | "sales";
    shopStatus: string;
    credentials: string | null;
  }[]
> {
  return db().query(sql`
    SELECT c.id AS "connectionId", c.shop_id AS "shopId", c.role::text AS role, s.status::text AS "shopStatus",
           c.credentials
      FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.kind = ${kind}::"ChannelKind" AND c.account_ref = ${accountRef}
       AND c.status <> 'disconnected'`);
}

/** The channel rejected our credentials: the connection needs the merchant's attention. */
export async function markConnectionError(connectionId: string, reason: string): Promise<void> {
  await db().execute(sql`
    UPDATE connection SET status = 'error', status_reason = ${reason} WHERE id = ${connectionId}::uuid`);
}

export async function recordConnectionFailure(input: {
  shopId: string;
  connectionId: string;
  kind: string;
  reason: string;
  details?: unknown;
}): Promise<void> {
  await db().execute(sql`
    INSERT INTO sync_failure (shop_id, connection_id, kind, reason, details)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.kind}, ${input.reason},
            ${JSON.stringify(input.details ?? {})}::jsonb)`);
}

export async function touchConnectionPush(connectionId: string, at: Date): Promise<void> {
  await db().execute(
    sql`UPDATE connection SET last_push_at = ${at}::timestamptz WHERE id = ${connectionId}::uuid`,
  );
}

export async function markReconciled(connectionId: string): Promise<void> {
  await db().execute(
    sql`UPDATE connection SET last_reconciled_at = now() WHERE id = ${connectionId}::uuid`,
  );
}

export async function importedAt(connectionId: string): Promise<Date | null> {
  const rows = await db().query<{ importedAt: Date | null }>(sql`
    SELECT imported_at AS "importedAt" FROM connection WHERE id = ${connectionId}::uuid`);
  return rows[0]?.importedAt ?? null;
}

/** Records an import; returns when the connection was imported before (null: first import). */
export async function markImported(connectionId: string): Promise<Date | null> {
  const [previous] = await db().query<{ importedAt: Date | null }>(sql`
    WITH before AS (SELECT imported_at FROM connection WHERE id = ${connectionId}::uuid)
    UPDATE connection SET imported_at = now() WHERE id = ${connectionId}::uuid
    RETURNING (SELECT imported_at FROM before) AS "importedAt"`);
  return previous?.importedAt ?? null;
}

export async function mergeSettings(
  connectionId: string,
  settings: Record<string, unknown>,
): Promise<void> {
  await db().execute(sql`
    UPDATE connection SET settings = settings || ${JSON.stringify(settings)}::jsonb
     WHERE id = ${connectionId}::uuid`);
}

/** Active connections of active, syncing shops (scheduled reconciliation). */
export async function reconcilableConnections(): Promise<string[]> {
  const rows = await db().query<{ id: string }>(sql`
    SELECT c.id FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.status = 'active' AND s.status = 'active' AND s.sync_enabled`);
  return rows.map((r) => r.id);
}

/** Creates or refreshes a sales connection of a shop (credentials already sealed). */
export async function upsertSalesConnection(input: {
  shopId: string;
  kind: ChannelKind;
  accountRef: string;
  name: string;
  /** Sealed; null for a store that installed StockGuard (it uses its own session). */
  credentials: string | null;
  apiBaseUrl?: string | null;
  settings?: Record<string, unknown>;
  renamed?: boolean;
}): Promise<{ id: string }> {
  return prisma.connection.upsert({
    where: {
      shopId_kind_accountRef: {
        shopId: input.shopId,
        kind: input.kind,
        accountRef: input.accountRef,
      },
    },
    create: {
      shopId: input.shopId,
      kind: input.kind,
      role: "sales",
      name: input.name,
      accountRef: input.accountRef,
      credentials: input.credentials,
      apiBaseUrl: input.apiBaseUrl ?? null,
      settings: (input.settings ?? {}) as object,
    },
    update: {
      credentials: input.credentials,
      status: "active",
      statusReason: null,
      ...(input.apiBaseUrl !== undefined ? { apiBaseUrl: input.apiBaseUrl } : {}),
      ...(input.renamed ? { name: input.name } : {}),
      ...(input.settings ? { settings: input.settings as object } : {}),
    },
    select: { id: true },
  });
}

/** Active connections of this kind in active, syncing shops (polling). */
export async function activeConnectionsOfKind(
  kind: ChannelKind,
): Promise<{ id: string; polledAt: Date | null; settings: Record<string, unknown> }[]> {
  return db().query(sql`
    SELECT c.id, c.polled_at AS "polledAt", c.settings FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.kind = ${kind}::"ChannelKind" AND c.status = 'active' AND s.status = 'active'`);
}

export async function pollCursor(connectionId: string): Promise<string | null> {
  const rows = await db().query<{ cursor: string | null }>(sql`
    SELECT poll_cursor AS cursor FROM connection WHERE id = ${connectionId}::uuid`);
  return rows[0]?.cursor ?? null;
}

export async function savePollCursor(connectionId: string, cursor: string | null): Promise<void> {
  await db().execute(sql`
    UPDATE connection SET poll_cursor = ${cursor}, polled_at = now() WHERE id = ${connectionId}::uuid`);
}

/** A marketplace account's connections by its account id (queue messages name the seller). */
export async function connectionsByAccount(
  kind: ChannelKind,
  accountRefs: string[],
): Promise<{ id: string; shopId: string; accountRef: string; active: boolean }[]> {
  if (accountRefs.length === 0) return [];
  return db().query(sql`
    SELECT c.id, c.shop_id AS "shopId", c.account_ref AS "accountRef",
           (c.status IN ('active', 'paused') AND s.status = 'active') AS active
      FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.kind = ${kind}::"ChannelKind" AND c.account_ref = ANY(${accountRefs}::text[])`);
}

export async function setCredentials(connectionId: string, sealed: string): Promise<void> {
  await db().execute(sql`
    UPDATE connection SET credentials = ${sealed} WHERE id = ${connectionId}::uuid`);
}

/**
 * A channel account deleted at the channel's request (eBay MARKETPLACE_ACCOUNT_DELETION): every
 * connection of this kind whose account ref hashes (SHA-256, hex) to `accountRefSha256` loses its
 * credentials and its account identifiers (account ref, name, account settings; the sync
 * location stays so its listings keep their meaning) and stops syncing. Returns the connections
 * changed: none when they were already erased.
 */
export async function eraseDeletedAccount(
  kind: ChannelKind,
  accountRefSha256: string,
  reason: string,
): Promise<{ id: string; shopId: string }[]> {
  return db().query(sql`
    UPDATE connection
       SET credentials = NULL, status = 'disconnected', status_reason = ${reason},
           account_ref = 'deleted-' || left(${accountRefSha256}, 16),
           name = 'Deleted ' || kind::text || ' account',
           settings = CASE WHEN settings ? 'syncLocationId'
                           THEN jsonb_build_object('syncLocationId', settings->'syncLocationId')
                           ELSE '{}'::jsonb END,
           poll_cursor = NULL, updated_at = now()
     WHERE kind = ${kind}::"ChannelKind"
       AND encode(sha256(convert_to(account_ref, 'UTF8')), 'hex') = ${accountRefSha256}
     RETURNING id, shop_id AS "shopId"`);
}

export async function setConnectionStatus(
  connectionId: string,
  status: "active" | "paused" | "disconnected",
  reason: string | null,
): Promise<void> {
  await db().execute(sql`
    UPDATE connection SET status = ${status}::"ConnectionStatus", status_reason = ${reason}
     WHERE id = ${connectionId}::uuid`);
}

/** Disconnected: credentials deleted, history (listings, orders, movements) kept. */
export async function disconnect(connectionId: string, reason: string): Promise<void> {
  await db().execute(sql`
    UPDATE connection SET status = 'disconnected', status_reason = ${reason}, credentials = NULL
     WHERE id = ${connectionId}::uuid`);
}

/** The connections of a shop (sales and source) with their status. */
export async function shopConnections(shopId: string): Promise<
  {
    id: string;
    kind: ChannelKind;
    role: "source" | "sales";
    name: string;
    accountRef: string;
    status: string;
    statusReason: string | null;
  }[]
> {
  return db().query(sql`
    SELECT id, kind::text AS kind, role::text AS role, name, account_ref AS "accountRef",
           status::text AS status, status_reason AS "statusReason"
      FROM connection WHERE shop_id = ${shopId}::uuid ORDER BY role DESC, created_at`);
}

/** Another shop's live connection to this account (a store can sell for one source only). */
export async function otherShopsConnection(
  kind: ChannelKind,
  accountRef: string,
  shopId: string,
): Promise<{ shopDomain: string } | null> {
  const rows = await db().query<{ shopDomain: string }>(sql`
    SELECT s.domain AS "shopDomain" FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.kind = ${kind}::"ChannelKind" AND c.account_ref = ${accountRef} AND c.role = 'sales'
       AND c.shop_id <> ${shopId}::uuid AND c.status <> 'disconnected' AND s.status = 'active'
     LIMIT 1`);
  return rows[0] ?? null;
}
