/**
 * Shopify Flow rows: the trigger outbox (one row per event StockGuard owes Flow, unique per shop
 * and event key, claimed with a lease, sent once) and the action runs applied (unique per shop and
 * Flow's action_run_id). Also the few lookups the Flow use cases need (a shop's source store, a
 * listing's variant, a connection by name).
 */
import { db, sql, type SqlClient } from "../lib/sql.server";

export type FlowTriggerRow = {
  id: bigint;
  shopId: string;
  handle: string;
  eventKey: string;
  payload: Record<string, unknown>;
  productVariantRef: string | null;
  status: "pending" | "sending" | "sent" | "failed";
  attempts: number;
};

/**
 * Records a trigger for an event; a second call with the same (shop, event key) records nothing.
 * Returns the new row's id, or null when the event already had its trigger.
 */
export async function insertFlowTrigger(
  client: SqlClient | undefined,
  input: {
    shopId: string;
    handle: string;
    eventKey: string;
    payload: Record<string, unknown>;
    productVariantRef: string | null;
  },
): Promise<bigint | null> {
  const rows = await (client ?? db()).query<{ id: bigint }>(sql`
    INSERT INTO flow_trigger (shop_id, handle, event_key, payload, product_variant_ref)
    VALUES (${input.shopId}::uuid, ${input.handle}, ${input.eventKey}, ${JSON.stringify(input.payload)}::jsonb,
            ${input.productVariantRef})
    ON CONFLICT (shop_id, event_key) DO NOTHING
    RETURNING id`);
  return rows[0]?.id ?? null;
}

/**
 * Claims the shop's unsent triggers, oldest first: pending ones, and ones whose sender's lease ran
 * out (a worker killed mid-send). One statement, so two deliveries never claim the same row.
 */
export async function claimFlowTriggers(
  shopId: string,
  leaseMs: number,
  limit: number,
  client: SqlClient = db(),
): Promise<FlowTriggerRow[]> {
  // SKIP LOCKED: rows another delivery is claiming are left to it; the outer condition is checked
  // again on a row another claim changed meanwhile (READ COMMITTED re-check), so never twice.
  return client.query<FlowTriggerRow>(sql`
    UPDATE flow_trigger t
       SET status = 'sending', attempts = t.attempts + 1,
           lease_until = now() + make_interval(secs => ${leaseMs / 1000})
     WHERE t.id IN (
       SELECT id FROM flow_trigger
        WHERE shop_id = ${shopId}::uuid
          AND (status = 'pending' OR (status = 'sending' AND lease_until < now()))
        ORDER BY id
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
       AND (t.status = 'pending' OR (t.status = 'sending' AND t.lease_until < now()))
    RETURNING t.id, t.shop_id AS "shopId", t.handle, t.event_key AS "eventKey", t.payload,
              t.product_variant_ref AS "productVariantRef", t.status, t.attempts`);
}

/** Sent: never claimed again. Only the holder of the claim (status sending) can mark it. */
export async function markFlowTriggerSent(id: bigint): Promise<boolean> {
  const n = await db().execute(sql`
    UPDATE flow_trigger SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL
     WHERE id = ${id} AND status = 'sending'`);
  return n === 1;
}

/** A failure worth retrying: back to pending (the next delivery sends it again). */
export async function releaseFlowTrigger(id: bigint, error: string): Promise<void> {
  await db().execute(sql`
    UPDATE flow_trigger SET status = 'pending', lease_until = NULL, last_error = ${error.slice(0, 1000)}
     WHERE id = ${id} AND status = 'sending'`);
}

/** Shopify refused it for good (unknown handle, invalid payload): kept, with the reason. */
export async function failFlowTrigger(id: bigint, error: string): Promise<void> {
  await db().execute(sql`
    UPDATE flow_trigger SET status = 'failed', lease_until = NULL, last_error = ${error.slice(0, 1000)}
     WHERE id = ${id} AND status = 'sending'`);
}

/** Shops with triggers left unsent for `olderThanMs` (their delivery job was lost). */
export async function shopsWithUnsentFlowTriggers(olderThanMs: number): Promise<string[]> {
  const rows = await db().query<{ shopId: string }>(sql`
    SELECT DISTINCT t.shop_id AS "shopId" FROM flow_trigger t JOIN shop s ON s.id = t.shop_id
     WHERE s.status = 'active'
       AND ((t.status = 'pending' AND t.created_at < now() - make_interval(secs => ${olderThanMs / 1000}))
         OR (t.status = 'sending' AND t.lease_until < now()))`);
  return rows.map((r) => r.shopId);
}

export async function flowTriggersOfShop(shopId: string): Promise<FlowTriggerRow[]> {
  return db().query<FlowTriggerRow>(sql`
    SELECT id, shop_id AS "shopId", handle, event_key AS "eventKey", payload,
           product_variant_ref AS "productVariantRef", status, attempts
      FROM flow_trigger WHERE shop_id = ${shopId}::uuid ORDER BY id`);
}

// --- context the triggers carry -------------------------------------------------------------

/** The shop's source store connection (where Flow runs) with the shop's domain. */
export async function sourceConnectionOfShop(
  shopId: string,
  client: SqlClient = db(),
): Promise<{ connectionId: string; domain: string } | null> {
  const rows = await client.query<{ connectionId: string; domain: string }>(sql`
    SELECT c.id AS "connectionId", s.domain
      FROM connection c JOIN shop s ON s.id = c.shop_id
     WHERE c.shop_id = ${shopId}::uuid AND c.role = 'source' AND c.kind = 'shopify'
     ORDER BY c.created_at LIMIT 1`);
  return rows[0] ?? null;
}

/** The SKU and selling channel of an oversell incident (read in the settling transaction). */
export async function incidentSubject(
  client: SqlClient,
  incidentId: bigint,
): Promise<{ sku: string; connectionId: string | null } | null> {
  const rows = await client.query<{ sku: string; connectionId: string | null }>(sql`
    SELECT sku, connection_id AS "connectionId" FROM oversell_incident WHERE id = ${incidentId}`);
  return rows[0] ?? null;
}

export async function locationName(
  locationId: string,
  client: SqlClient = db(),
): Promise<string | null> {
  const rows = await client.query<{ name: string }>(sql`
    SELECT name FROM location WHERE id = ${locationId}::uuid`);
  return rows[0]?.name ?? null;
}

/** A connection's display name and kind. */
export async function connectionLabel(
  connectionId: string,
  client: SqlClient = db(),
): Promise<{ name: string; kind: string; lastPushAt: Date | null } | null> {
  const rows = await client.query<{ name: string; kind: string; lastPushAt: Date | null }>(sql`
    SELECT name, kind::text AS kind, last_push_at AS "lastPushAt"
      FROM connection WHERE id = ${connectionId}::uuid`);
  return rows[0] ?? null;
}

/** The Shopify variant of an item at the shop's source store (its source listing), if known. */
export async function sourceVariantOfItem(
  shopId: string,
  itemId: string,
  client: SqlClient = db(),
): Promise<string | null> {
  const rows = await client.query<{ variant: string }>(sql`
    SELECT l.remote_variant_ref AS variant
      FROM listing l
      JOIN connection c ON c.id = l.connection_id AND c.role = 'source' AND c.kind = 'shopify'
      JOIN listing_component lc ON lc.listing_id = l.id AND lc.item_id = ${itemId}::uuid
     WHERE l.shop_id = ${shopId}::uuid AND l.remote_variant_ref IS NOT NULL
     ORDER BY l.created_at LIMIT 1`);
  return rows[0]?.variant ?? null;
}

/** A listing's item, SKU and the Shopify variant of that item at the source store. */
export async function listingSubject(
  listingId: string,
  client: SqlClient = db(),
): Promise<{ itemId: string | null; sku: string | null; variant: string | null } | null> {
  const rows = await client.query<{
    itemId: string | null;
    sku: string | null;
    variant: string | null;
  }>(sql`
    SELECT lc.item_id AS "itemId", COALESCE(si.sku, l.sku) AS sku,
           (SELECT s.remote_variant_ref
              FROM listing s
              JOIN connection c ON c.id = s.connection_id AND c.role = 'source' AND c.kind = 'shopify'
              JOIN listing_component sc ON sc.listing_id = s.id AND sc.item_id = lc.item_id
             WHERE s.shop_id = l.shop_id AND s.remote_variant_ref IS NOT NULL
             ORDER BY s.created_at LIMIT 1) AS variant
      FROM listing l
      LEFT JOIN listing_component lc ON lc.listing_id = l.id
      LEFT JOIN stock_item si ON si.id = lc.item_id
     WHERE l.id = ${listingId}::uuid
     ORDER BY lc.item_id LIMIT 1`);
  return rows[0] ?? null;
}

// --- action runs ----------------------------------------------------------------------------

/**
 * Claims a Flow action run for this request. Returns `new` when this request is the first with its
 * action_run_id; otherwise the earlier run's body digest and outcome (a retry or a replay).
 */
export async function claimFlowActionRun(
  client: SqlClient | undefined,
  input: { shopId: string; actionRunId: string; handle: string; bodySha256: string },
): Promise<
  { state: "new" } | { state: "seen"; bodySha256: string; outcome: Record<string, unknown> }
> {
  const inserted = await (client ?? db()).execute(sql`
    INSERT INTO flow_action_run (shop_id, action_run_id, handle, body_sha256)
    VALUES (${input.shopId}::uuid, ${input.actionRunId}, ${input.handle}, ${input.bodySha256})
    ON CONFLICT (shop_id, action_run_id) DO NOTHING`);
  if (inserted === 1) return { state: "new" };
  const rows = await (client ?? db()).query<{
    bodySha256: string;
    outcome: Record<string, unknown>;
  }>(sql`
    SELECT body_sha256 AS "bodySha256", outcome FROM flow_action_run
     WHERE shop_id = ${input.shopId}::uuid AND action_run_id = ${input.actionRunId}`);
  const row = rows[0];
  if (!row) return { state: "new" };
  return { state: "seen", ...row };
}

export async function saveFlowActionOutcome(
  client: SqlClient | undefined,
  shopId: string,
  actionRunId: string,
  outcome: Record<string, unknown>,
): Promise<void> {
  await (client ?? db()).execute(sql`
    UPDATE flow_action_run SET outcome = ${JSON.stringify(outcome)}::jsonb
     WHERE shop_id = ${shopId}::uuid AND action_run_id = ${actionRunId}`);
}

export async function flowActionRunCount(shopId: string): Promise<number> {
  const rows = await db().query<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM flow_action_run WHERE shop_id = ${shopId}::uuid`);
  return rows[0]?.n ?? 0;
}

/** Active connections of a shop with their names (to resolve "channel" fields of actions). */
export async function shopChannels(
  shopId: string,
): Promise<{ id: string; name: string; kind: string; accountRef: string; status: string }[]> {
  return db().query(sql`
    SELECT id, name, kind::text AS kind, account_ref AS "accountRef", status::text AS status
      FROM connection WHERE shop_id = ${shopId}::uuid AND status <> 'disconnected' ORDER BY created_at`);
}

/** SKUs of the listings at the source store whose variant is one of `variantRefs`. */
export async function skusOfVariants(shopId: string, variantRefs: string[]): Promise<string[]> {
  if (variantRefs.length === 0) return [];
  const rows = await db().query<{ sku: string }>(sql`
    SELECT DISTINCT si.sku
      FROM listing l
      JOIN connection c ON c.id = l.connection_id AND c.role = 'source'
      JOIN listing_component lc ON lc.listing_id = l.id
      JOIN stock_item si ON si.id = lc.item_id
     WHERE l.shop_id = ${shopId}::uuid AND l.remote_variant_ref = ANY(${variantRefs}::text[])
     ORDER BY si.sku`);
  return rows.map((r) => r.sku);
}
