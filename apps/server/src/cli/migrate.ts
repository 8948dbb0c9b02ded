import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { startEmbeddedPostgres } from '../platform/db/embedded.ts';
import { MigrationError } from '../platform/db/migrate.ts';
import { createLogger } from '../platform/observability/logger.ts';
import { prepareDatabase } from '../server.ts';

/**
 * `npm run migrate`: the deploy job. Applies pending migrations (and graphile-worker's schema) to
 * DATABASE_URL — or to the embedded Postgres under DATA_DIR when none is set — prints what it
 * applied and exits 0; an applied file that changed exits 1 with the reason.
 */
async function main(): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kith migrate: cannot start.\n${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres(join(config.dataDir, 'postgres'));
  try {
    const applied = await prepareDatabase(config.database.directUrl ?? embedded!.url, true, logger);
    process.stdout.write(
      applied.length === 0
        ? 'kith migrate: the database is up to date.\n'
        : `kith migrate: applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}\n`).join('')}`,
    );
    return 0;
  } catch (err) {
    if (err instanceof MigrationError) {
      process.stderr.write(`kith migrate: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await embedded?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kith migrate: failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
