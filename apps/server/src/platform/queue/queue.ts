import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Every task Kith runs, with its payload type: the one place a job's shape is declared. */
export interface JobPayloads {
  'idempotency.cleanup': Record<string, never>;
  'sessions.cleanup': Record<string, never>;
}

export type TaskName = keyof JobPayloads;

export interface EnqueueOptions {
  runAt?: Date;
  maxAttempts?: number;
  /** Replaces a not-yet-started job with the same key instead of adding another. */
  jobKey?: string;
}

/**
 * Adds a job in the caller's transaction (transactional outbox): if the transaction rolls back,
 * the job never existed; if it commits, the job will run.
 */
export async function enqueue<T extends TaskName>(
  db: Kysely<DB>,
  task: T,
  payload: JobPayloads[T],
  options: EnqueueOptions = {},
) {
  await sql`SELECT graphile_worker.add_job(
    ${task},
    ${JSON.stringify(payload)}::json,
    run_at => ${options.runAt ?? null}::timestamptz,
    max_attempts => ${options.maxAttempts ?? 25}::int,
    job_key => ${options.jobKey ?? null}::text
  )`.execute(db);
}
