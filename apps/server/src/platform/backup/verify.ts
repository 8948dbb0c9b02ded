import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { DiskStorage } from '../storage/disk-storage.ts';
import { type BackupTarget, digest } from './backup-target.ts';
import { readManifest, restoreBackup } from './restore.ts';
import { compareChecksums, tableChecksums } from './table-checksums.ts';

export interface VerifyOptions {
  target: BackupTarget;
  /** A backup name; default the newest complete one. */
  name?: string | undefined;
  /** A direct connection to the server the scratch database is created on (needs CREATEDB). */
  databaseUrl: string;
  pgBinDir?: string | undefined;
  logger: Logger;
}

export interface VerifyReport {
  name: string;
  location: string;
  ok: boolean;
  problems: string[];
  tables: number;
  rows: number;
  mediaObjects: number;
  durationMs: number;
}

/**
 * The restore drill: restores a backup into a scratch database and a scratch media directory,
 * compares every table's row count and checksum and every media object's SHA-256 with what the
 * backup recorded, then drops the scratch copies.
 */
export async function verifyBackup(options: VerifyOptions): Promise<VerifyReport> {
  const { target, databaseUrl, logger } = options;
  const started = performance.now();
  const name = options.name ?? (await target.list()).at(-1);
  if (!name) throw new Error('no complete backup to verify at the backup target');
  const manifest = await readManifest(target, name);

  const scratchName = `kith_restore_drill_${randomBytes(6).toString('hex')}`;
  const scratchUrl = new URL(databaseUrl);
  scratchUrl.pathname = `/${scratchName}`;
  const mediaDir = await mkdtemp(join(tmpdir(), 'kith-restore-drill-media-'));
  const storage = new DiskStorage(mediaDir);
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'kith-restore-drill' });
  await admin.connect();
  const problems: string[] = [];
  try {
    await admin.query(`CREATE DATABASE ${scratchName}`);
    await restoreBackup({
      target,
      name,
      databaseUrl: scratchUrl.toString(),
      storage,
      pgBinDir: options.pgBinDir,
      logger,
    });
    const scratch = new pg.Client({ connectionString: scratchUrl.toString() });
    await scratch.connect();
    try {
      await scratch.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      problems.push(...compareChecksums(manifest.tables, await tableChecksums(scratch)));
      await scratch.query('COMMIT');
    } finally {
      await scratch.end().catch(() => {});
    }
    for (const object of manifest.media.objects) {
      const stored = await storage.read(object.key);
      if (!stored) {
        problems.push(`media ${object.key}: missing after restore`);
        continue;
      }
      const got = await digest(stored.body);
      if (got.sha256 !== object.sha256) problems.push(`media ${object.key}: checksum differs`);
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${scratchName} WITH (FORCE)`).catch((err) => {
      logger.error({ err, database: scratchName }, 'could not drop the restore drill database');
    });
    await admin.end().catch(() => {});
    await storage.close();
    await rm(mediaDir, { recursive: true, force: true });
  }
  const report: VerifyReport = {
    name,
    location: target.locationOf(name),
    ok: problems.length === 0,
    problems,
    tables: Object.keys(manifest.tables).length,
    rows: Object.values(manifest.tables).reduce((sum, t) => sum + t.rows, 0),
    mediaObjects: manifest.media.objects.length,
    durationMs: Math.round(performance.now() - started),
  };
  if (report.ok) logger.info(report, 'restore drill passed');
  else logger.error(report, 'restore drill FAILED: the backup does not restore to what it recorded');
  return report;
}
