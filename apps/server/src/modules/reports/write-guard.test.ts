import { describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.ts';
import { guardChatSends, isGuardedWrite, WriteGuard } from './write-guard.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const accounts = new Map<string, Date | null>([
  ['free', null],
  ['suspended', new Date(NOW + 60_000)],
  ['expired', new Date(NOW - 1)],
]);
const guard = new WriteGuard(
  { get: async (id) => ({ suspended_until: accounts.get(id) ?? null }) },
  () => NOW,
);

describe('WriteGuard', () => {
  it('refuses a suspended account until the suspension’s time, and no one else', async () => {
    await expect(guard.assertMayWrite('free')).resolves.toBeUndefined();
    await expect(guard.assertMayWrite('expired')).resolves.toBeUndefined();
    const refusal = await guard.assertMayWrite('suspended').catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: 'ACCOUNT_SUSPENDED', statusCode: 403 });
  });

  it('guards every unsafe route under /api/v1 except the reading, safety and account ones', () => {
    for (const [method, url] of [
      ['POST', '/api/v1/posts'],
      ['PATCH', '/api/v1/posts/:id'],
      ['POST', '/api/v1/posts/:id/comments'],
      ['PUT', '/api/v1/posts/:id/reactions/:kind'],
      ['POST', '/api/v1/conversations/:id/messages'],
      ['POST', '/api/v1/friend-requests'],
      ['POST', '/api/v1/media'],
      ['PATCH', '/api/v1/me'],
      ['POST', '/api/v1/some-route-added-later'],
    ] as const)
      expect(isGuardedWrite(method, url), `${method} ${url}`).toBe(true);
    for (const [method, url] of [
      ['GET', '/api/v1/posts'],
      ['POST', '/api/v1/auth/logout'],
      ['DELETE', '/api/v1/me'],
      ['POST', '/api/v1/me/export'],
      ['POST', '/api/v1/notifications/read'],
      ['POST', '/api/v1/conversations/:id/read'],
      ['POST', '/api/v1/realtime/ticket'],
      ['PUT', '/api/v1/push/subscription'],
      ['DELETE', '/api/v1/push/subscription'],
      ['PUT', '/api/v1/blocks/:username'],
      ['POST', '/api/v1/reports'],
      ['POST', '/api/v1/moderation/notices/:id/appeal'],
      ['POST', '/metrics'],
    ] as const)
      expect(isGuardedWrite(method, url), `${method} ${url}`).toBe(false);
  });

  it('refuses a suspended user’s chat sends over the socket, and keeps each user’s sends in order', async () => {
    const sent: string[] = [];
    const chat = {
      send: async (userId: string, input: { body: string }) => {
        sent.push(`${userId}:${input.body}`);
        return { ok: true };
      },
      other() {
        return this === chat;
      },
    };
    const guarded = guardChatSends(chat, guard);
    const results = await Promise.allSettled([
      guarded.send('free', { body: '1' } as never),
      guarded.send('suspended', { body: 'x' } as never),
      guarded.send('free', { body: '2' } as never),
      guarded.send('free', { body: '3' } as never),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    expect(sent).toEqual(['free:1', 'free:2', 'free:3']);
    expect(guarded.other()).toBe(true); // other methods still reach the service itself
  });
});
