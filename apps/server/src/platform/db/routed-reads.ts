import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely';
import type pg from 'pg';
import { classifyDbError } from './db-errors.ts';
import type { ReplicaRouter } from './replica-router.ts';
import type { DB } from './schema.ts';

/** Told of every statement run: on which pool, whether it failed, how long it took. */
export type ObserveStatement = (pool: 'primary' | 'replica', ok: boolean, seconds: number) => void;

/**
 * A Kysely handle for reads that tolerate replication lag: each statement asks the router where to
 * run (a replica within the lag bound, else the primary) and runs there on a connection of its own.
 * A statement a replica fails for want of a connection (or cancels for a recovery conflict) runs
 * again on the primary, so a replica going away fails no request. Reads only: transactions are
 * refused (use `Database.primary`), and a write would be refused by the replica (SQLSTATE 25006).
 */
export function createRoutedReads(
  router: ReplicaRouter,
  primaryPool: pg.Pool,
  observe: ObserveStatement,
): Kysely<DB> {
  const driver = new RoutedReadsDriver(router, primaryPool, observe);
  const dialect: Dialect = {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
  };
  return new Kysely<DB>({ dialect });
}

class RoutedReadsDriver implements Driver {
  private readonly connection: DatabaseConnection;

  constructor(router: ReplicaRouter, primaryPool: pg.Pool, observe: ObserveStatement) {
    const run = async (pool: pg.Pool, name: 'primary' | 'replica', query: CompiledQuery) => {
      const started = performance.now();
      let client: pg.PoolClient | undefined;
      try {
        client = await pool.connect();
        const result = await client.query(query.sql, [...query.parameters]);
        client.release();
        observe(name, true, (performance.now() - started) / 1000);
        return result;
      } catch (err) {
        // a connection that failed is not handed to the next caller
        client?.release(classifyDbError(err) === 'unavailable' ? (err as Error) : undefined);
        observe(name, false, (performance.now() - started) / 1000);
        throw err;
      }
    };
    // Kysely acquires a connection per statement outside transactions: the routing happens per
    // statement, inside executeQuery, and the "connection" itself holds nothing.
    this.connection = {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        const route = await router.route();
        let result: pg.QueryResult;
        try {
          result = await run(route.pool, route.name, query);
          router.counted(route.name, route.reason);
        } catch (err) {
          if (!route.replica || !router.failedOn(route.replica, err)) throw err;
          result = await run(primaryPool, 'primary', query);
          router.counted('primary', 'retry');
        }
        const { command, rowCount, rows } = result;
        return {
          rows: (rows ?? []) as R[],
          ...(command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
            ? { numAffectedRows: BigInt(rowCount ?? 0) }
            : {}),
        };
      },
      streamQuery() {
        throw new Error('routed reads do not stream');
      },
    };
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }

  async beginTransaction(): Promise<void> {
    throw new Error('routed reads run outside transactions: use Database.primary for a transaction');
  }

  async commitTransaction(): Promise<void> {}

  async rollbackTransaction(): Promise<void> {}

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}
}
