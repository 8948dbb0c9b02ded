import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { MailService } from '../../platform/mail/mail.service.ts';
import { isCommonPassword, type PasswordHasher } from '../../platform/security/passwords.ts';
import { hashToken, newRefreshToken } from '../../platform/security/tokens.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { UsersService } from '../users/users.service.ts';
import { AccountTokensRepository } from './account-tokens.repository.ts';
import type { SessionsService } from './sessions.service.ts';

/** A reset link works once, for this long. */
export const RESET_TTL_MINUTES = 30;
/** At most this many reset mails per account per hour, however the account is named. */
export const RESET_MAILS_PER_HOUR = 3;

export interface PasswordResetDeps {
  db: Kysely<DB>;
  users: UsersService;
  sessions: SessionsService;
  audit: AuditService;
  passwords: PasswordHasher;
  mail: MailService;
  publicUrl: string;
}

/** Forgotten passwords: a single-use, hashed, 30-minute token mailed to the account's address. */
export class PasswordResetService {
  private readonly tokens: AccountTokensRepository;

  constructor(private readonly deps: PasswordResetDeps) {
    this.tokens = new AccountTokensRepository(deps.db);
  }

  /**
   * Mails a reset link to the account `login` (username or e-mail) names, if there is one that
   * may sign in and it has not had its hourly share of links. The caller learns nothing either
   * way: no error, and an unknown login costs the same token generation, hashing and one
   * transaction as a known one.
   */
  async request(login: string, meta: RequestMeta): Promise<void> {
    const token = newRefreshToken();
    const hash = hashToken(token);
    const account = await this.deps.users.credentials(login);
    // an unknown login reads and counts on a random id: the same statements either way
    const found = await this.deps.users.getFresh(account?.id ?? randomUUID()).catch(() => undefined);
    const user = found && !found.banned_at && !found.deactivated_at ? found : undefined;
    await this.deps.db.transaction().execute(async (trx) => {
      const id = user?.id ?? randomUUID();
      // one request at a time per account, so concurrent ones cannot all pass the count
      await this.deps.users.lockForUpdate(id, trx);
      const recent = await this.tokens.countRecent(id, 'password_reset', 60, trx);
      if (!user || recent >= RESET_MAILS_PER_HOUR) return;
      await this.tokens.insert(
        {
          hash,
          purpose: 'password_reset',
          userId: user.id,
          email: user.email,
          ttlMinutes: RESET_TTL_MINUTES,
        },
        trx,
      );
      await this.deps.mail.queue(trx, 'password_reset', user.email, {
        username: user.username,
        link: `${this.deps.publicUrl}/reset-password?token=${token}`,
      });
      await this.deps.audit.record(
        { action: 'auth.password_reset_request', actorId: null, target: { type: 'user', id: user.id }, meta },
        trx,
      );
    });
  }

  /**
   * Sets a new password with a reset token: the token and every other outstanding one are used
   * up, every session is revoked (on every instance), the change is audited and the address told.
   * A used, expired, unknown or other-purpose token is INVALID_ACCOUNT_TOKEN, and nothing changes.
   */
  async confirm(token: string, newPassword: string, meta: RequestMeta): Promise<void> {
    // a refused password must not use up the token
    if (isCommonPassword(newPassword)) throw new AppError('WEAK_PASSWORD');
    const passwordHash = await this.deps.passwords.hash(newPassword);
    const userId = await this.deps.db.transaction().execute(async (trx) => {
      const claimed = await this.tokens.claim(hashToken(token), 'password_reset', trx);
      if (!claimed) throw new AppError('INVALID_ACCOUNT_TOKEN');
      const user = await this.deps.users.getFresh(claimed.user_id);
      if (user.banned_at || user.deactivated_at) throw new AppError('INVALID_ACCOUNT_TOKEN');
      await this.tokens.retireAll(user.id, 'password_reset', trx);
      await this.deps.users.setPasswordHash(user.id, passwordHash, trx);
      const revoked = await this.deps.sessions.revokeAllInTransaction(user.id, 'password_reset', trx);
      await this.deps.audit.record(
        {
          action: 'auth.password_reset',
          actorId: user.id,
          target: { type: 'user', id: user.id },
          meta,
          details: { revokedSessions: revoked },
        },
        trx,
      );
      await this.deps.mail.queue(trx, 'password_changed', user.email, { username: user.username });
      return user.id;
    });
    await this.deps.sessions.forget(userId);
  }
}
