import { runOnce, type Task, type TaskList } from 'graphile-worker';
import pg from 'pg';
import { jobHandlers } from '../../src/jobs.ts';
import type { TestApp } from './app.ts';

/**
 * Runs every queued job (and the jobs those enqueue) to completion with the real handlers, as the
 * worker role would; returns once the queue is empty. Deterministic: no waiting on a poll interval.
 */
export async function runJobs(t: TestApp): Promise<void> {
  const handlers = jobHandlers(t.services);
  const taskList: TaskList = {};
  for (const [name, handler] of Object.entries(handlers)) {
    taskList[name] = (async (payload: unknown) =>
      handler(payload as never, { jobId: '', attempts: 1 })) as Task;
  }
  // a pool of our own: ending it waits for every client to come back, so the completion
  // graphile-worker records without awaiting it has landed when runJobs returns; and a connection
  // the test's database drop ends later is not an uncaught error
  const pgPool = new pg.Pool({ connectionString: t.databaseUrl, max: 4 });
  pgPool.on('error', () => {});
  pgPool.on('connect', (client) => client.on('error', () => {}));
  try {
    await runOnce({ pgPool, taskList, logger: quietLogger });
  } finally {
    await pgPool.end();
  }
}

import { Logger } from 'graphile-worker';

const quietLogger = new Logger(() => (level, message) => {
  // the test database being dropped at teardown ends the worker's idle connection: not a job failure
  if (level === 'error' && !message.includes('terminating connection due to administrator command')) {
    throw new Error(`job failed: ${message}`);
  }
});
