/**
 * Alerts: per-shop settings (recipients, webhook, conditions, digest), the current state of each
 * alert condition (computed for every shop in one statement per condition), and the alert rows
 * themselves — one open row per (shop, condition, subject) until it clears, enforced by a
 * partial unique index; deliveries claimed with a conditional update so one is sent once.
 */
import { db, sql } from "../lib/sql.server";

export type AlertCondition = "oversell" | "channel_stale" | "drift" | "subscription";

export type AlertSettingsRow = {
  shopId: string;
  emailTo: string[];
  webhookUrl: string | null;
  staleMinutes: number;
  conditions: string[];
  digest: boolean;
};

export const DEFAULT_CONDITIONS: AlertCondition[] = [
  "oversell",
  "channel_stale",
  "drift",
  "subscription",
];

export async function alertSettings(shopId: string): Promise<AlertSettingsRow | null> {
  const rows = await db().query<AlertSettingsRow>(sql`
    SELECT shop_id AS "shopId", email_to AS "emailTo", webhook_url AS "webhookUrl",
           stale_minutes AS "staleMinutes", conditions, digest
      FROM alert_settings WHERE shop_id = ${shopId}::uuid`);
  return rows[0] ?? null;
}

export async function saveAlertSettings(input: AlertSettingsRow): Promise<void> {
  await db().execute(sql`
    INSERT INTO alert_settings (shop_id, email_to, webhook_url, stale_minutes, conditions, digest, updated_at)
    VALUES (${input.shopId}::uuid, ${input.emailTo}::text[], ${input.webhookUrl}, ${input.staleMinutes},
            ${input.conditions}::text[], ${input.digest}, now())
    ON CONFLICT (shop_id) DO UPDATE SET email_to = EXCLUDED.email_to, webhook_url = EXCLUDED.webhook_url,
      stale_minutes = EXCLUDED.stale_minutes, conditions = EXCLUDED.conditions, digest = EXCLUDED.digest,
      updated_at = now()`);
}

/** A condition that holds now: who it is about and what to say. */
export type ActiveCondition = {
  shopId: string;
  condition: AlertCondition;
  subject: string;
  title: string;
  details: Record<string, unknown>;
};

/** Items with confirmed oversold units not yet resolved. */
export async function activeOversells(): Promise<ActiveCondition[]> {
  const rows = await db().query<{
    shopId: string;
    itemId: string;
    sku: string;
    units: number;
    incidents: number;
  }>(sql`
    SELECT shop_id AS "shopId", item_id AS "itemId", min(sku) AS sku, sum(units)::int AS units, count(*)::int AS incidents
      FROM oversell_incident WHERE status = 'confirmed' AND resolved_at IS NULL
     GROUP BY shop_id, item_id LIMIT 1000`);
  return rows.map((r) => ({
    shopId: r.shopId,
    condition: "oversell" as const,
    subject: `item:${r.itemId}`,
    title: `${r.units} unit${r.units === 1 ? "" : "s"} of ${r.sku || "an item without SKU"} oversold`,
    details: { itemId: r.itemId, sku: r.sku, units: r.units, incidents: r.incidents },
  }));
}

/**
 * Connections with changes waiting to be written for longer than the shop's `stale_minutes`
 * (15 without settings) and no write in that time.
 */
export async function activeStaleChannels(): Promise<ActiveCondition[]> {
  const rows = await db().query<{
    shopId: string;
    connectionId: string;
    name: string;
    pending: number;
    since: Date;
    minutes: number;
  }>(sql`
    SELECT c.shop_id AS "shopId", c.id AS "connectionId", c.name, count(*)::int AS pending,
           min(l.dirty_since) AS since, COALESCE(s.stale_minutes, 15) AS minutes
      FROM connection c
      JOIN listing l ON l.connection_id = c.id
      LEFT JOIN alert_settings s ON s.shop_id = c.shop_id
     WHERE c.status <> 'disconnected' AND l.published_version > l.pushed_version
       AND l.dirty_since < now() - make_interval(mins => COALESCE(s.stale_minutes, 15))
       AND (c.last_push_at IS NULL OR c.last_push_at < now() - make_interval(mins => COALESCE(s.stale_minutes, 15)))
     GROUP BY c.shop_id, c.id, c.name, s.stale_minutes LIMIT 1000`);
  return rows.map((r) => ({
    shopId: r.shopId,
    condition: "channel_stale" as const,
    subject: `connection:${r.connectionId}`,
    title: `${r.name} not written for over ${r.minutes} minutes with ${r.pending} pending change${r.pending === 1 ? "" : "s"}`,
    details: { connectionId: r.connectionId, pending: r.pending, since: r.since.toISOString() },
  }));
}

/** Connections where reconcile found drift in the last hour. */
export async function activeDrift(): Promise<ActiveCondition[]> {
  const rows = await db().query<{
    shopId: string;
    connectionId: string;
    name: string;
    listings: number;
    last: Date;
  }>(sql`
    SELECT d.shop_id AS "shopId", d.connection_id AS "connectionId", c.name,
           count(DISTINCT d.listing_id)::int AS listings, max(d.detected_at) AS last
      FROM drift_record d JOIN connection c ON c.id = d.connection_id
     WHERE d.detected_at > now() - interval '1 hour'
     GROUP BY d.shop_id, d.connection_id, c.name LIMIT 1000`);
  return rows.map((r) => ({
    shopId: r.shopId,
    condition: "drift" as const,
    subject: `connection:${r.connectionId}`,
    title: `Reconcile found ${r.listings} listing${r.listings === 1 ? "" : "s"} drifted on ${r.name}`,
    details: {
      connectionId: r.connectionId,
      listings: r.listings,
      lastDetected: r.last.toISOString(),
    },
  }));
}

/** Connections with an open subscription failure (missing or failing webhook subscription). */
export async function activeSubscriptionFailures(): Promise<ActiveCondition[]> {
  const rows = await db().query<{
    shopId: string;
    connectionId: string;
    name: string;
    reason: string;
  }>(sql`
    SELECT DISTINCT ON (f.connection_id) f.shop_id AS "shopId", f.connection_id AS "connectionId", c.name, f.reason
      FROM sync_failure f JOIN connection c ON c.id = f.connection_id
     WHERE f.resolved_at IS NULL AND f.kind LIKE 'subscription%'
     ORDER BY f.connection_id, f.occurred_at DESC LIMIT 1000`);
  return rows.map((r) => ({
    shopId: r.shopId,
    condition: "subscription" as const,
    subject: `connection:${r.connectionId}`,
    title: `Webhook subscription failing on ${r.name}`,
    details: { connectionId: r.connectionId, reason: r.reason },
  }));
}

/** Opens an alert unless one is open for the same condition and subject; true if opened. */
export async function openAlert(input: ActiveCondition): Promise<bigint | null> {
  const rows = await db().query<{ id: bigint }>(sql`
    INSERT INTO alert (shop_id, condition, subject, title, details)
    VALUES (${input.shopId}::uuid, ${input.condition}, ${input.subject}, ${input.title}, ${JSON.stringify(input.details)}::jsonb)
    ON CONFLICT (shop_id, condition, subject) WHERE cleared_at IS NULL DO NOTHING
    RETURNING id`);
  return rows[0]?.id ?? null;
}

/** Clears open alerts of `condition` whose (shop, subject) is not among `active`. */
export async function clearAlerts(
  condition: AlertCondition,
  active: { shopId: string; subject: string }[],
): Promise<number> {
  const keys = active.map((a) => `${a.shopId}|${a.subject}`);
  return db().execute(sql`
    UPDATE alert SET cleared_at = now()
     WHERE cleared_at IS NULL AND condition = ${condition}
       AND NOT ((shop_id::text || '|' || subject) = ANY(${keys}::text[]))`);
}

export type AlertRow = {
  id: bigint;
  shopId: string;
  condition: AlertCondition;
  subject: string;
  title: string;
  details: Record<string, unknown>;
  openedAt: Date;
  clearedAt: Date | null;
  emailSentAt: Date | null;
  webhookSentAt: Date | null;
};

const ALERT_COLUMNS = sql`id, shop_id AS "shopId", condition, subject, title, details, opened_at AS "openedAt",
  cleared_at AS "clearedAt", email_sent_at AS "emailSentAt", webhook_sent_at AS "webhookSentAt"`;

/** Open alerts of a shop, newest first (the admin banner). */
export async function openAlerts(shopId: string, limit = 20): Promise<AlertRow[]> {
  return db().query<AlertRow>(sql`
    SELECT ${ALERT_COLUMNS} FROM alert WHERE shop_id = ${shopId}::uuid AND cleared_at IS NULL
     ORDER BY opened_at DESC, id DESC LIMIT ${limit}`);
}

/** Open alerts not yet delivered on a channel, with fewer than 5 attempts, per shop. */
export async function undelivered(channel: "email" | "webhook"): Promise<AlertRow[]> {
  const column = channel === "email" ? sql`email_sent_at` : sql`webhook_sent_at`;
  return db().query<AlertRow>(sql`
    SELECT ${ALERT_COLUMNS} FROM alert
     WHERE cleared_at IS NULL AND ${column} IS NULL AND delivery_attempts < 5
     ORDER BY shop_id, opened_at LIMIT 500`);
}

/** Claims delivery of alerts on a channel (set before sending: never sent twice). */
export async function claimDelivery(
  channel: "email" | "webhook",
  ids: bigint[],
): Promise<bigint[]> {
  if (ids.length === 0) return [];
  const idList = ids.map(String);
  const rows =
    channel === "email"
      ? await db().query<{ id: bigint }>(sql`
          UPDATE alert SET email_sent_at = now(), delivery_attempts = delivery_attempts + 1
           WHERE id = ANY(${idList}::bigint[]) AND email_sent_at IS NULL RETURNING id`)
      : await db().query<{ id: bigint }>(sql`
          UPDATE alert SET webhook_sent_at = now(), delivery_attempts = delivery_attempts + 1
           WHERE id = ANY(${idList}::bigint[]) AND webhook_sent_at IS NULL RETURNING id`);
  return rows.map((r) => r.id);
}

/** A delivery failed: released for another attempt, with the error kept. */
export async function releaseDelivery(
  channel: "email" | "webhook",
  ids: bigint[],
  error: string,
): Promise<void> {
  if (ids.length === 0) return;
  const idList = ids.map(String);
  if (channel === "email")
    await db().execute(sql`
      UPDATE alert SET email_sent_at = NULL, last_error = ${error.slice(0, 500)} WHERE id = ANY(${idList}::bigint[])`);
  else
    await db().execute(sql`
      UPDATE alert SET webhook_sent_at = NULL, last_error = ${error.slice(0, 500)} WHERE id = ANY(${idList}::bigint[])`);
}
