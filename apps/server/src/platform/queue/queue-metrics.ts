import { sql } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/database.ts';
import { scrapeCache } from '../observability/scrape-cache.ts';

interface Waiting {
  task: string;
  waiting: string;
  oldest: number;
}

/**
 * The job queue as Prometheus sees it, read from graphile-worker's table at scrape time (cached
 * 15 s) by every instance: jobs due and not taken, and how long the oldest has waited, per task.
 * A backlog shows here even when no worker runs (a worker's own counters would say nothing then).
 */
export function registerQueueMetrics(registry: Registry, db: Database): void {
  const read = scrapeCache(async (): Promise<Waiting[]> => {
    const { rows } = await sql<Waiting>`
      SELECT task_identifier AS task, count(*)::text AS waiting,
             extract(epoch FROM now() - min(run_at))::float8 AS oldest
        FROM graphile_worker.jobs
       WHERE locked_at IS NULL AND run_at <= now() AND attempts < max_attempts
       GROUP BY task_identifier`.execute(db.primary);
    return rows;
  });
  const gauge = (name: string, help: string, value: (row: Waiting) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['task'] as const,
      registers: [registry],
      async collect() {
        try {
          const rows = await read();
          this.reset();
          for (const row of rows) this.set({ task: row.task }, value(row));
        } catch {
          // the database is unreachable: its own alerts fire
        }
      },
    });
  gauge('kith_jobs_waiting', 'Jobs due and not yet taken by a worker, by task', (r) => Number(r.waiting));
  gauge(
    'kith_jobs_oldest_waiting_seconds',
    'How long the oldest due job has waited for a worker, by task',
    (r) => Math.max(0, r.oldest),
  );
}
