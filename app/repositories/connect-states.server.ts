/**
 * Marketplace authorisations in progress: the `state` of a consent redirect, tied to the shop
 * that started it, single use and short-lived (a callback with an unknown, used or expired state
 * changes nothing).
 */
import type { ChannelKind } from "../channels/channel-adapter";
import { db, sql } from "../lib/sql.server";

export async function createConnectState(input: {
  state: string;
  shopId: string;
  kind: ChannelKind;
  apiBaseUrl: string | null;
  redirectUri: string;
  settings: Record<string, unknown>;
  ttlMs: number;
}): Promise<void> {
  await db().execute(sql`
    INSERT INTO connect_state (state, shop_id, kind, api_base_url, redirect_uri, settings, expires_at)
    VALUES (${input.state}, ${input.shopId}::uuid, ${input.kind}::"ChannelKind", ${input.apiBaseUrl},
            ${input.redirectUri}, ${JSON.stringify(input.settings)}::jsonb,
            now() + make_interval(secs => ${input.ttlMs / 1000}))`);
}

/** Uses a state once; null when unknown, already used, expired or for another channel. */
export async function consumeConnectState(
  state: string,
  kind: ChannelKind,
): Promise<{
  shopId: string;
  apiBaseUrl: string | null;
  redirectUri: string;
  settings: Record<string, unknown>;
} | null> {
  const rows = await db().query<{
    shopId: string;
    apiBaseUrl: string | null;
    redirectUri: string;
    settings: Record<string, unknown>;
  }>(sql`
    UPDATE connect_state SET used_at = now()
     WHERE state = ${state} AND kind = ${kind}::"ChannelKind" AND used_at IS NULL AND expires_at > now()
    RETURNING shop_id AS "shopId", api_base_url AS "apiBaseUrl", redirect_uri AS "redirectUri", settings`);
  return rows[0] ?? null;
}
