import { createHash, createHmac, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import type { KeyRing } from './keys.ts';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessTokenClaims {
  userId: string;
  sessionId: string;
}

export interface SignedAccessToken {
  token: string;
  expiresAt: Date;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/** Thrown for any access token that does not verify; the message is for logs only. */
export class InvalidTokenError extends Error {}

/**
 * EdDSA access tokens (RFC 9068 `at+jwt`). Signing is deterministic: the same claims and `iat` give
 * the same JWT, which lets concurrent refreshes answer with one identical pair.
 */
export class AccessTokens {
  /**
   * Tokens whose signature and claims already verified, until they expire: an Ed25519 check is the
   * largest CPU cost of an authenticated request. The session is still checked on every request.
   */
  private readonly verified = new LRUCache<string, AccessTokenClaims>({ max: 10_000 });

  constructor(
    private readonly keys: KeyRing,
    private readonly options: AccessTokenOptions,
  ) {}

  async sign(claims: AccessTokenClaims, issuedAt: Date): Promise<SignedAccessToken> {
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const exp = iat + this.options.ttlSeconds;
    const token = await new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYPE, kid: this.keys.kid })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(claims.userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.keys.privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies signature (EdDSA only, known kid), typ, iss, aud and exp. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const known = this.verified.get(token);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const key = header.kid ? this.keys.verifyKeys.get(header.kid) : undefined;
          if (!key) throw new InvalidTokenError(`unknown kid ${String(header.kid).slice(0, 80)}`);
          return key;
        },
        {
          algorithms: ['EdDSA'],
          typ: ACCESS_TOKEN_TYPE,
          issuer: this.options.issuer,
          audience: this.options.audience,
          requiredClaims: ['sub', 'sid', 'iat', 'exp'],
        },
      );
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') {
        throw new InvalidTokenError('sub and sid must be strings');
      }
      const claims = { userId: payload.sub, sessionId: payload.sid };
      const ttl = (payload.exp as number) * 1000 - Date.now();
      if (ttl > 0) this.verified.set(token, claims, { ttl });
      return claims;
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      if (err instanceof errors.JOSEError || err instanceof TypeError) {
        throw new InvalidTokenError((err as Error).message);
      }
      throw err;
    }
  }
}

/** An opaque 256-bit refresh token. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token that replaces `token` on rotation: deterministic, so racing refreshes agree on it. */
export function successorToken(secret: Buffer, token: string): string {
  return createHmac('sha256', secret).update(token).digest('base64url');
}

/** What the database stores instead of a refresh token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
