import { EventEmitter } from 'node:events';
import type { WorkerEvents } from 'graphile-worker';
import { sql } from 'kysely';
import { describe, expect, it, onTestFinished } from 'vitest';
import { jobHandlers } from '../src/jobs.ts';
import { enqueue } from '../src/platform/queue/queue.ts';
import { startWorker } from '../src/platform/queue/worker.ts';
import { buildTestApp } from './helpers/app.ts';

const { platform, databaseUrl } = await buildTestApp();
const db = platform.db.primary;

const countJobs = async (task: string) => {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE task_identifier = ${task}`.execute(db);
  return rows[0]!.n;
};

describe('jobs (transactional outbox)', () => {
  it('enqueues nothing when the writing transaction rolls back', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await enqueue(trx, 'idempotency.cleanup', {});
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await countJobs('idempotency.cleanup')).toBe(0);
  });

  it('runs a job committed with its write, in the worker role', async () => {
    const past = new Date(Date.now() - 60_000);
    await db
      .insertInto('idempotency_keys')
      .values([
        { scope: 'ip:1', key: 'old', request_hash: 'h', state: 'done', locked_until: past, expires_at: past },
        {
          scope: 'ip:1',
          key: 'fresh',
          request_hash: 'h',
          state: 'done',
          locked_until: past,
          expires_at: new Date(Date.now() + 3_600_000),
        },
      ])
      .execute();
    await db.transaction().execute((trx) => enqueue(trx, 'idempotency.cleanup', {}));
    expect(await countJobs('idempotency.cleanup')).toBe(1);

    const events: WorkerEvents = new EventEmitter();
    const done = new Promise<void>((resolve, reject) => {
      events.on('job:success', ({ job }) => job.task_identifier === 'idempotency.cleanup' && resolve());
      events.on('job:error', ({ error }) => reject(error));
    });
    const worker = await startWorker({
      events,
      connectionString: databaseUrl,
      logger: platform.logger,
      metrics: platform.metrics,
      concurrency: 1,
      handlers: jobHandlers(platform),
      cron: [],
    });
    onTestFinished(() => worker.stop());
    await done;
    const keys = await db.selectFrom('idempotency_keys').select('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['fresh']);
    const metrics = await platform.metrics.registry.getSingleMetricAsString('kith_jobs_total');
    expect(metrics).toContain('task="idempotency.cleanup",outcome="ok"} 1');
  });
});
