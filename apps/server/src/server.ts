import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { cronJobs, jobHandlers } from './jobs.ts';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './platform/db/embedded.ts';
import { checkMigrations, migrate } from './platform/db/migrate.ts';
import { createErrorReporting, type ErrorReporting } from './platform/observability/error-reporting.ts';
import { createLogger, type Logger } from './platform/observability/logger.ts';
import { createMetrics } from './platform/observability/metrics.ts';
import { type MetricsServer, startMetricsServer } from './platform/observability/metrics-server.ts';
import { createPlatform, type Platform } from './platform/platform.ts';
import { migrateQueue, startWorker } from './platform/queue/worker.ts';
import { buildServices, type Services } from './services.ts';

export interface RunningServer {
  logger: Logger;
  platform: Platform;
  app: FastifyInstance;
  url: string;
  /** Where /metrics is served when METRICS_PORT is set. */
  metricsUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * Applies (or, when not asked to, only verifies) the schema and graphile-worker's own tables.
 * Returns the migrations applied now.
 */
export async function prepareDatabase(url: string, apply: boolean, logger: Logger): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', (err) => logger.warn({ err }, 'migration connection failed'));
  pool.on('connect', (client) =>
    client.on('error', (err) => logger.warn({ err }, 'migration connection failed')),
  );
  try {
    if (apply) {
      const applied = await migrate(pool, (msg) => logger.info(msg));
      await migrateQueue(pool, logger);
      return applied;
    }
    const pending = await checkMigrations(pool);
    if (pending > 0) logger.warn({ pending }, 'migrations pending; run `npm run migrate`');
    return [];
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
  // migrations, the job runner's LISTEN and backups need a session of their own: never through a pooler
  const directUrl = config.database.directUrl ?? databaseUrl;
  // a failed start must not leave the embedded Postgres running (it is in a process group of its own)
  let platform: Platform | undefined;
  let runner: { stop(): Promise<void> } | undefined;
  let services: Services | undefined;
  let metricsServer: MetricsServer | undefined;
  let errorReporting: ErrorReporting | undefined;
  let app: FastifyInstance | undefined;
  let url: string;
  try {
    await prepareDatabase(directUrl, config.database.migrateOnStart, logger);
    errorReporting = await createErrorReporting(config, logger);
    const metrics = createMetrics();
    platform = await createPlatform({
      config,
      logger,
      databaseUrl,
      metrics,
      reportError: errorReporting.report,
    });
    // one composition root: the routes, the gateway and the jobs share these instances
    services = await buildServices(platform);
    app = await buildApp(platform, { services });
    if (config.roles.has('worker')) {
      runner = await startWorker({
        connectionString: directUrl,
        logger,
        metrics: platform.metrics,
        concurrency: config.workerConcurrency,
        handlers: jobHandlers(services),
        cron: cronJobs(config),
      });
    }
    if (config.metrics.port !== undefined) {
      metricsServer = await startMetricsServer(metrics, {
        host: config.host,
        port: config.metrics.port,
        token: config.metrics.token,
      });
      logger.info({ metrics_url: metricsServer.url }, `metrics at ${metricsServer.url}`);
    }
    const address = await app.listen({ host: config.host, port: config.port });
    url = address.replace('://0.0.0.0', '://localhost').replace('://[::]', '://localhost');
  } catch (err) {
    await app?.close().catch(() => {});
    await runner?.stop().catch(() => {});
    await platform?.close().catch(() => {});
    await metricsServer?.close().catch(() => {});
    await embedded?.stop();
    throw err;
  }
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
    metricsUrl: metricsServer?.url,
    async stop() {
      // readiness turns false at once; app.close() then stops accepting connections, answers 503
      // on kept-alive ones and waits for in-flight requests, bounded by SHUTDOWN_TIMEOUT_MS
      platform.state.shuttingDown = true;
      const force = setTimeout(() => {
        logger.warn(
          { timeout_ms: config.shutdownTimeoutMs },
          'in-flight requests did not finish in time; closing',
        );
        app.server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      try {
        await app.close();
        logger.info('http closed');
        await runner?.stop();
        logger.info('worker stopped');
        // after the worker: a mail job still running finishes on the SMTP pool
        await services?.mail.close();
        services?.backups.close();
        await platform.close();
        logger.info('platform closed');
        await metricsServer?.close();
        await errorReporting.close();
      } finally {
        clearTimeout(force);
        // embedded Postgres goes last: everything above may still be writing
        await embedded?.stop();
      }
      logger.info('stopped');
    },
  };
}
