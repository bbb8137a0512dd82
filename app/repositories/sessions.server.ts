/**
 * Shopify sessions (the library's `Session` table) with their tokens sealed at rest: a session
 * storage that wraps Prisma's and encrypts `accessToken` and `refreshToken` before they are
 * written (AES-256-GCM, app/lib/credentials.server.ts), and opens them when read. Rows written
 * before sealing existed are read as they are and sealed on their next write.
 */
import { Session } from "@shopify/shopify-api";
import type { SessionStorage } from "@shopify/shopify-app-session-storage";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import prisma from "../db.server";
import { openString, sealString } from "../lib/credentials.server";

function transform(session: Session, f: (value: string) => string): Session {
  const copy = new Session(session.toObject());
  if (copy.accessToken) copy.accessToken = f(copy.accessToken);
  if (copy.refreshToken) copy.refreshToken = f(copy.refreshToken);
  return copy;
}

export class SealedSessionStorage implements SessionStorage {
  private readonly inner: PrismaSessionStorage<typeof prisma>;

  constructor(options: { connectionRetries?: number; connectionRetryIntervalMs?: number } = {}) {
    this.inner = new PrismaSessionStorage(prisma, {
      connectionRetries: options.connectionRetries ?? 3,
      connectionRetryIntervalMs: options.connectionRetryIntervalMs ?? 1000,
    });
  }

  storeSession(session: Session): Promise<boolean> {
    return this.inner.storeSession(transform(session, sealString));
  }

  async loadSession(id: string): Promise<Session | undefined> {
    const stored = await this.inner.loadSession(id);
    return stored ? transform(stored, openString) : undefined;
  }

  deleteSession(id: string): Promise<boolean> {
    return this.inner.deleteSession(id);
  }

  deleteSessions(ids: string[]): Promise<boolean> {
    return this.inner.deleteSessions(ids);
  }

  async findSessionsByShop(shop: string): Promise<Session[]> {
    return (await this.inner.findSessionsByShop(shop)).map((s) => transform(s, openString));
  }
}

/** Session id the Shopify library uses for a shop's offline (app-level) token. */
export function offlineSessionId(shop: string): string {
  return `offline_${shop}`;
}

let storage: SealedSessionStorage | undefined;

/** The offline token of an installed shop and when it expires, opened. */
export async function offlineToken(
  shop: string,
): Promise<{ accessToken: string; expires: Date | null; refreshable: boolean } | null> {
  storage ??= new SealedSessionStorage({ connectionRetries: 1, connectionRetryIntervalMs: 100 });
  const session = await storage.loadSession(offlineSessionId(shop));
  if (!session?.accessToken) return null;
  return {
    accessToken: session.accessToken,
    expires: session.expires ?? null,
    refreshable: Boolean(session.refreshToken),
  };
}

/** Stores a shop's offline token where OAuth would (custom-app installs: `shop:connect`). */
export async function storeOfflineToken(input: {
  shop: string;
  accessToken: string;
  scopes: string[];
}): Promise<void> {
  storage ??= new SealedSessionStorage({ connectionRetries: 1, connectionRetryIntervalMs: 100 });
  await storage.storeSession(
    new Session({
      id: offlineSessionId(input.shop),
      shop: input.shop,
      state: "",
      isOnline: false,
      accessToken: input.accessToken,
      scope: input.scopes.join(","),
    }),
  );
}

export async function updateScopes(sessionId: string, scopes: string[]): Promise<void> {
  await prisma.session.updateMany({ where: { id: sessionId }, data: { scope: scopes.join(",") } });
}
