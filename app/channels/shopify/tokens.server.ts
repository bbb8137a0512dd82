/**
 * Access tokens of Shopify connections. A store that installed StockGuard (the source, or another
 * store linked by a link code) uses the offline session Shopify's library stored at install
 * (refreshed through the library when it is about to expire); a store connected with a token uses
 * its sealed credentials. Cached for a minute per connection.
 */
import { z } from "zod";
import { open } from "../../lib/credentials.server";
import { sealedCredentials } from "../../repositories/connections.server";
import { offlineToken } from "../../repositories/sessions.server";
import type { ConnectionContext } from "../channel-adapter";
import { ChannelAuthError } from "../errors";

export const ZShopifyCredentials = z.object({
  accessToken: z.string().min(1),
  /** Secret the store signs its webhooks with (its custom app's API secret), if not ours. */
  webhookSecret: z.string().min(1).optional(),
});
export type ShopifyCredentials = z.infer<typeof ZShopifyCredentials>;

export function openShopifyCredentials(sealed: string | null): ShopifyCredentials | null {
  return open(sealed, ZShopifyCredentials);
}

const cache = new Map<string, { token: string; until: number }>();

export async function shopifyToken(conn: ConnectionContext): Promise<string> {
  const cached = cache.get(conn.id);
  if (cached && cached.until > Date.now()) return cached.token;
  let token: string | undefined;
  // A store that installed StockGuard (the source, or a store linked by a link code) has the
  // offline session Shopify's library keeps; a store connected with a token has credentials.
  const sealed = conn.role === "source" ? null : await sealedCredentials(conn.id);
  if (sealed) {
    token = openShopifyCredentials(sealed)?.accessToken;
  } else {
    const offline = await offlineToken(conn.accountRef);
    if (
      offline?.expires &&
      offline.refreshable &&
      offline.expires.getTime() < Date.now() + 300_000
    ) {
      // Expiring offline tokens are refreshed by the library, which stores the new pair.
      const { unauthenticated } = await import("../../shopify.server");
      token = (await unauthenticated.admin(conn.accountRef)).session.accessToken;
    } else token = offline?.accessToken;
  }
  if (!token) throw new ChannelAuthError(`no access token for ${conn.accountRef}`);
  cache.set(conn.id, { token, until: Date.now() + 60_000 });
  return token;
}

/** The channel rejected the token: read it again next time (the merchant may have replaced it). */
export function forgetShopifyToken(connectionId: string): void {
  cache.delete(connectionId);
}
