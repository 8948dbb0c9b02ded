import { describe, expect, it } from 'vitest';
import { AppError } from '../platform/errors.ts';
import { errorEvent } from './client-messages.ts';

/** What node-postgres throws when PgBouncer cannot log in to a restarting primary. */
const pgBouncerLoginFailing = Object.assign(
  new Error('server login has been failing, try again later (server_login_retry)'),
  { severity: 'FATAL', code: '08P01' },
);

describe('errorEvent', () => {
  it('answers a database outage on the way to a send as retryable DATABASE_UNAVAILABLE, not INTERNAL', () => {
    expect(errorEvent(pgBouncerLoginFailing, 'message.send')).toMatchObject({
      type: 'error',
      code: 'DATABASE_UNAVAILABLE',
      requestType: 'message.send',
      retryable: true,
      retryAfterMs: 1000,
    });
  });

  it('keeps an unexpected error INTERNAL and an AppError as it is', () => {
    expect(errorEvent(new Error('bug'), 'message.send')).toMatchObject({ code: 'INTERNAL' });
    expect(errorEvent(new Error('bug'), 'message.send')).not.toHaveProperty('retryable');
    expect(errorEvent(new AppError('NOT_FOUND'), 'resume')).toMatchObject({ code: 'NOT_FOUND' });
  });
});
