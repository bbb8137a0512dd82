/**
 * One-time link codes: a source shop shows one; a store that installed StockGuard enters it to
 * become that shop's sales channel. Only a hash is stored; a code works once, before it expires.
 */
import { db, sql } from "../lib/sql.server";

export async function createLinkCode(input: {
  shopId: string;
  codeHash: string;
  ttlMs: number;
}): Promise<Date> {
  const [row] = await db().query<{ expiresAt: Date }>(sql`
    INSERT INTO link_code (code_hash, shop_id, expires_at)
    VALUES (${input.codeHash}, ${input.shopId}::uuid, now() + make_interval(secs => ${input.ttlMs / 1000}))
    RETURNING expires_at AS "expiresAt"`);
  return row!.expiresAt;
}

/** The shop that issued a code still unused and unexpired (nothing is changed), or null. */
export async function findLinkCode(codeHash: string): Promise<string | null> {
  const rows = await db().query<{ shopId: string }>(sql`
    SELECT shop_id AS "shopId" FROM link_code
     WHERE code_hash = ${codeHash} AND used_at IS NULL AND expires_at > now()`);
  return rows[0]?.shopId ?? null;
}

/** Uses a code once; the shop that issued it, or null when unknown, used or expired. */
export async function consumeLinkCode(codeHash: string, usedBy: string): Promise<string | null> {
  const rows = await db().query<{ shopId: string }>(sql`
    UPDATE link_code SET used_at = now(), used_by = ${usedBy}
     WHERE code_hash = ${codeHash} AND used_at IS NULL AND expires_at > now()
    RETURNING shop_id AS "shopId"`);
  return rows[0]?.shopId ?? null;
}
