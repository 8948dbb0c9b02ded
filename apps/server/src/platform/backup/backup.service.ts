import type { Config } from '../../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Storage } from '../storage/storage.ts';
import { type BackupResult, runBackup } from './backup.ts';
import { recordRun } from './backup-runs.ts';
import { type BackupTarget, createBackupTarget } from './backup-target.ts';
import { type VerifyReport, verifyBackup } from './verify.ts';

/**
 * Backups and restore drills for the worker's scheduled jobs (the CLI runs the same functions):
 * each run is recorded in `backup_runs`, which the backup metrics read.
 */
export class BackupService {
  private readonly target: BackupTarget;

  constructor(
    private readonly deps: {
      config: Pick<Config, 'backup' | 's3' | 'dataDir'>;
      /** A direct connection to the primary (the snapshot and the lock are per session). */
      databaseUrl: string;
      storage: Storage;
      logger: Logger;
    },
  ) {
    this.target = createBackupTarget(deps.config);
  }

  /** The worker schedules backups only when an operator chose where they go. */
  get scheduled(): boolean {
    return this.deps.config.backup.target !== undefined;
  }

  run(): Promise<BackupResult> {
    const { config, databaseUrl, storage, logger } = this.deps;
    return recordRun(databaseUrl, 'backup', () =>
      runBackup({
        databaseUrl,
        storage,
        target: this.target,
        keep: { daily: config.backup.keepDaily, weekly: config.backup.keepWeekly },
        pgBinDir: config.backup.pgBinDir,
        logger,
      }),
    );
  }

  async verify(): Promise<VerifyReport> {
    const { config, databaseUrl, logger } = this.deps;
    const result = await recordRun(databaseUrl, 'verify', async () => {
      const report = await verifyBackup({
        target: this.target,
        databaseUrl,
        pgBinDir: config.backup.pgBinDir,
        logger,
      });
      if (!report.ok)
        throw new Error(`restore drill of ${report.name} failed: ${report.problems.join('; ')}`);
      return { location: report.location, detail: report };
    });
    return result.detail;
  }

  close(): void {
    this.target.close();
  }
}
