import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { DataExportStatus } from '../../platform/db/schema-social.ts';
import { type ArchiveSection, SECTION_QUERIES } from './export-sections.ts';

export interface ExportRow {
  id: string;
  user_id: string;
  status: DataExportStatus;
  file_key: string | null;
  size_bytes: string | null;
  created_at: Date;
  completed_at: Date | null;
  expires_at: Date | null;
}

/**
 * SQL for data exports (the account's own row is the users module's: deactivated and erased
 * through UsersService).
 *
 * Reads every module's tables, for one user, in `section` (queries in export-sections.ts): the data
 * export must contain everything stored about the user, and a coverage test checks that every
 * table referencing users has its section. It writes none of them.
 */
export class AccountRepository {
  constructor(private readonly db: Db) {}

  /** Starts an export unless one is in progress (then undefined). */
  async insertPendingExport(trx: Kysely<DB>, id: string, userId: string): Promise<ExportRow | undefined> {
    return trx
      .insertInto('data_exports')
      .values({ id, user_id: userId })
      .onConflict((oc) => oc.column('user_id').where('status', '=', 'pending').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async findExport(id: string, userId?: string, db: Kysely<DB> = this.db): Promise<ExportRow | undefined> {
    let query = db.selectFrom('data_exports').selectAll().where('id', '=', id);
    if (userId) query = query.where('user_id', '=', userId);
    return query.executeTakeFirst();
  }

  async latestExport(userId: string, db: Kysely<DB> = this.db): Promise<ExportRow | undefined> {
    return db
      .selectFrom('data_exports')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Records the built file; false when the export is no longer pending (or its user was erased). */
  async markReady(id: string, fileKey: string, sizeBytes: number, keepHours: number): Promise<boolean> {
    const result = await this.db
      .updateTable('data_exports')
      .set({
        status: 'ready',
        file_key: fileKey,
        size_bytes: sizeBytes,
        completed_at: sql<Date>`now()`,
        expires_at: sql<Date>`now() + make_interval(hours => ${keepHours})`,
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async markFailed(id: string): Promise<void> {
    await this.db
      .updateTable('data_exports')
      .set({ status: 'failed', completed_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  /** Ready exports whose file is past its keeping time. */
  async dueForExpiry(limit: number): Promise<{ id: string; file_key: string | null }[]> {
    return this.db
      .selectFrom('data_exports')
      .select(['id', 'file_key'])
      .where('status', '=', 'ready')
      .where('expires_at', '<=', sql<Date>`now()`)
      .orderBy('expires_at')
      .limit(limit)
      .execute();
  }

  async markExpired(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('data_exports')
      .set({ status: 'expired', file_key: null })
      .where('id', 'in', ids)
      .where('status', '=', 'ready')
      .execute();
  }

  /** File names of every export of a user that still has a file. */
  async exportFileKeys(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('data_exports')
      .select('file_key')
      .where('user_id', '=', userId)
      .where('file_key', 'is not', null)
      .execute();
    return rows.flatMap((r) => (r.file_key ? [r.file_key] : []));
  }

  /** One batch of an archive section: JSON documents in key order, after `after`. */
  async section(
    name: ArchiveSection,
    userId: string,
    after: string | null,
    limit: number,
  ): Promise<{ key: string; doc: string }[]> {
    const { rows } = await SECTION_QUERIES[name](userId, after, limit).execute(this.db);
    return rows;
  }
}
