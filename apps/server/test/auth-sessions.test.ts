import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { bearer, createUser, GENEROUS_AUTH_LIMITS, login } from './helpers/factories.ts';

const t = await buildTestApp(GENEROUS_AUTH_LIMITS);
const { app } = t;
const db = t.platform.db.primary;

const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
const post = (url: string, token: string, payload?: Record<string, unknown>) =>
  app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
const actions = async (userId: string) =>
  (await db.selectFrom('audit_log').select('action').where('actor_id', '=', userId).execute()).map(
    (r) => r.action,
  );

describe('sessions', () => {
  it('logout refuses the access token at once and is audited', async () => {
    const user = await createUser(app);
    expect((await me(user.accessToken)).statusCode).toBe(200); // cached as live
    expect((await post('/api/v1/auth/logout', user.accessToken)).statusCode).toBe(204);
    const after = await me(user.accessToken);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('INVALID_TOKEN');
    expect((await post('/api/v1/auth/logout', user.accessToken)).statusCode).toBe(401);
    expect(await actions(user.id)).toContain('auth.logout');
  });

  it('logout and the session routes need a token', async () => {
    for (const [method, url] of [
      ['POST', '/api/v1/auth/logout'],
      ['POST', '/api/v1/auth/logout-all'],
      ['GET', '/api/v1/auth/sessions'],
      ['DELETE', '/api/v1/auth/sessions/01a20661-42ef-7ab2-a5cf-b26043916287'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('lists active sessions with the current one marked, and revokes one by id', async () => {
    const user = await createUser(app);
    const second = await login(app, user.username, user.password);
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/sessions',
      headers: { ...bearer(second.accessToken), 'user-agent': 'ua-2' },
    });
    expect(list.statusCode).toBe(200);
    const items = list.json().items;
    expect(items).toHaveLength(2);
    expect(items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(items[0]).toEqual({
      id: expect.any(String),
      userAgent: expect.any(String),
      ip: '127.0.0.1',
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
      current: true,
    });
    const other = items.find((s: { current: boolean }) => !s.current);
    const del = await app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${other.id}`,
      headers: bearer(second.accessToken),
    });
    expect(del.statusCode).toBe(204);
    expect((await me(user.accessToken)).statusCode).toBe(401);
    expect((await me(second.accessToken)).statusCode).toBe(200);
    expect(await actions(user.id)).toContain('auth.session_revoke');
    const again = await app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${other.id}`,
      headers: bearer(second.accessToken),
    });
    expect(again.statusCode).toBe(404);
  });

  it("answers another user's session id with 404 and leaves it alone", async () => {
    const alice = await createUser(app);
    const bob = await createUser(app);
    const bobSession = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', bob.id)
      .executeTakeFirstOrThrow();
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${bobSession.id}`,
      headers: alice.headers,
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
    expect((await me(bob.accessToken)).statusCode).toBe(200);
    const bad = await app.inject({
      method: 'DELETE',
      url: '/api/v1/auth/sessions/not-a-uuid',
      headers: alice.headers,
    });
    expect(bad.statusCode).toBe(400);
  });

  it('logout-all revokes every session of the user and no one else’s', async () => {
    const user = await createUser(app);
    const second = await login(app, user.username, user.password);
    const bystander = await createUser(app);
    expect((await post('/api/v1/auth/logout-all', second.accessToken)).statusCode).toBe(204);
    expect((await me(user.accessToken)).statusCode).toBe(401);
    expect((await me(second.accessToken)).statusCode).toBe(401);
    expect((await me(bystander.accessToken)).statusCode).toBe(200);
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refreshed.statusCode).toBe(401);
    expect(await actions(user.id)).toContain('auth.logout_all');
  });
});

describe('POST /api/v1/auth/password', () => {
  it('changes the password and revokes every other session', async () => {
    const user = await createUser(app);
    const other = await login(app, user.username, user.password);
    const res = await post('/api/v1/auth/password', user.accessToken, {
      currentPassword: user.password,
      newPassword: 'a brand new passphrase',
    });
    expect(res.statusCode, res.body).toBe(204);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    expect((await me(other.accessToken)).statusCode).toBe(401);
    await expect(login(app, user.username, user.password)).rejects.toThrow(/401/);
    await login(app, user.username, 'a brand new passphrase');
    const entry = await db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'auth.password_change')
      .where('actor_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(entry.details).toEqual({ revokedSessions: 1 });
  });

  it('refuses a wrong current password, a weak new one, and unknown fields', async () => {
    const user = await createUser(app);
    const wrong = await post('/api/v1/auth/password', user.accessToken, {
      currentPassword: 'not it at all',
      newPassword: 'a brand new passphrase',
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('WRONG_PASSWORD');
    const weak = await post('/api/v1/auth/password', user.accessToken, {
      currentPassword: user.password,
      newPassword: '1234567890',
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.code).toBe('WEAK_PASSWORD');
    const extra = await post('/api/v1/auth/password', user.accessToken, {
      currentPassword: user.password,
      newPassword: 'a brand new passphrase',
      userId: 'x',
    });
    expect(extra.statusCode).toBe(400);
    await login(app, user.username, user.password); // unchanged
  });
});
