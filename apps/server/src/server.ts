import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { cronJobs, jobHandlers } from './jobs.ts';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './platform/db/embedded.ts';
import { checkMigrations, migrate } from './platform/db/migrate.ts';
import { createLogger, type Logger } from './platform/observability/logger.ts';
import { createPlatform, type Platform } from './platform/platform.ts';
import { migrateQueue, startWorker } from './platform/queue/worker.ts';

export interface RunningServer {
  logger: Logger;
  platform: Platform;
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

/** Applies (or, when not asked to, only verifies) the schema and graphile-worker's own tables. */
export async function prepareDatabase(url: string, apply: boolean, logger: Logger): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', (err) => logger.warn({ err }, 'migration connection failed'));
  pool.on('connect', (client) =>
    client.on('error', (err) => logger.warn({ err }, 'migration connection failed')),
  );
  try {
    if (apply) {
      await migrate(pool, (msg) => logger.info(msg));
      await migrateQueue(pool, logger);
    } else {
      const pending = await checkMigrations(pool);
      if (pending > 0) logger.warn({ pending }, 'migrations pending; run `npm run migrate`');
    }
  } finally {
    await pool.end();
  }
}

/**
 * Starts Kith in the configured shape: embedded Postgres when no DATABASE_URL is given, migrations
 * when asked, the HTTP server for the api/realtime roles and the job runner for the worker role.
 */
export async function startServer(config: Config, options: { embeddedDir: string }): Promise<RunningServer> {
  const started = performance.now();
  const logger = createLogger(config.logLevel);
  logger.info({ shape: config.shape, roles: [...config.roles] }, `starting Kith in ${config.shape} shape`);

  let embedded: EmbeddedDatabase | undefined;
  if (!config.database.url) {
    embedded = await startEmbeddedPostgres(options.embeddedDir, (msg) =>
      logger.info({ component: 'postgres' }, msg),
    );
  }
  const databaseUrl = config.database.url ?? embedded!.url;
  try {
    await prepareDatabase(databaseUrl, config.database.migrateOnStart, logger);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }

  const platform = await createPlatform({ config, logger, databaseUrl });
  const app = await buildApp(platform);
  let runner: { stop(): Promise<void> } | undefined;
  if (config.roles.has('worker')) {
    runner = await startWorker({
      connectionString: databaseUrl,
      logger,
      metrics: platform.metrics,
      concurrency: config.workerConcurrency,
      handlers: jobHandlers(platform),
      cron: cronJobs,
    });
  }
  const address = await app.listen({ host: config.host, port: config.port });
  const url = address.replace('://0.0.0.0', '://localhost').replace('://[::]', '://localhost');
  logger.info(
    {
      url,
      shape: config.shape,
      roles: [...config.roles],
      startup_ms: Math.round(performance.now() - started),
    },
    `Kith is ready at ${url}`,
  );

  return {
    logger,
    platform,
    app,
    url,
    async stop() {
      platform.state.shuttingDown = true;
      const force = setTimeout(() => {
        logger.warn(
          { timeout_ms: config.shutdownTimeoutMs },
          'in-flight requests did not finish in time; closing',
        );
        app.server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      try {
        await app.close(); // stops accepting, lets in-flight requests finish
        logger.info('http closed');
        await runner?.stop();
        logger.info('worker stopped');
        await platform.close();
        logger.info('platform closed');
      } finally {
        clearTimeout(force);
        // embedded Postgres goes last: everything above may still be writing
        await embedded?.stop();
      }
      logger.info('stopped');
    },
  };
}
