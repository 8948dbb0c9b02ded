import type { Config } from '../config.ts';
import { registerBackupMetrics } from './backup/backup-runs.ts';
import type { Broker } from './broker/broker.ts';
import { MemoryBroker } from './broker/memory-broker.ts';
import type { Cache } from './cache/cache.ts';
import { MemoryCache } from './cache/memory-cache.ts';
import { Database } from './db/database.ts';
import { readMigrations } from './db/migrate.ts';
import type { ErrorReporter } from './http/error-handler.ts';
import type { Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { registerQueueMetrics } from './queue/queue-metrics.ts';
import { MemoryRateLimitStore } from './rate-limit/memory-rate-limit-store.ts';
import type { RateLimitStore } from './rate-limit/rate-limit-store.ts';
import { createRedisAdapters } from './redis/redis-adapters.ts';
import { StorageHealthState } from './storage/observed-storage.ts';

/** Everything modules are built from: config, database, adapters and observability. */
export interface Platform {
  config: Config;
  /** The primary's URL (config.database.url, or the embedded server's): for tools that need a session of their own. */
  databaseUrl: string;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  cache: Cache;
  broker: Broker;
  rateLimitStore: RateLimitStore;
  reportError: ErrorReporter;
  /** `none` without REDIS_URL; `down` while Redis is unreachable (the adapters have fallen back). */
  redisHealth(): 'none' | 'up' | 'down';
  /** Calls `listener` each time redisHealth() flips between up and down; returns an unsubscribe function. */
  onRedisHealthChange(listener: (health: 'up' | 'down') => void): () => void;
  pendingMigrations(): Promise<number>;
  /** The media store's health as this process's last storage call saw it (reported by /readyz). */
  storageHealth: StorageHealthState;
  state: { shuttingDown: boolean };
  close(): Promise<void>;
}

export interface PlatformOptions {
  config: Config;
  logger: Logger;
  /** The primary's URL: config.database.url, or the embedded server's. */
  databaseUrl: string;
  reportError?: ErrorReporter;
  metrics?: Metrics;
}

export async function createPlatform(options: PlatformOptions): Promise<Platform> {
  const { config, logger } = options;
  const metrics = options.metrics ?? createMetrics();
  const db = new Database(
    {
      url: options.databaseUrl,
      readUrls: config.database.readUrls,
      poolSize: config.database.poolSize,
      statementTimeoutMs: config.database.statementTimeoutMs,
      applicationName: `kith-${[...config.roles].join('+')}`,
      replicaMaxLagMs: config.database.replicaMaxLagMs,
      replicaProbeIntervalMs: config.database.replicaProbeIntervalMs,
      onReplicaHealthChange: ({ replica, healthy, reason }) =>
        healthy
          ? logger.info({ replica }, 'read replica is up: lag-tolerant reads may use it')
          : logger.warn({ replica, reason }, 'read replica is down: its reads go to the primary'),
    },
    metrics,
  );
  // backups are recorded in Postgres, so every instance reports them (once per registry)
  if (!metrics.registry.getSingleMetric('kith_backup_last_success_timestamp_seconds')) {
    registerBackupMetrics(metrics.registry, db);
    registerQueueMetrics(metrics.registry, db);
  }
  const migrationFiles = await readMigrations();
  const latest = Math.max(0, ...migrationFiles.map((m) => m.version));

  // With REDIS_URL, each adapter is Redis-backed and falls back to its in-process twin while Redis fails.
  const redis = config.redisUrl ? await createRedisAdapters(config.redisUrl, { logger, metrics }) : undefined;
  const cache = redis?.cache ?? new MemoryCache();
  const broker = redis?.broker ?? new MemoryBroker();
  const rateLimitStore = redis?.rateLimitStore ?? new MemoryRateLimitStore();
  // read-your-writes watermarks are shared by every instance through the cache
  db.useWatermarks(cache);

  return {
    config,
    databaseUrl: options.databaseUrl,
    logger,
    metrics,
    db,
    cache,
    broker,
    rateLimitStore,
    reportError: options.reportError ?? (() => {}),
    redisHealth: () => (redis ? (redis.healthy() ? 'up' : 'down') : 'none'),
    onRedisHealthChange: (listener) =>
      redis?.onHealthChange((up) => listener(up ? 'up' : 'down')) ?? (() => {}),
    async pendingMigrations() {
      const { rows } = await db.primaryPool.query<{ applied: number }>(
        'SELECT count(*)::int AS applied FROM schema_migrations WHERE version <= $1',
        [latest],
      );
      return migrationFiles.length - (rows[0]?.applied ?? 0);
    },
    storageHealth: new StorageHealthState(),
    state: { shuttingDown: false },
    async close() {
      await broker.close();
      await redis?.close();
      await db.close();
    },
  };
}
