/**
 * OAuth state: authorization codes, user access tokens (2 h), refresh tokens (18 months),
 * application tokens (client credentials, 2 h). Lifetimes read the eBay clock, so advancing the
 * clock expires tokens the way waiting would. Refreshing returns a new access token and keeps the
 * refresh token (eBay does not rotate it).
 */
import type { Rng } from "../shopify/rng";
import type { EbayClock } from "./clock";
import { OAUTH } from "./errors";
import { oauthToken } from "./ids";
import type { AuthCodeRec, TokenKind, TokenRec } from "./model";

export type TokenLifetimes = {
  accessTokenSeconds: number;
  refreshTokenSeconds: number;
  authCodeSeconds: number;
};

export const DEFAULT_LIFETIMES: TokenLifetimes = {
  accessTokenSeconds: 7200,
  refreshTokenSeconds: 47_304_000,
  authCodeSeconds: 299,
};

export type TokenFilter = {
  token?: string;
  userId?: string;
  clientId?: string;
  kind?: TokenKind;
};

export type UserTokenAnswer = {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  token_type: "User Access Token";
};

export class TokenStore {
  readonly tokens = new Map<string, TokenRec>();
  readonly codes = new Map<string, AuthCodeRec>();
  lifetimes: TokenLifetimes = { ...DEFAULT_LIFETIMES };

  constructor(
    private readonly clock: EbayClock,
    private readonly rng: () => Rng,
  ) {}

  private mint(
    kind: TokenKind,
    clientId: string,
    userId: string | null,
    scopes: string[],
    ttlSeconds: number,
    refreshToken: string | null = null,
  ): TokenRec {
    const now = this.clock.nowMs();
    const rec: TokenRec = {
      token: oauthToken(this.rng(), kind),
      kind,
      clientId,
      userId,
      scopes: [...scopes],
      issuedAt: now,
      expiresAt: now + ttlSeconds * 1000,
      revoked: false,
      refreshToken,
    };
    this.tokens.set(rec.token, rec);
    return rec;
  }

  issueCode(clientId: string, userId: string, scopes: string[], ruName: string): AuthCodeRec {
    const rec: AuthCodeRec = {
      code: oauthToken(this.rng(), "code"),
      clientId,
      userId,
      scopes: [...scopes],
      ruName,
      expiresAt: this.clock.nowMs() + this.lifetimes.authCodeSeconds * 1000,
      used: false,
    };
    this.codes.set(rec.code, rec);
    return rec;
  }

  /** A user access token + refresh token pair (what the code exchange returns). */
  issueUserTokens(clientId: string, userId: string, scopes: string[]): UserTokenAnswer {
    const refresh = this.mint(
      "refresh",
      clientId,
      userId,
      scopes,
      this.lifetimes.refreshTokenSeconds,
    );
    const access = this.mint(
      "user",
      clientId,
      userId,
      scopes,
      this.lifetimes.accessTokenSeconds,
      refresh.token,
    );
    return {
      access_token: access.token,
      expires_in: this.lifetimes.accessTokenSeconds,
      refresh_token: refresh.token,
      refresh_token_expires_in: this.lifetimes.refreshTokenSeconds,
      token_type: "User Access Token",
    };
  }

  exchangeCode(clientId: string, code: string, ruName: string): UserTokenAnswer {
    const rec = this.codes.get(code);
    if (
      !rec ||
      rec.used ||
      rec.clientId !== clientId ||
      rec.ruName !== ruName ||
      rec.expiresAt <= this.clock.nowMs()
    ) {
      throw OAUTH.invalidGrantCode();
    }
    rec.used = true;
    return this.issueUserTokens(clientId, rec.userId, rec.scopes);
  }

  refresh(
    clientId: string,
    refreshToken: string,
    scopes: string[] | null,
  ): { access_token: string; expires_in: number; token_type: "User Access Token" } {
    const rec = this.tokens.get(refreshToken);
    if (
      !rec ||
      rec.kind !== "refresh" ||
      rec.revoked ||
      rec.clientId !== clientId ||
      rec.expiresAt <= this.clock.nowMs()
    ) {
      throw OAUTH.invalidGrantRefresh();
    }
    const granted = scopes ?? rec.scopes;
    if (granted.some((s) => !rec.scopes.includes(s))) throw OAUTH.invalidScope();
    const access = this.mint(
      "user",
      clientId,
      rec.userId,
      granted,
      this.lifetimes.accessTokenSeconds,
      rec.token,
    );
    return {
      access_token: access.token,
      expires_in: this.lifetimes.accessTokenSeconds,
      token_type: "User Access Token",
    };
  }

  clientCredentials(
    clientId: string,
    scopes: string[],
  ): { access_token: string; expires_in: number; token_type: "Application Access Token" } {
    const rec = this.mint("application", clientId, null, scopes, this.lifetimes.accessTokenSeconds);
    return {
      access_token: rec.token,
      expires_in: this.lifetimes.accessTokenSeconds,
      token_type: "Application Access Token",
    };
  }

  /** The token record when it is usable now (not expired, not revoked), else null. */
  authenticate(token: string): TokenRec | null {
    const rec = this.tokens.get(token);
    if (!rec || rec.kind === "refresh" || rec.revoked) return null;
    if (rec.expiresAt <= this.clock.nowMs()) return null;
    if (rec.refreshToken !== null && this.tokens.get(rec.refreshToken)?.revoked) return null;
    return rec;
  }

  private matching(filter: TokenFilter): TokenRec[] {
    return [...this.tokens.values()].filter(
      (t) =>
        (filter.token === undefined || t.token === filter.token) &&
        (filter.userId === undefined || t.userId === filter.userId) &&
        (filter.clientId === undefined || t.clientId === filter.clientId) &&
        (filter.kind === undefined || t.kind === filter.kind),
    );
  }

  /** Moves the expiry of matching tokens to now (access tokens only unless kind says otherwise). */
  expire(filter: TokenFilter): number {
    const now = this.clock.nowMs();
    const hits = this.matching(filter).filter(
      (t) => filter.kind !== undefined || filter.token !== undefined || t.kind !== "refresh",
    );
    for (const t of hits) t.expiresAt = Math.min(t.expiresAt, now);
    return hits.length;
  }

  /** Revokes matching tokens (refresh tokens included: access tokens minted from them die too). */
  revoke(filter: TokenFilter): number {
    const hits = this.matching(filter);
    for (const t of hits) t.revoked = true;
    return hits.length;
  }

  list(): TokenRec[] {
    return [...this.tokens.values()].map((t) => ({ ...t, scopes: [...t.scopes] }));
  }

  reset(): void {
    this.tokens.clear();
    this.codes.clear();
    this.lifetimes = { ...DEFAULT_LIFETIMES };
  }
}
