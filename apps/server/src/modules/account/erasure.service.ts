import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { UsersService } from '../users/users.service.ts';
import type { AccountRepository } from './account.repository.ts';
import { eraseJobKey } from './account.service.ts';
import type { ExportFiles } from './export-files.ts';

const SYSTEM = { ip: '', userAgent: '' };

/** Job side of account deletion: erases a deleted account once its retention period is over. */
export class ErasureService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly repo: AccountRepository,
    /** The account's row is the users module's: read and deleted through its service. */
    private readonly users: Pick<UsersService, 'erasureState' | 'eraseDue' | 'forget'>,
    private readonly files: ExportFiles,
    private readonly audit: Pick<AuditService, 'record'>,
    /** Deletes what other modules keep outside Postgres for the user (stored media files). */
    private readonly eraseStoredFiles: (userId: string) => Promise<void>,
  ) {}

  /**
   * Deletes the user row (ON DELETE CASCADE removes posts, comments, reactions, friendships,
   * requests, blocks, collections, notifications, sessions, feed entries and exports) and the export
   * files. The audit log keeps its entries. Not yet due: rescheduled; not deleted or gone: nothing.
   */
  async erase(userId: string): Promise<'erased' | 'rescheduled' | 'nothing'> {
    const state = await this.users.erasureState(userId);
    if (!state) return 'nothing';
    if (!state.due) {
      await enqueue(
        this.db,
        'account.erase',
        { userId },
        { runAt: state.eraseAfter, jobKey: eraseJobKey(userId) },
      );
      return 'rescheduled';
    }
    // files first: if the transaction then fails, the retry finds them gone, which is fine
    for (const key of await this.repo.exportFileKeys(userId)) await this.files.delete(key);
    await this.eraseStoredFiles(userId);
    const erased = await this.db.transaction().execute(async (trx) => {
      if (!(await this.users.eraseDue(trx, userId))) return false;
      await this.audit.record(
        { action: 'account.erase', actorId: null, target: { type: 'user', id: userId }, meta: SYSTEM },
        trx,
      );
      return true;
    });
    if (erased) this.users.forget(userId); // nothing racing the commit keeps the erased account
    return erased ? 'erased' : 'nothing';
  }
}
