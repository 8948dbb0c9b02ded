import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError, retryLater } from '../../platform/errors.ts';
import type { MailService } from '../../platform/mail/mail.service.ts';
import type { PasswordHasher } from '../../platform/security/passwords.ts';
import { hashToken, newRefreshToken } from '../../platform/security/tokens.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import { normalizeEmail, type UsersService } from '../users/users.service.ts';
import { AccountTokensRepository } from './account-tokens.repository.ts';
import type { SessionsService } from './sessions.service.ts';

/** The confirmation link to the new address works once, for this long. */
export const CHANGE_TTL_MINUTES = 24 * 60;
/** The old address may undo the change for this long. */
export const UNDO_TTL_MINUTES = 7 * 24 * 60;
/** At most this many change requests per account per hour. */
export const CHANGE_REQUESTS_PER_HOUR = 3;

export interface EmailChangeDeps {
  db: Kysely<DB>;
  users: UsersService;
  sessions: SessionsService;
  audit: AuditService;
  passwords: PasswordHasher;
  mail: MailService;
  publicUrl: string;
}

/**
 * Changing an account's e-mail address. The password is asked for; a link to the new address
 * confirms it (until then nothing changes); the old address is then told, with a link that undoes
 * the change for 7 days and signs every device out. Whether an address is some other account's is
 * never revealed to the requester: that address's owner is told instead.
 */
export class EmailChangeService {
  private readonly tokens: AccountTokensRepository;

  constructor(private readonly deps: EmailChangeDeps) {
    this.tokens = new AccountTokensRepository(deps.db);
  }

  async request(userId: string, rawEmail: string, password: string, meta: RequestMeta): Promise<void> {
    const { users, passwords, db, mail, audit, publicUrl } = this.deps;
    const user = await users.getFresh(userId);
    const hash = await users.passwordHash(user.id);
    if (!hash || !(await passwords.verify(hash, password))) throw new AppError('WRONG_PASSWORD');
    const email = normalizeEmail(rawEmail);
    if (email === normalizeEmail(user.email))
      throw new AppError('INVALID_PARAMETER', 'This is the address the account has already.');
    const holding = await users.credentials(email);
    const holder = holding && (await users.getFresh(holding.id));
    await db.transaction().execute(async (trx) => {
      // one request at a time per account, so concurrent ones cannot all pass the count
      await users.lockForUpdate(user.id, trx);
      if ((await this.tokens.countRecent(user.id, 'email_change', 60, trx)) >= CHANGE_REQUESTS_PER_HOUR)
        throw retryLater('RATE_LIMITED', 60 * 60_000, 'Too many address changes; retry later.');
      const token = newRefreshToken();
      // the token is stored either way, so the hourly count is the same whoever has the address
      await this.tokens.insert(
        {
          hash: hashToken(token),
          purpose: 'email_change',
          userId: user.id,
          email,
          ttlMinutes: CHANGE_TTL_MINUTES,
        },
        trx,
      );
      if (holder) {
        await mail.queue(trx, 'email_in_use', email, { username: holder.username });
      } else {
        await mail.queue(trx, 'email_change_confirm', email, {
          username: user.username,
          link: `${publicUrl}/confirm-email-change?token=${token}`,
        });
      }
      await audit.record(
        {
          action: 'auth.email_change_request',
          actorId: user.id,
          target: { type: 'user', id: user.id },
          meta,
          details: { taken: holder !== undefined },
        },
        trx,
      );
    });
  }

  /**
   * Confirms a change with the link mailed to the new address: the account takes that address
   * (verified), and the old one is told with an undo link. A used, expired or unknown token is
   * INVALID_ACCOUNT_TOKEN; an address taken since is EMAIL_TAKEN — nothing changes either way.
   */
  async confirm(token: string, meta: RequestMeta): Promise<{ email: string }> {
    const { users, db, mail, audit, publicUrl } = this.deps;
    const result = await db.transaction().execute(async (trx) => {
      const claimed = await this.tokens.claim(hashToken(token), 'email_change', trx);
      if (!claimed) throw new AppError('INVALID_ACCOUNT_TOKEN');
      const user = await users.getFresh(claimed.user_id);
      if (user.banned_at || user.deactivated_at) throw new AppError('INVALID_ACCOUNT_TOKEN');
      await users.lockForUpdate(user.id, trx);
      await users.setVerifiedEmail(user.id, claimed.email, trx);
      await this.tokens.retireAll(user.id, 'email_change', trx);
      await this.tokens.retireAll(user.id, 'email_verify', trx);
      const undo = newRefreshToken();
      await this.tokens.insert(
        {
          hash: hashToken(undo),
          purpose: 'email_change_undo',
          userId: user.id,
          email: user.email,
          ttlMinutes: UNDO_TTL_MINUTES,
        },
        trx,
      );
      await mail.queue(trx, 'email_changed', user.email, {
        username: user.username,
        newEmail: claimed.email,
        link: `${publicUrl}/undo-email-change?token=${undo}`,
      });
      await audit.record(
        { action: 'auth.email_change', actorId: user.id, target: { type: 'user', id: user.id }, meta },
        trx,
      );
      return { userId: user.id, email: claimed.email };
    });
    users.forget(result.userId);
    // the address is verified now: the limits of unverified accounts no longer apply
    await this.deps.sessions.forget(result.userId);
    return { email: result.email };
  }

  /**
   * Undoes a change from the old address's link: that address comes back (verified: it received
   * the link) and every session is revoked — whoever changed it may hold one. An address taken by
   * another account meanwhile is EMAIL_TAKEN and nothing changes.
   */
  async undo(token: string, meta: RequestMeta): Promise<void> {
    const { users, db, audit, sessions } = this.deps;
    const userId = await db.transaction().execute(async (trx) => {
      const claimed = await this.tokens.claim(hashToken(token), 'email_change_undo', trx);
      if (!claimed) throw new AppError('INVALID_ACCOUNT_TOKEN');
      const user = await users.getFresh(claimed.user_id);
      if (user.deactivated_at) throw new AppError('INVALID_ACCOUNT_TOKEN');
      await users.lockForUpdate(user.id, trx);
      await users.setVerifiedEmail(user.id, claimed.email, trx);
      await this.tokens.retireAll(user.id, 'email_change_undo', trx);
      await this.tokens.retireAll(user.id, 'email_change', trx);
      const revoked = await sessions.revokeAllInTransaction(user.id, 'email_change_undone', trx);
      await audit.record(
        {
          action: 'auth.email_change_undo',
          actorId: user.id,
          target: { type: 'user', id: user.id },
          meta,
          details: { revokedSessions: revoked },
        },
        trx,
      );
      return user.id;
    });
    users.forget(userId);
    await sessions.forget(userId);
  }
}
