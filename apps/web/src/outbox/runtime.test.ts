import { QueryClient } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeServer, json, me, on, signedInAs } from '../test/render-route.tsx';
import { onOutboxResult } from './runtime.ts';
import type { OutboxItem } from './types.ts';

const item: OutboxItem = {
  seq: 1,
  userId: me().id,
  key: 'key-1',
  request: { kind: 'post', body: { text: 'written offline', visibility: 'friends' } },
  createdAt: 1,
  state: 'pending',
  attempts: 1,
};
const suspension = { until: '2026-12-24T18:00:00.000Z', caseId: null, reason: null, appeal: null };
const refused = (code: string, status: number) => ({
  type: 'refused' as const,
  error: { code, message: 'Refused.', status, requestId: 'req-1' },
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the outbox hears a refusal', () => {
  it('ACCOUNT_SUSPENDED on a queued write reads /me again: the session (and the banner) learn of it', async () => {
    const server = fakeServer();
    const session = await signedInAs(server, me());
    server.use(on('GET', '/api/v1/me', () => json(200, me({ suspension }))));
    const onResult = onOutboxResult(new QueryClient(), session);

    // a sent item and other refusals read nothing: they come first, so a read they started would
    // be counted below
    onResult(item, { type: 'sent', value: {} });
    onResult(item, refused('VALIDATION_FAILED', 400));
    onResult(item, refused('NOT_FOUND', 404));
    onResult(item, refused('ACCOUNT_SUSPENDED', 403));
    await vi.waitFor(() => {
      const state = session.getState();
      expect(state.status === 'signedIn' && state.user.suspension).toEqual(suspension);
    });
    // the sign-in's read and the one after the suspension, no other
    expect(server.requests.filter((r) => r.path === '/api/v1/me')).toHaveLength(2);
  });
});
