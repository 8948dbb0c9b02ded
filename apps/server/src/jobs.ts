import { sql } from 'kysely';
import type { Platform } from './platform/platform.ts';
import type { CronJob, JobHandlers } from './platform/queue/worker.ts';

/** Every job handler, built from the platform. */
export function jobHandlers(platform: Platform): JobHandlers {
  const { db } = platform;
  return {
    'idempotency.cleanup': async () => {
      await db.primary.deleteFrom('idempotency_keys').where('expires_at', '<', sql<Date>`now()`).execute();
    },
    'sessions.cleanup': async () => {
      // refresh tokens go with their session (ON DELETE CASCADE)
      await db.primary
        .deleteFrom('sessions')
        .where((eb) =>
          eb.or([
            eb('expires_at', '<', sql<Date>`now()`),
            eb('revoked_at', '<', sql<Date>`now() - interval '30 days'`),
          ]),
        )
        .execute();
    },
  };
}

export const cronJobs: CronJob[] = [
  { task: 'idempotency.cleanup', schedule: '*/15 * * * *' },
  { task: 'sessions.cleanup', schedule: '17 * * * *' },
];
