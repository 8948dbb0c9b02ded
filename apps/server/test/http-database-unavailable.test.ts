import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';

describe('a database that is down or overloaded', () => {
  it('answers 503 DATABASE_UNAVAILABLE with Retry-After (the request may be retried), never 500', async () => {
    const t = await buildTestApp(
      {},
      {
        extend: (app) => {
          app.get('/test/db-shutdown', async () => {
            throw Object.assign(new Error('terminating connection due to administrator command'), {
              code: '57P01',
              severity: 'FATAL',
            });
          });
          app.get('/test/db-too-many', async () => {
            throw Object.assign(new Error('sorry, too many clients already'), {
              code: '53300',
              severity: 'FATAL',
            });
          });
          app.get('/test/db-gone', async () => {
            throw new Error('Connection terminated unexpectedly');
          });
          app.get('/test/bug', async () => {
            throw Object.assign(new Error('column "nope" does not exist'), {
              code: '42703',
              severity: 'ERROR',
            });
          });
        },
      },
    );
    for (const url of ['/test/db-shutdown', '/test/db-too-many', '/test/db-gone']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, `${url} ${res.body}`).toBe(503);
      expect(res.headers['retry-after']).toBe('2');
      expect(res.json().error).toMatchObject({ code: 'DATABASE_UNAVAILABLE', requestId: expect.any(String) });
    }
    // a bug in a statement stays a 500 (and is reported), not a "retry later"
    const bug = await t.app.inject({ method: 'GET', url: '/test/bug' });
    expect(bug.statusCode).toBe(500);
    expect(bug.json().error.code).toBe('INTERNAL');
  });
});
