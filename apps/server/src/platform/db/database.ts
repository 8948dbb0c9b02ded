import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Cache } from '../cache/cache.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ReplicaRouter, replicaName } from './replica-router.ts';
import { createRoutedReads } from './routed-reads.ts';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;

export interface DatabaseOptions {
  url: string;
  readUrls: readonly string[];
  poolSize: number;
  statementTimeoutMs: number;
  applicationName: string;
  /** A replica lagging more than this serves no reads (DATABASE_REPLICA_MAX_LAG_MS). */
  replicaMaxLagMs?: number;
  /** How often replicas' replay positions are probed (DATABASE_REPLICA_PROBE_INTERVAL_MS). */
  replicaProbeIntervalMs?: number;
  /** Told when a replica goes down or comes back. */
  onReplicaHealthChange?: (change: { replica: string; healthy: boolean; reason?: string }) => void;
}

/**
 * The primary and its read replicas. `primary` serves writes and everything that must see them;
 * `reads` serves reads that tolerate replication lag: the ReplicaRouter sends each of its
 * statements to a replica within the lag bound that has replayed the user's last write, or else to
 * the primary (see replica-router.ts). Without replicas `reads` runs on the primary.
 */
export class Database {
  readonly primary: Db;
  readonly primaryPool: pg.Pool;
  /** Lag-tolerant reads, routed per statement (no transactions). */
  readonly reads: Db;
  readonly router: ReplicaRouter;
  private readonly replicaPools: pg.Pool[] = [];

  constructor(
    options: DatabaseOptions,
    private readonly metrics: Metrics,
  ) {
    this.primaryPool = this.createPool(options, options.url);
    this.primary = this.createKysely(this.primaryPool, 'primary');
    const replicas = options.readUrls.map((url) => {
      // a replica that stops answering is given up on by the client (the read runs on the primary)
      const pool = this.createPool(options, url, {
        connectionTimeoutMillis: 2_000,
        query_timeout: options.statementTimeoutMs + 2_000,
      });
      this.replicaPools.push(pool);
      return { name: replicaName(url), pool, url };
    });
    this.router = new ReplicaRouter(
      { pool: this.primaryPool, url: options.url },
      replicas,
      {
        maxLagMs: options.replicaMaxLagMs ?? 2_000,
        probeIntervalMs: options.replicaProbeIntervalMs ?? 1_000,
        ...(options.onReplicaHealthChange ? { onHealthChange: options.onReplicaHealthChange } : {}),
      },
      metrics.registry,
    );
    this.reads = createRoutedReads(this.router, this.primaryPool, (pool, ok, seconds) => {
      this.metrics.dbQueries.inc({ pool, outcome: ok ? 'ok' : 'error' });
      this.metrics.dbQueryDuration.observe({ pool }, seconds);
    });
    this.router.start();
    // prom-client calls `collect` at scrape time; pool sizes are read then, not tracked per query
    (metrics.dbPoolConnections as unknown as { collect: () => void }).collect = () => this.collectPoolStats();
  }

  /** Read-your-writes across instances: the watermarks live in this cache (Redis when scaled). */
  useWatermarks(cache: Cache): void {
    this.router.useWatermarks(cache);
  }

  async ping(timeoutMs: number): Promise<void> {
    const client = await withTimeout(this.primaryPool.connect(), timeoutMs, 'database connect');
    try {
      await withTimeout(client.query('SELECT 1'), timeoutMs, 'database ping');
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.router.stop();
    await Promise.all([this.primary.destroy(), ...this.replicaPools.map((pool) => pool.end())]);
  }

  private createPool(options: DatabaseOptions, url: string, extra: pg.PoolConfig = {}): pg.Pool {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      application_name: options.applicationName,
      statement_timeout: options.statementTimeoutMs,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      ...extra,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    // A checked-out client has no listener of the pool's (pg-pool removes it while the client is
    // out): its connection dropping between statements (inside a transaction, when PgBouncer or the
    // primary restarts) was an unhandled 'error' that killed the process (found by the
    // pgbouncer-restart drill). Now its next statement fails (not queryable: 503, retryable) and
    // the release with that error discards it.
    pool.on('connect', (client) => client.on('error', () => {}));
    return pool;
  }

  private createKysely(pool: pg.Pool, name: 'primary' | 'replica'): Db {
    return new Kysely<DB>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        this.metrics.dbQueries.inc({ pool: name, outcome: event.level === 'error' ? 'error' : 'ok' });
        this.metrics.dbQueryDuration.observe({ pool: name }, event.queryDurationMillis / 1000);
      },
    });
  }

  private collectPoolStats() {
    const gauge = this.metrics.dbPoolConnections;
    const pools = [
      { name: 'primary', pool: this.primaryPool },
      ...this.replicaPools.map((pool) => ({ name: 'replica', pool })),
    ];
    gauge.reset();
    for (const { name, pool } of pools) {
      gauge.inc({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
      gauge.inc({ pool: name, state: 'idle' }, pool.idleCount);
      gauge.inc({ pool: name, state: 'waiting' }, pool.waitingCount);
    }
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
