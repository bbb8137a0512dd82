/**
 * The Settings page's read model: what StockGuard holds on the source store, as last seen on
 * its levels (units moved to `reserved` for other channels' orders and to `safety_stock` for
 * buffers), so the merchant knows what "Release holds" will give back.
 */
import { db, sql } from "../../lib/sql.server";

export async function sumSourceHolds(input: {
  shopId: string;
}): Promise<{ reserved: number; safetyStock: number; levels: number; observedAt: Date | null }> {
  const [row] = await db().query<{
    reserved: number;
    safetyStock: number;
    levels: number;
    observedAt: Date | null;
  }>(sql`
    SELECT COALESCE(sum(GREATEST(0, COALESCE((l.remote_state->>'reserved')::int, 0))), 0)::int AS reserved,
           COALESCE(sum(GREATEST(0, COALESCE((l.remote_state->>'safety_stock')::int, 0))), 0)::int AS "safetyStock",
           count(*) FILTER (WHERE COALESCE((l.remote_state->>'reserved')::int, 0) > 0
                               OR COALESCE((l.remote_state->>'safety_stock')::int, 0) > 0)::int AS levels,
           max(l.remote_observed_at) AS "observedAt"
      FROM listing l JOIN connection c ON c.id = l.connection_id
     WHERE l.shop_id = ${input.shopId}::uuid AND c.role = 'source' AND l.remote_state IS NOT NULL`);
  return row ?? { reserved: 0, safetyStock: 0, levels: 0, observedAt: null };
}
