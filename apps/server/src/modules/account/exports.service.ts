import type { ReadStream } from 'node:fs';
import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { DB } from '../../platform/db/schema.ts';
import { AppError } from '../../platform/errors.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { AccountRepository, ExportRow } from './account.repository.ts';
import type { ExportFiles } from './export-files.ts';
import { ARCHIVE_SECTIONS } from './export-sections.ts';

/** How long a built archive is kept before its file is deleted. */
export const EXPORT_KEEP_HOURS = 7 * 24;
/** Attempts at building an archive before the export is marked failed. */
export const EXPORT_ATTEMPTS = 3;
const BATCH = 500;

/** Data exports: request one, follow it, build the archive (job), expire old files (job). */
export class DataExportsService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly repo: AccountRepository,
    private readonly files: ExportFiles,
    private readonly audit: Pick<AuditService, 'record'>,
  ) {}

  /** Starts an export, or returns the one already in progress. */
  async request(userId: string, meta: RequestMeta): Promise<ExportRow> {
    return this.db.transaction().execute(async (trx) => {
      const created = await this.repo.insertPendingExport(trx, uuidv7(), userId);
      if (!created) {
        const pending = await this.repo.latestExport(userId, trx);
        if (pending?.status === 'pending') return pending;
        throw new AppError('CONFLICT', 'An export is being started; retry.');
      }
      await enqueue(trx, 'account.export', { exportId: created.id }, { maxAttempts: EXPORT_ATTEMPTS });
      await this.audit.record(
        { action: 'account.export', actorId: userId, target: { type: 'data_export', id: created.id }, meta },
        trx,
      );
      return created;
    });
  }

  /** One of the caller's exports; another user's (or an unknown) id is NOT_FOUND. */
  async get(userId: string, id: string): Promise<ExportRow> {
    const row = await this.repo.findExport(id, userId);
    if (!row) throw new AppError('NOT_FOUND', 'No such export.');
    return row;
  }

  async latest(userId: string): Promise<ExportRow> {
    const row = await this.repo.latestExport(userId);
    if (!row) throw new AppError('NOT_FOUND', 'No export yet.');
    return row;
  }

  /** The archive of a ready export (the caller has checked the signed link). */
  async open(id: string): Promise<{ row: ExportRow; stream: ReadStream }> {
    const row = await this.repo.findExport(id);
    if (!row?.file_key || row.status !== 'ready') throw new AppError('NOT_FOUND', 'No such export.');
    return { row, stream: await this.files.open(row.file_key) };
  }

  /** Job: writes the archive file and marks the export ready (failed after the last attempt). */
  async build(exportId: string, attempt: number): Promise<void> {
    const row = await this.repo.findExport(exportId);
    if (row?.status !== 'pending') return;
    try {
      const file = await this.files.write(this.archive(row.user_id));
      if (!(await this.repo.markReady(exportId, file.key, file.size, EXPORT_KEEP_HOURS)))
        await this.files.delete(file.key); // the user was erased meanwhile
    } catch (err) {
      if (attempt >= EXPORT_ATTEMPTS) await this.repo.markFailed(exportId);
      throw err;
    }
  }

  /** Job: deletes archive files past their keeping time. */
  async expireOld(): Promise<number> {
    const due = await this.repo.dueForExpiry(1000);
    for (const { file_key } of due) if (file_key) await this.files.delete(file_key);
    await this.repo.markExpired(due.map((d) => d.id));
    return due.length;
  }

  /** The archive as JSON text, section by section, batch by batch. */
  private async *archive(userId: string): AsyncGenerator<string> {
    yield `{"format":"kith-export/1","generatedAt":${JSON.stringify(new Date().toISOString())}`;
    for (const section of ARCHIVE_SECTIONS) {
      const single = section === 'account';
      yield `,${JSON.stringify(section)}:${single ? '' : '['}`;
      let after: string | null = null;
      let first = true;
      for (;;) {
        const rows = await this.repo.section(section, userId, after, BATCH);
        for (const row of rows) {
          yield first ? row.doc : `,${row.doc}`;
          first = false;
        }
        if (rows.length < BATCH || single) break;
        after = rows[rows.length - 1]!.key;
      }
      if (single && first) throw new Error(`user ${userId} not found for export`);
      if (!single) yield ']';
    }
    yield '}';
  }
}
