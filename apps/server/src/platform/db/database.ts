import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Metrics } from '../observability/metrics.ts';
import type { DB } from './schema.ts';

export type Db = Kysely<DB>;

export interface DatabaseOptions {
  url: string;
  readUrls: readonly string[];
  poolSize: number;
  statementTimeoutMs: number;
  applicationName: string;
}

/**
 * The primary and its read replicas. `primary` serves writes and read-your-writes; `reader()`
 * serves reads that tolerate replication lag (round-robin over replicas, or the primary when none).
 */
export class Database {
  readonly primary: Db;
  readonly primaryPool: pg.Pool;
  private readonly readers: { db: Db; pool: pg.Pool }[] = [];
  private next = 0;

  constructor(
    options: DatabaseOptions,
    private readonly metrics: Metrics,
  ) {
    this.primaryPool = this.createPool(options, options.url);
    this.primary = this.createKysely(this.primaryPool, 'primary');
    for (const url of options.readUrls) {
      const pool = this.createPool(options, url);
      this.readers.push({ pool, db: this.createKysely(pool, 'replica') });
    }
    // prom-client calls `collect` at scrape time; pool sizes are read then, not tracked per query
    (metrics.dbPoolConnections as unknown as { collect: () => void }).collect = () => this.collectPoolStats();
  }

  /** A handle for reads that tolerate lag. */
  reader(): Db {
    if (this.readers.length === 0) return this.primary;
    this.next = (this.next + 1) % this.readers.length;
    return this.readers[this.next]!.db;
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
    await Promise.all([this.primary.destroy(), ...this.readers.map((r) => r.db.destroy())]);
  }

  private createPool(options: DatabaseOptions, url: string): pg.Pool {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      application_name: options.applicationName,
      statement_timeout: options.statementTimeoutMs,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
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
      ...this.readers.map((r) => ({ name: 'replica', pool: r.pool })),
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
