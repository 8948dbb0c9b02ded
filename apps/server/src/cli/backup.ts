import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { BackupBusyError, runBackup } from '../platform/backup/backup.ts';
import { recordRun } from '../platform/backup/backup-runs.ts';
import { createBackupTarget, openLocation } from '../platform/backup/backup-target.ts';
import { PgToolsError } from '../platform/backup/pg-tools.ts';
import { RestoreError, restoreBackup } from '../platform/backup/restore.ts';
import { verifyBackup } from '../platform/backup/verify.ts';
import { attachOrStartEmbedded } from '../platform/db/embedded.ts';
import { createLogger, type Logger } from '../platform/observability/logger.ts';
import { createStorage } from '../platform/storage/create-storage.ts';
import { prepareDatabase } from '../server.ts';

const USAGE = `usage:
  npm run backup                               back up the database and media to BACKUP_TARGET
                                               (default DATA_DIR/backups); prints the location last
  npm run restore -- --from LOCATION [--force] restore a backup into DATABASE_URL and the media store
                                               (both must be empty unless --force)
  npm run backup:verify [-- --from LOCATION]   restore drill: restore the newest (or the given) backup
                                               into a scratch database, compare, drop it
Uses DATABASE_URL (a direct connection, not PgBouncer), or the embedded PostgreSQL under DATA_DIR.`;

class UsageError extends Error {}

/** Runs `fn` with the primary's URL: DATABASE_URL, or the embedded server (started if it is not running). */
async function withDatabase<T>(config: Config, fn: (url: string) => Promise<T>): Promise<T> {
  const embedded = config.database.url ? undefined : await attachOrStartEmbedded(config.dataDir);
  try {
    return await fn(config.database.url ?? embedded!.url);
  } finally {
    await embedded?.started?.stop();
  }
}

async function backup(config: Config, logger: Logger): Promise<void> {
  const storage = createStorage(config);
  const target = createBackupTarget(config);
  try {
    const result = await withDatabase(config, (databaseUrl) =>
      recordRun(databaseUrl, 'backup', () =>
        runBackup({
          databaseUrl,
          storage,
          target,
          keep: { daily: config.backup.keepDaily, weekly: config.backup.keepWeekly },
          pgBinDir: config.backup.pgBinDir,
          logger,
        }),
      ),
    );
    process.stderr.write(
      `backup ${result.manifest.name}: ${result.detail.tables} tables, ${result.detail.rows} rows, ${result.detail.mediaObjects} media objects, ${result.bytes} bytes in ${result.detail.durationMs} ms${result.removed.length ? `; removed ${result.removed.join(', ')}` : ''}\n`,
    );
    // the last line is the location, for scripts: LOCATION=$(npm run -s backup | tail -1)
    process.stdout.write(`${result.location}\n`);
  } finally {
    target.close();
    await storage.close();
  }
}

async function restore(config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { from: { type: 'string' }, force: { type: 'boolean', default: false } },
    strict: true,
  });
  if (!values.from) throw new UsageError('--from LOCATION is required');
  const { target, name } = openLocation(values.from, config.s3);
  const storage = createStorage(config);
  try {
    const manifest = await withDatabase(config, async (databaseUrl) => {
      const restored = await restoreBackup({
        target,
        name,
        databaseUrl,
        storage,
        force: values.force,
        pgBinDir: config.backup.pgBinDir,
        logger,
      });
      // a backup from an older release: bring the schema forward now rather than at the next start
      await prepareDatabase(databaseUrl, true, logger);
      return restored;
    });
    process.stdout.write(
      `restored ${manifest.name} (schema ${manifest.schema.version}_${manifest.schema.name}, ${manifest.media.objects.length} media objects)\n`,
    );
  } finally {
    target.close();
    await storage.close();
  }
}

async function verify(config: Config, logger: Logger, args: string[]): Promise<boolean> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' } }, strict: true });
  const opened = values.from ? openLocation(values.from, config.s3) : undefined;
  const target = opened?.target ?? createBackupTarget(config);
  try {
    const report = await withDatabase(config, (databaseUrl) =>
      recordRun(databaseUrl, 'verify', async () => {
        const r = await verifyBackup({
          target,
          name: opened?.name,
          databaseUrl,
          pgBinDir: config.backup.pgBinDir,
          logger,
        });
        if (!r.ok) throw new RestoreError(`restore drill of ${r.name} failed: ${r.problems.join('; ')}`);
        return { location: r.location, detail: r };
      }),
    );
    process.stdout.write(
      `verified ${report.detail.name}: ${report.detail.tables} tables, ${report.detail.rows} rows and ${report.detail.mediaObjects} media objects match (${report.detail.durationMs} ms)\n`,
    );
    return true;
  } finally {
    target.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || !['backup', 'restore', 'verify'].includes(command)) {
      throw new UsageError(command ? `unknown command: ${command}` : 'no command given');
    }
    const config = loadConfig(process.env);
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
    if (command === 'backup') await backup(config, logger);
    else if (command === 'restore') await restore(config, logger, rest);
    else await verify(config, logger, rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err)) {
      process.stderr.write(`kith ${command ?? ''}: ${err.message}\n${USAGE}\n`);
      return 64; // EX_USAGE
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`kith ${command}: cannot start.\n${err.message}\n`);
      return 78; // EX_CONFIG
    }
    if (err instanceof BackupBusyError || err instanceof RestoreError || err instanceof PgToolsError) {
      process.stderr.write(`kith ${command}: ${err.message}\n`);
      return err instanceof BackupBusyError ? 75 : 1; // EX_TEMPFAIL: try again later
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kith: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
