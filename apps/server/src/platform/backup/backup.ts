import { Readable } from 'node:stream';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import type { Storage } from '../storage/storage.ts';
import type { BackupTarget } from './backup-target.ts';
import {
  type BackupManifest,
  backupName,
  DUMP_FILE,
  MANIFEST_FILE,
  type MediaObject,
  mediaFile,
} from './manifest.ts';
import { findPgTools, spawnPg } from './pg-tools.ts';
import { backupsToRemove } from './retention.ts';
import { tableChecksums } from './table-checksums.ts';

/** Shared by every process: one backup at a time per database. */
const BACKUP_LOCK = 7_230_114_002;

export class BackupBusyError extends Error {
  override name = 'BackupBusyError';
  constructor() {
    super('another backup of this database is running (advisory lock held)');
  }
}

export interface BackupOptions {
  /** A direct connection to the primary or a replica (not through PgBouncer: the lock and the snapshot are per session). */
  databaseUrl: string;
  storage: Storage;
  target: BackupTarget;
  keep: { daily: number; weekly: number };
  pgBinDir?: string | undefined;
  logger: Logger;
  now?: () => Date;
}

export interface BackupResult {
  location: string;
  bytes: number;
  manifest: BackupManifest;
  removed: string[];
  detail: { tables: number; rows: number; mediaObjects: number; removed: string[]; durationMs: number };
}

/**
 * One consistent backup: the database dumped (custom format) from an exported snapshot, the row
 * counts and checksums of every table and the list of media keys read in that same snapshot, the
 * media objects copied with their SHA-256, then the manifest; the whole written under a temporary
 * name and renamed (or, on S3, completed by the manifest). Old backups are then pruned.
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const { databaseUrl, storage, target, logger } = options;
  const started = performance.now();
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: 'kith-backup' });
  await lock.connect();
  let writer: Awaited<ReturnType<BackupTarget['begin']>> | undefined;
  try {
    const { rows } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
      BACKUP_LOCK,
    ]);
    if (!rows[0]!.ok) throw new BackupBusyError();

    const { rows: version } = await lock.query<{ v: string; num: string }>(
      `SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS num`,
    );
    const tools = await findPgTools(Math.floor(Number(version[0]!.num) / 10_000), options.pgBinDir);
    const name = backupName((options.now ?? (() => new Date()))());
    writer = await target.begin(name);

    // The snapshot stays open (this transaction) while pg_dump, the checksums and the media list use it.
    const snap = new pg.Client({ connectionString: databaseUrl, application_name: 'kith-backup-snapshot' });
    await snap.connect();
    let tables: BackupManifest['tables'];
    let schema: BackupManifest['schema'];
    let mediaKeys: string[];
    let dump: { bytes: number; sha256: string };
    try {
      await snap.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows: s } = await snap.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      const pgDump = spawnPg(
        tools.pgDump,
        ['--format=custom', '--compress=6', `--snapshot=${s[0]!.id}`, '--no-sync'],
        databaseUrl,
      );
      const writing = writer.write(DUMP_FILE, pgDump.stdout);
      [dump] = await Promise.all([writing, pgDump.done]);
      tables = await tableChecksums(snap);
      const { rows: m } = await snap.query<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1',
      );
      schema = m[0]!;
      const { rows: keys } = await snap.query<{ key: string }>(
        `SELECT original_key AS key FROM media
         UNION SELECT v.value->>'key' FROM media, jsonb_each(variants) v
         ORDER BY key`,
      );
      mediaKeys = keys.map((k) => k.key).filter(Boolean);
      await snap.query('COMMIT');
    } finally {
      await snap.end().catch(() => {});
    }

    const objects: MediaObject[] = [];
    const missing: string[] = [];
    for (const key of mediaKeys) {
      const object = await storage.read(key);
      if (!object) {
        missing.push(key);
        continue;
      }
      const written = await writer.write(mediaFile(key), object.body);
      objects.push({ key, bytes: written.bytes, sha256: written.sha256, contentType: object.contentType });
    }
    const mediaBytes = objects.reduce((sum, o) => sum + o.bytes, 0);
    const manifest: BackupManifest = {
      format: 'kith-backup/1',
      name,
      createdAt: new Date().toISOString(),
      schema: { version: schema.version, name: schema.name },
      database: { file: DUMP_FILE, bytes: dump.bytes, sha256: dump.sha256, serverVersion: version[0]!.v },
      tables,
      media: { storage: storage.kind, bytes: mediaBytes, objects, missing },
    };
    await writer.write(MANIFEST_FILE, Readable.from([Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)]));
    const location = await writer.commit();
    writer = undefined;
    if (missing.length > 0)
      logger.warn({ missing: missing.length }, 'media objects named by the database were not in the store');

    const removed = backupsToRemove(await target.list(), options.keep).filter((n) => n !== name);
    for (const old of removed) await target.remove(old);
    const rowsTotal = Object.values(tables).reduce((sum, t) => sum + t.rows, 0);
    const durationMs = Math.round(performance.now() - started);
    logger.info(
      {
        location,
        bytes: dump.bytes + mediaBytes,
        tables: Object.keys(tables).length,
        rows: rowsTotal,
        media: objects.length,
        removed,
        duration_ms: durationMs,
      },
      'backup written',
    );
    return {
      location,
      bytes: dump.bytes + mediaBytes,
      manifest,
      removed,
      detail: {
        tables: Object.keys(tables).length,
        rows: rowsTotal,
        mediaObjects: objects.length,
        removed,
        durationMs,
      },
    };
  } finally {
    await writer?.abort().catch(() => {});
    // ending the session releases the advisory lock
    await lock.end().catch(() => {});
  }
}
