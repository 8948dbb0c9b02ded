import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import { type AccessTokens, hashToken, newRefreshToken } from '../../platform/security/tokens.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { SessionCache } from './session-cache.ts';
import { SessionsRepository } from './sessions.repository.ts';

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
}

export interface SessionView {
  id: string;
  userAgent: string;
  ip: string;
  createdAt: Date;
  lastUsedAt: Date;
  current: boolean;
}

export interface SessionsServiceDeps {
  db: Kysely<DB>;
  tokens: AccessTokens;
  cache: SessionCache;
  audit: AuditService;
  refreshTtlDays: number;
}

/** A user's sessions: start, list, revoke (one, all, or all but the current one). */
export class SessionsService {
  private readonly repo: SessionsRepository;

  constructor(private readonly deps: SessionsServiceDeps) {
    this.repo = new SessionsRepository(deps.db);
  }

  /** Opens a session (a new refresh-token family) and issues its first pair. */
  async start(userId: string, meta: RequestMeta, trx?: Kysely<DB>): Promise<IssuedTokens> {
    const sessionId = uuidv7();
    const refreshToken = newRefreshToken();
    await this.repo.create(
      {
        id: sessionId,
        userId,
        userAgent: meta.userAgent,
        ip: meta.ip,
        ttlDays: this.deps.refreshTtlDays,
        tokenHash: hashToken(refreshToken),
      },
      trx,
    );
    const access = await this.deps.tokens.sign({ userId, sessionId }, new Date());
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken };
  }

  async list(auth: AuthContext): Promise<SessionView[]> {
    const rows = await this.repo.listActive(auth.userId);
    return rows.map((row) => ({
      id: row.id,
      userAgent: row.user_agent,
      ip: row.ip,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      current: row.id === auth.sessionId,
    }));
  }

  async logout(auth: AuthContext, meta: RequestMeta): Promise<void> {
    await this.revokeOne(auth, auth.sessionId, 'logout', 'auth.logout', meta);
  }

  /** Revokes one of the caller's sessions; another user's (or an unknown) id is NOT_FOUND. */
  async revoke(auth: AuthContext, sessionId: string, meta: RequestMeta): Promise<void> {
    await this.revokeOne(auth, sessionId, 'revoked_by_user', 'auth.session_revoke', meta);
  }

  async logoutAll(auth: AuthContext, meta: RequestMeta): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const n = await this.repo.revokeAll(auth.userId, 'logout_all', undefined, trx);
      await this.deps.audit.record(
        {
          action: 'auth.logout_all',
          actorId: auth.userId,
          target: { type: 'user', id: auth.userId },
          meta,
          details: { sessions: n },
        },
        trx,
      );
    });
    await this.deps.cache.userChanged(auth.userId);
  }

  /**
   * Revokes the user's sessions (all, or all but `keep`) inside the caller's transaction. The caller
   * calls `forget(userId)` after committing, so other instances drop what they cached.
   */
  revokeAllInTransaction(userId: string, reason: string, trx: Kysely<DB>, keep?: string): Promise<number> {
    return this.repo.revokeAll(userId, reason, keep, trx);
  }

  /** Tells every instance that the user's sessions, role or ban changed. */
  forget(userId: string): Promise<void> {
    return this.deps.cache.userChanged(userId);
  }

  /** Revokes a family whose rotated refresh token came back after the grace window. */
  async revokeForReuse(userId: string, sessionId: string, meta: RequestMeta): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      await this.repo.revoke(userId, sessionId, 'refresh_token_reuse', trx);
      await this.deps.audit.record(
        {
          action: 'auth.refresh_token_reuse',
          actorId: null,
          target: { type: 'session', id: sessionId },
          meta,
          details: { userId },
        },
        trx,
      );
    });
    await this.deps.cache.sessionRevoked(sessionId);
  }

  private async revokeOne(
    auth: AuthContext,
    sessionId: string,
    reason: string,
    action: 'auth.logout' | 'auth.session_revoke',
    meta: RequestMeta,
  ): Promise<void> {
    await this.deps.db.transaction().execute(async (trx) => {
      const revoked = await this.repo.revoke(auth.userId, sessionId, reason, trx);
      if (!revoked) throw new AppError('NOT_FOUND');
      await this.deps.audit.record(
        { action, actorId: auth.userId, target: { type: 'session', id: sessionId }, meta },
        trx,
      );
    });
    await this.deps.cache.sessionRevoked(sessionId);
  }
}
