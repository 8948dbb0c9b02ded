import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { AuditService } from '../audit/audit.service.ts';

/**
 * The reports.expire-suspensions job: clears the suspensions whose time is over (the write guard
 * already stopped refusing at that instant), audits each and tells the user, in one transaction.
 */
export class SuspensionExpiry {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly users: { clearExpiredSuspensions(trx?: Kysely<DB>): Promise<string[]> },
    private readonly audit: Pick<AuditService, 'record'>,
  ) {}

  /** The ids of the accounts whose suspension ended. */
  async run(): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const ids = await this.users.clearExpiredSuspensions(trx);
      for (const userId of ids) {
        await this.audit.record(
          {
            action: 'moderation.suspension_end',
            actorId: null,
            target: { type: 'user', id: userId },
            meta: { ip: '', userAgent: '' },
          },
          trx,
        );
        await enqueue(trx, 'notifications.notice', {
          kind: 'moderation_notice',
          userId,
          subjectId: userId,
          data: { action: 'suspension_ended' },
        });
      }
      return ids;
    });
  }
}
