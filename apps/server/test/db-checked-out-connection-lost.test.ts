import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../src/platform/db/database.ts';
import { classifyDbError } from '../src/platform/db/db-errors.ts';
import { createMetrics } from '../src/platform/observability/metrics.ts';
import { createTestDatabase } from './helpers/database.ts';

const testDb = await createTestDatabase();
const db = new Database(
  {
    url: testDb.url,
    readUrls: [],
    poolSize: 2,
    statementTimeoutMs: 5_000,
    applicationName: 'kith-lost-test',
  },
  createMetrics(),
);

afterAll(async () => {
  await db.close();
  await testDb.drop();
});

describe('a checked-out connection that the server drops', () => {
  it('does not crash the process: the next statement fails as unavailable, the pool goes on', async () => {
    const crashes: unknown[] = [];
    const onUncaught = (err: unknown) => crashes.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await expect(
        db.primary.transaction().execute(async (trx) => {
          const { rows } = await db.primaryPool.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'kith-lost-test' AND state = 'idle in transaction'",
          );
          expect(rows).toHaveLength(1);
          // between two statements of the transaction (no query running on it): PgBouncer or
          // the primary restarting looks like this
          const admin = new pg.Client({ connectionString: testDb.url });
          await admin.connect();
          await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
          await admin.end();
          await new Promise<void>((resolve) => {
            const check = () =>
              db.primaryPool
                .query(
                  "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction' AND application_name = 'kith-lost-test'",
                )
                .then(({ rows: r }) => (r[0].n === 0 ? resolve() : setTimeout(check, 20)));
            void check();
          });
          // the client's socket end arrives as an 'error' event on a checked-out client
          await new Promise((r) => setImmediate(r));
          await trx.selectNoFrom((eb) => eb.val(1).as('one')).execute();
        }),
      ).rejects.toSatisfy((err) => classifyDbError(err) === 'unavailable');
      expect(crashes).toEqual([]);
      // the pool carries on with a fresh connection
      const { rows } = await db.primaryPool.query('SELECT 1 AS one');
      expect(rows[0].one).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
