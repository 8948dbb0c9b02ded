import { join } from 'node:path';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import type { Platform } from '../../platform/platform.ts';
import { type KeyRing, loadKeyRing } from '../../platform/security/keys.ts';
import { AccessTokens, InvalidTokenError } from '../../platform/security/tokens.ts';
import { SessionCache } from './session-cache.ts';
import { SessionsRepository } from './sessions.repository.ts';

/** What the authentication hook, the auth routes and the realtime gateway use: one per process. */
export interface AuthKit {
  keys: KeyRing;
  tokens: AccessTokens;
  sessions: SessionCache;
  /** Verifies an access token and its session; throws INVALID_TOKEN. */
  authenticate(token: string): Promise<AuthContext>;
}

/**
 * Builds the AuthKit: loads the signing keys (in development, generates them once under
 * DATA_DIR/keys) and makes the session cache. The composition root (`buildServices`) calls it once
 * per process; every user of the kit gets that one.
 */
export async function authKit({ config, db, broker, logger }: Platform): Promise<AuthKit> {
  const keys = await loadKeyRing({
    signingKey: config.jwt.signingKey,
    verifyKeys: config.jwt.verifyKeys,
    // tests get a key per process instead of writing under a data directory
    generateIn: config.env === 'test' ? undefined : join(config.dataDir, 'keys'),
  });
  const tokens = new AccessTokens(keys, {
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.jwt.accessTtlSeconds,
  });
  const repo = new SessionsRepository(db.primary);
  const sessions = new SessionCache({
    broker,
    logger,
    async load(sessionId) {
      const row = await repo.state(sessionId);
      if (!row) return undefined;
      return {
        userId: row.user_id,
        role: row.role,
        revoked: row.revoked_at !== null,
        banned: row.banned_at !== null,
        emailVerified: row.email_verified_at !== null,
        expiresAt: row.expires_at.getTime(),
      };
    },
  });
  return {
    keys,
    tokens,
    sessions,
    async authenticate(token) {
      let claims: { userId: string; sessionId: string };
      try {
        claims = await tokens.verify(token);
      } catch (err) {
        if (err instanceof InvalidTokenError) throw new AppError('INVALID_TOKEN');
        throw err;
      }
      const state = UUID.test(claims.sessionId) ? await sessions.get(claims.sessionId) : undefined;
      if (
        !state ||
        state.userId !== claims.userId ||
        state.revoked ||
        state.banned ||
        state.expiresAt <= Date.now()
      ) {
        throw new AppError('INVALID_TOKEN');
      }
      return {
        userId: claims.userId,
        sessionId: claims.sessionId,
        role: state.role,
        emailVerified: state.emailVerified,
      };
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
