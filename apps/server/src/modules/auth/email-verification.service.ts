import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError, retryLater } from '../../platform/errors.ts';
import type { MailService } from '../../platform/mail/mail.service.ts';
import { hashToken, newRefreshToken } from '../../platform/security/tokens.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { UsersService } from '../users/users.service.ts';
import { AccountTokensRepository } from './account-tokens.repository.ts';
import type { SessionsService } from './sessions.service.ts';

/** A verification link works once, for this long. */
export const VERIFY_TTL_MINUTES = 24 * 60;
/** At most this many verification mails per account per hour (sign-up's included). */
export const VERIFY_MAILS_PER_HOUR = 3;

export interface EmailVerificationDeps {
  db: Kysely<DB>;
  users: UsersService;
  /** A verified address lifts the limits of unverified accounts: every instance's session state is dropped. */
  sessions: Pick<SessionsService, 'forget'>;
  audit: AuditService;
  mail: MailService;
  publicUrl: string;
}

/** Proves an account's address: a single-use, hashed, 24-hour token mailed as a web app link. */
export class EmailVerificationService {
  private readonly tokens: AccountTokensRepository;

  constructor(private readonly deps: EmailVerificationDeps) {
    this.tokens = new AccountTokensRepository(deps.db);
  }

  /** Issues a token and queues its mail in the caller's transaction (sign-up's). */
  async issue(trx: Kysely<DB>, user: { id: string; username: string; email: string }): Promise<void> {
    const token = newRefreshToken();
    await this.tokens.insert(
      {
        hash: hashToken(token),
        purpose: 'email_verify',
        userId: user.id,
        email: user.email,
        ttlMinutes: VERIFY_TTL_MINUTES,
      },
      trx,
    );
    await this.deps.mail.queue(trx, 'email_verify', user.email, {
      username: user.username,
      link: `${this.deps.publicUrl}/verify-email?token=${token}`,
    });
  }

  /**
   * Mails a new link to the caller's address unless it is verified already; RATE_LIMITED past
   * the hourly share (counted in Postgres, so every instance agrees).
   */
  async resend(userId: string): Promise<void> {
    const user = await this.deps.users.getFresh(userId);
    if (user.email_verified_at) throw new AppError('EMAIL_ALREADY_VERIFIED');
    await this.deps.db.transaction().execute(async (trx) => {
      // one resend at a time per account, so concurrent ones cannot both pass the count
      await this.deps.users.lockForUpdate(user.id, trx);
      if ((await this.tokens.countRecent(user.id, 'email_verify', 60, trx)) >= VERIFY_MAILS_PER_HOUR)
        throw retryLater('RATE_LIMITED', 60 * 60_000, 'Too many verification mails; retry later.');
      await this.issue(trx, user);
    });
  }

  /**
   * Verifies the address a token was sent to. A used, expired, unknown or other-purpose token, or
   * one for an address the account no longer has, is INVALID_ACCOUNT_TOKEN and changes nothing.
   */
  async verify(token: string, meta: RequestMeta): Promise<void> {
    const userId = await this.deps.db.transaction().execute(async (trx) => {
      const claimed = await this.tokens.claim(hashToken(token), 'email_verify', trx);
      if (!claimed) throw new AppError('INVALID_ACCOUNT_TOKEN');
      if (!(await this.deps.users.markEmailVerified(claimed.user_id, claimed.email, trx)))
        throw new AppError('INVALID_ACCOUNT_TOKEN');
      await this.tokens.retireAll(claimed.user_id, 'email_verify', trx);
      await this.deps.audit.record(
        {
          action: 'auth.email_verify',
          actorId: claimed.user_id,
          target: { type: 'user', id: claimed.user_id },
          meta,
        },
        trx,
      );
      return claimed.user_id;
    });
    this.deps.users.forget(userId);
    await this.deps.sessions.forget(userId);
  }
}
