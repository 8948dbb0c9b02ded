import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import { isCommonPassword, type PasswordHasher } from '../../platform/security/passwords.ts';
import { type AccessTokens, hashToken, successorToken } from '../../platform/security/tokens.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { UserRow } from '../users/users.repository.ts';
import type { UsersService } from '../users/users.service.ts';
import { SessionsRepository } from './sessions.repository.ts';
import type { IssuedTokens, SessionsService } from './sessions.service.ts';
import type { SignInNotices } from './sign-in-notice.ts';
import { locked, type SecondFactorChallenge } from './two-factor.service.ts';

/** Concurrent refreshes with one token within this window all get the same new pair. */
export const REFRESH_GRACE_SECONDS = 20;

export interface AuthServiceDeps {
  db: Kysely<DB>;
  users: UsersService;
  sessions: SessionsService;
  audit: AuditService;
  passwords: PasswordHasher;
  tokens: AccessTokens;
  /** Key for deriving a refresh token's successor (HKDF of the signing key). */
  refreshSecret: Buffer;
  refreshTtlDays: number;
  /** Fan-out skips users inactive this long; their feed is rebuilt when they come back. */
  feedInactiveDays: number;
  /** Mails the new account its verification link, in the sign-up transaction. */
  verification?: { issue(trx: Kysely<DB>, user: UserRow): Promise<void> };
  /** 2FA: a right password for an account with it on answers a challenge, not a session. */
  secondFactor?: {
    required(userId: string): Promise<boolean>;
    challenge(userId: string): Promise<SecondFactorChallenge>;
    lockedUntil(userId: string): Promise<Date | null>;
  };
  /** Remembers sign-in devices and mails a notice for a new one, in the session's transaction. */
  signIns?: SignInNotices;
}

/** How a session was started, as recorded in the audit log. */
export type SignInMethod = 'password' | 'totp' | 'recovery_code' | 'passkey';

export interface SignupInput {
  username: string;
  email: string;
  password: string;
  displayName?: string | undefined;
}

/** Sign-up, sign-in, refresh-token rotation and password change. */
export class AuthService {
  private readonly repo: SessionsRepository;

  constructor(private readonly deps: AuthServiceDeps) {
    this.repo = new SessionsRepository(deps.db);
  }

  async signup(input: SignupInput, meta: RequestMeta): Promise<IssuedTokens & { user: UserRow }> {
    if (isCommonPassword(input.password)) throw new AppError('WEAK_PASSWORD');
    const passwordHash = await this.deps.passwords.hash(input.password);
    return this.deps.db.transaction().execute(async (trx) => {
      const user = await this.deps.users.create({ ...input, passwordHash }, trx);
      const tokens = await this.deps.sessions.start(user.id, meta, trx);
      await this.deps.signIns?.signedIn(trx, user, meta, false);
      await this.deps.verification?.issue(trx, user);
      await this.deps.audit.record(
        { action: 'auth.signup', actorId: user.id, target: { type: 'user', id: user.id }, meta },
        trx,
      );
      return { user, ...tokens };
    });
  }

  /**
   * Unknown logins and wrong passwords fail alike, after the same argon2 work. A right password for
   * an account with 2FA on starts no session: it answers the second-factor challenge.
   */
  async login(
    login: string,
    password: string,
    meta: RequestMeta,
  ): Promise<(IssuedTokens & { user: UserRow }) | { secondFactor: SecondFactorChallenge }> {
    const account = await this.deps.users.credentials(login);
    const fail = async (
      reason: string,
      code: 'INVALID_CREDENTIALS' | 'ACCOUNT_BANNED' = 'INVALID_CREDENTIALS',
    ) => {
      await this.deps.audit.record({
        action: 'auth.login_failed',
        actorId: null,
        ...(account ? { target: { type: 'user', id: account.id } } : {}),
        meta,
        details: { login: login.slice(0, 254), reason },
      });
      return new AppError(code);
    };
    if (!account) {
      await this.deps.passwords.verifyDummy(password);
      throw await fail('unknown_login');
    }
    if (!(await this.deps.passwords.verify(account.password_hash, password)))
      throw await fail('wrong_password');
    if (account.banned_at) throw await fail('banned', 'ACCOUNT_BANNED');
    // a deleted account awaiting erasure: as if it did not exist
    if (account.deactivated_at) throw await fail('deactivated');
    if (await this.deps.secondFactor?.required(account.id))
      return { secondFactor: await this.deps.secondFactor!.challenge(account.id) };
    return this.startSession(account.id, meta, 'password');
  }

  /**
   * A password-less sign-in: the passkey proved who it is (both factors), and it is refused exactly
   * where a password sign-in would be: a banned account (ACCOUNT_BANNED), a deleted one (as if
   * unknown), and while wrong second factors keep the account locked (429) — each refusal audited
   * as a failed sign-in. A suspended account signs in, to read, as with a password.
   */
  async passkeySignIn(userId: string, meta: RequestMeta): Promise<IssuedTokens & { user: UserRow }> {
    const user = await this.deps.users.getFresh(userId);
    const refuse = async (reason: string, error: AppError) => {
      await this.deps.audit.record({
        action: 'auth.login_failed',
        actorId: null,
        target: { type: 'user', id: userId },
        meta,
        details: { method: 'passkey', reason },
      });
      return error;
    };
    if (user.banned_at) throw await refuse('banned', new AppError('ACCOUNT_BANNED'));
    if (user.deactivated_at) throw await refuse('deactivated', new AppError('INVALID_CREDENTIALS'));
    const lockedUntil = await this.deps.secondFactor?.lockedUntil(userId);
    if (lockedUntil) throw await refuse('second_factor_locked', locked(lockedUntil));
    return this.startSession(userId, meta, 'passkey');
  }

  /**
   * Starts a session for an account that proved who it is (password, and the second factor or a
   * passkey): marks it active, audits the sign-in with its method, notices a new device.
   */
  async startSession(
    userId: string,
    meta: RequestMeta,
    method: SignInMethod,
  ): Promise<IssuedTokens & { user: UserRow }> {
    const user = await this.deps.users.getFresh(userId);
    if (user.banned_at) throw new AppError('ACCOUNT_BANNED');
    if (user.deactivated_at) throw new AppError('INVALID_CREDENTIALS');
    const tokens = await this.deps.db.transaction().execute(async (trx) => {
      const issued = await this.deps.sessions.start(userId, meta, trx);
      await this.markActive(userId, trx);
      await this.deps.audit.record(
        {
          action: 'auth.login',
          actorId: userId,
          target: { type: 'user', id: userId },
          meta,
          ...(method === 'password' ? {} : { details: { method } }),
        },
        trx,
      );
      await this.deps.signIns?.signedIn(trx, user, meta);
      return issued;
    });
    return { user: await this.deps.users.get(userId), ...tokens };
  }

  /**
   * Exchanges a refresh token for a new pair. The successor is derived from the token (HMAC) and the
   * access token is signed with iat = the moment of first use, so callers racing with one token
   * within the grace window all get the identical pair. A rotated token presented after the window
   * is reuse (a stolen token, or a stolen successor): the whole session is revoked.
   */
  async refresh(refreshToken: string, meta: RequestMeta): Promise<IssuedTokens> {
    const tokenHash = hashToken(refreshToken);
    const successor = successorToken(this.deps.refreshSecret, refreshToken);
    for (let attempt = 0; attempt < 2; attempt++) {
      const record = await this.repo.findRefreshToken(tokenHash, REFRESH_GRACE_SECONDS);
      if (!record?.session_active || record.banned) throw new AppError('INVALID_REFRESH_TOKEN');
      let usedAt = record.used_at;
      if (usedAt === null) {
        usedAt = await this.deps.db.transaction().execute(async (trx) => {
          const claimed = await this.repo.claimRefreshToken(tokenHash, trx);
          if (claimed) {
            await this.repo.rotate(record.session_id, hashToken(successor), this.deps.refreshTtlDays, trx);
            // a long session keeps its user active (and one back after a long absence gets a feed)
            await this.markActive(record.user_id, trx);
          }
          return claimed ?? null;
        });
        if (usedAt === null) continue; // another request won the race: read what it wrote
      } else if (!record.in_grace) {
        await this.deps.sessions.revokeForReuse(record.user_id, record.session_id, meta);
        throw new AppError('INVALID_REFRESH_TOKEN');
      }
      const access = await this.deps.tokens.sign(
        { userId: record.user_id, sessionId: record.session_id },
        usedAt,
      );
      return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: successor };
    }
    throw new AppError('INVALID_REFRESH_TOKEN');
  }

  /**
   * Marks the user active; one back from a longer absence than fan-out tolerates gets a feed
   * rebuild, enqueued in the same transaction as the new last_active_at.
   */
  private async markActive(userId: string, trx: Kysely<DB>): Promise<void> {
    const previous = await this.deps.users.touchLastActive(userId, trx);
    const inactiveSince = Date.now() - this.deps.feedInactiveDays * 86_400_000;
    if (previous && previous.getTime() <= inactiveSince)
      await enqueue(trx, 'feed.rebuild', { userId }, { jobKey: `feed.rebuild:${userId}` });
  }

  /** Changes the password and revokes every other session of the user. */
  async changePassword(auth: AuthContext, current: string, next: string, meta: RequestMeta): Promise<void> {
    const stored = await this.deps.users.passwordHash(auth.userId);
    if (!stored || !(await this.deps.passwords.verify(stored, current))) throw new AppError('WRONG_PASSWORD');
    if (isCommonPassword(next)) throw new AppError('WEAK_PASSWORD');
    const passwordHash = await this.deps.passwords.hash(next);
    await this.deps.db.transaction().execute(async (trx) => {
      await this.deps.users.setPasswordHash(auth.userId, passwordHash, trx);
      const revoked = await this.deps.sessions.revokeAllInTransaction(
        auth.userId,
        'password_change',
        trx,
        auth.sessionId,
      );
      await this.deps.audit.record(
        {
          action: 'auth.password_change',
          actorId: auth.userId,
          target: { type: 'user', id: auth.userId },
          meta,
          details: { revokedSessions: revoked },
        },
        trx,
      );
    });
    await this.deps.sessions.forget(auth.userId);
  }
}
