/**
 * Walmart connection credentials: the seller's own client id and secret, and the secret
 * StockGuard generated for the connection's webhook HMAC. Sealed at rest by the connecting
 * service; opened here (cached a minute per process, dropped when Walmart refuses them).
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { open } from "../../lib/credentials.server";
import { sealedCredentials } from "../../repositories/connections.server";
import { ChannelAuthError } from "../errors";

export const ZWalmartCredentials = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  /** Key of the HMAC Walmart signs this connection's deliveries with (our choice, random). */
  webhookSecret: z.string().min(32),
});
export type WalmartCredentials = z.infer<typeof ZWalmartCredentials>;

export type CredentialsProvider = {
  get(connectionId: string, fresh?: boolean): Promise<WalmartCredentials>;
  forget(connectionId: string): void;
};

export function newWebhookSecret(): string {
  return randomBytes(32).toString("base64url");
}

const TTL_MS = 60_000;

/** Reads the sealed credentials of a connection from its row. */
export function storedCredentials(): CredentialsProvider {
  const cache = new Map<string, { value: WalmartCredentials; until: number }>();
  return {
    async get(connectionId, fresh = false) {
      const hit = cache.get(connectionId);
      if (!fresh && hit && hit.until > Date.now()) return hit.value;
      let value: WalmartCredentials | null;
      try {
        value = open(await sealedCredentials(connectionId), ZWalmartCredentials);
      } catch (error) {
        if (error instanceof z.ZodError)
          throw new ChannelAuthError("the stored Walmart credentials are incomplete; reconnect");
        throw error;
      }
      if (!value) throw new ChannelAuthError("no Walmart credentials stored for this connection");
      cache.set(connectionId, { value, until: Date.now() + TTL_MS });
      return value;
    },
    forget(connectionId) {
      cache.delete(connectionId);
    },
  };
}
