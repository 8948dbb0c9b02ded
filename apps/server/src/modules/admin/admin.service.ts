import type { Kysely } from 'kysely';
import type { DB, UserRole } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { SessionsService } from '../auth/sessions.service.ts';
import type { UserRow } from '../users/users.repository.ts';
import type { UsersService } from '../users/users.service.ts';

export interface AdminServiceDeps {
  db: Kysely<DB>;
  users: UsersService;
  sessions: SessionsService;
  audit: AuditService;
}

/** Staff actions on accounts: role changes (admins) and bans (moderators and admins). */
export class AdminService {
  constructor(private readonly deps: AdminServiceDeps) {}

  async setRole(actor: AuthContext, userId: string, role: UserRole, meta: RequestMeta): Promise<UserRow> {
    // the role is read from Postgres: the audit line must say what it really was
    const before = await this.deps.users.getFresh(userId);
    const user = await this.deps.db.transaction().execute(async (trx) => {
      const updated = await this.deps.users.setRole(userId, role, trx);
      await this.deps.audit.record(
        {
          action: 'admin.role_change',
          actorId: actor.userId,
          target: { type: 'user', id: userId },
          meta,
          details: { from: before.role, to: role },
        },
        trx,
      );
      return updated;
    });
    await this.deps.sessions.forget(userId);
    this.deps.users.forget(userId);
    return user;
  }

  /** Bans an account and revokes all its sessions. Moderators may ban only plain users; nobody bans themselves. */
  async ban(actor: AuthContext, userId: string, meta: RequestMeta): Promise<UserRow> {
    // the rule is decided on the target's role in Postgres, not on a cached copy
    const target = await this.deps.users.getFresh(userId);
    if (target.id === actor.userId) throw new AppError('FORBIDDEN', 'You cannot ban yourself.');
    if (actor.role !== 'admin' && target.role !== 'user') {
      throw new AppError('FORBIDDEN', 'Only an admin may ban staff.');
    }
    const user = await this.deps.db.transaction().execute(async (trx) => {
      const banned = await this.deps.users.ban(userId, trx);
      const revoked = await this.deps.sessions.revokeAllInTransaction(userId, 'ban', trx);
      await this.deps.audit.record(
        {
          action: 'admin.ban',
          actorId: actor.userId,
          target: { type: 'user', id: userId },
          meta,
          details: { revokedSessions: revoked },
        },
        trx,
      );
      return banned;
    });
    await this.deps.sessions.forget(userId);
    this.deps.users.forget(userId);
    return user;
  }
}
