import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { PasswordHasher } from '../../platform/security/passwords.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { SessionsService } from '../auth/sessions.service.ts';
import type { UsersService } from '../users/users.service.ts';

export interface AccountServiceDeps {
  db: Kysely<DB>;
  /** The account's row is the users module's: deactivated through its service. */
  users: Pick<UsersService, 'passwordHash' | 'deactivate' | 'forget'>;
  passwords: Pick<PasswordHasher, 'verify'>;
  sessions: Pick<SessionsService, 'revokeAllInTransaction' | 'forget'>;
  audit: Pick<AuditService, 'record'>;
  /** Drops cached feed pages that may show the account's posts. */
  feeds: { invalidate(userIds: readonly string[]): Promise<void> };
  friends: { friendIds(userId: string): Promise<string[]> };
  retentionDays: number;
}

/** Deleting one's account: deactivation at once, erasure by a job after the retention period. */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  /**
   * Re-checks the password, then in one transaction hides the account everywhere (it is filtered
   * like a banned one), revokes every session and schedules the erasure; returns when erasure is due.
   */
  async delete(auth: AuthContext, password: string, meta: RequestMeta): Promise<{ eraseAfter: Date }> {
    const { db, users, sessions, audit } = this.deps;
    const stored = await users.passwordHash(auth.userId);
    if (!stored || !(await this.deps.passwords.verify(stored, password)))
      throw new AppError('WRONG_PASSWORD');
    const friendIds = await this.deps.friends.friendIds(auth.userId);
    const eraseAfter = await db.transaction().execute(async (trx) => {
      const at = await users.deactivate(trx, auth.userId, this.deps.retentionDays);
      if (!at) throw new AppError('NOT_FOUND', 'The account is already deleted.');
      const revoked = await sessions.revokeAllInTransaction(auth.userId, 'account_deleted', trx);
      await enqueue(
        trx,
        'account.erase',
        { userId: auth.userId },
        { runAt: at, jobKey: eraseJobKey(auth.userId) },
      );
      await audit.record(
        {
          action: 'account.delete',
          actorId: auth.userId,
          target: { type: 'user', id: auth.userId },
          meta,
          details: { revokedSessions: revoked, eraseAfter: at.toISOString() },
        },
        trx,
      );
      return at;
    });
    await sessions.forget(auth.userId);
    users.forget(auth.userId); // a read racing the commit may have cached the live account again
    await this.deps.feeds.invalidate([auth.userId, ...friendIds]);
    return { eraseAfter };
  }
}

export const eraseJobKey = (userId: string) => `account.erase:${userId}`;
