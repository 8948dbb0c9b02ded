import { describe, expect, it } from 'vitest';
import { enqueue } from '../src/platform/queue/queue.ts';
import { buildTestApp } from './helpers/app.ts';

describe('job queue metrics', () => {
  it('every instance reports the jobs waiting for a worker and the age of the oldest, by task', async () => {
    const t = await buildTestApp({ METRICS_TOKEN: 'queue-metrics-token' });
    const db = t.platform.db.primary;
    // no worker runs in this app: the jobs wait
    await enqueue(db, 'tags.trending', {}, { runAt: new Date(Date.now() - 120_000) });
    await enqueue(db, 'tags.trending', {});
    await enqueue(db, 'media.cleanup', {}, { runAt: new Date(Date.now() + 3_600_000) }); // not due yet
    const scrape = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer queue-metrics-token' },
    });
    expect(scrape.statusCode).toBe(200);
    expect(scrape.body).toMatch(/^kith_jobs_waiting\{task="tags\.trending"\} 2$/m);
    expect(scrape.body).not.toMatch(/^kith_jobs_waiting\{task="media\.cleanup"\}/m);
    const oldest = Number(
      /^kith_jobs_oldest_waiting_seconds\{task="tags\.trending"\} (\S+)$/m.exec(scrape.body)?.[1],
    );
    expect(oldest).toBeGreaterThanOrEqual(119);
  });
});
