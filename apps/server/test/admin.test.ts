import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { bearer, createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';

const t = await buildTestApp(GENEROUS_AUTH_LIMITS);
const { app } = t;
const db = t.platform.db.primary;
const admin = await createUser(t, { role: 'admin' });
const moderator = await createUser(t, { role: 'moderator' });

const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
const setRole = (token: string, id: string, role: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/admin/users/${id}/role`,
    headers: bearer(token),
    payload: { role },
  });
const ban = (token: string, id: string) =>
  app.inject({ method: 'POST', url: `/api/v1/admin/users/${id}/ban`, headers: bearer(token) });
const auditLog = (token: string, query = '') =>
  app.inject({ method: 'GET', url: `/api/v1/admin/audit-log${query}`, headers: bearer(token) });

describe('POST /api/v1/admin/users/:id/role', () => {
  it('lets an admin change a role, takes effect on the live session, and is audited', async () => {
    const user = await createUser(app);
    expect((await me(user.accessToken)).json().role).toBe('user'); // cached
    const res = await setRole(admin.accessToken, user.id, 'moderator');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: user.id, role: 'moderator', bannedAt: null });
    expect((await me(user.accessToken)).json().role).toBe('moderator');
    // the new role opens the moderator route at once
    const victim = await createUser(app);
    expect((await ban(user.accessToken, victim.id)).statusCode).toBe(200);
    const entry = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'admin.role_change')
      .where('target_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(entry).toMatchObject({
      actor_id: admin.id,
      target_type: 'user',
      details: { from: 'user', to: 'moderator' },
    });
  });

  it('is refused (403) to users and moderators; unknown users are 404; bad input 400', async () => {
    const user = await createUser(app);
    for (const caller of [user, moderator]) {
      const res = await setRole(caller.accessToken, user.id, 'admin');
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect(
      (
        await app.inject({
          method: 'POST',
          url: `/api/v1/admin/users/${user.id}/role`,
          payload: { role: 'admin' },
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (await setRole(admin.accessToken, '01a20661-42ef-7ab2-a5cf-b26043916287', 'admin')).statusCode,
    ).toBe(404);
    expect((await setRole(admin.accessToken, user.id, 'superuser')).statusCode).toBe(400);
    expect((await setRole(admin.accessToken, 'nope', 'admin')).statusCode).toBe(400);
    expect((await me(user.accessToken)).json().role).toBe('user');
  });
});

describe('POST /api/v1/admin/users/:id/ban', () => {
  it('bans, revokes every session, refuses login and refresh, and is audited', async () => {
    const user = await createUser(app);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    const res = await ban(moderator.accessToken, user.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().bannedAt).toEqual(expect.any(String));
    expect((await me(user.accessToken)).statusCode).toBe(401);
    const refresh = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: user.username, password: user.password },
    });
    expect(login.statusCode).toBe(403);
    expect(login.json().error.code).toBe('ACCOUNT_BANNED');
    const sessions = await db
      .selectFrom('sessions')
      .select('revoked_reason')
      .where('user_id', '=', user.id)
      .execute();
    expect(sessions.map((s) => s.revoked_reason)).toEqual(['ban']);
    const entry = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'admin.ban')
      .where('target_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ actor_id: moderator.id, details: { revokedSessions: 1 } });
  });

  it('is refused to plain users; moderators cannot ban staff; nobody bans themselves', async () => {
    const user = await createUser(app);
    const target = await createUser(app);
    expect((await ban(user.accessToken, target.id)).statusCode).toBe(403);
    expect((await ban(moderator.accessToken, admin.id)).statusCode).toBe(403);
    expect((await ban(admin.accessToken, admin.id)).statusCode).toBe(403);
    expect((await ban(admin.accessToken, '01a20661-42ef-7ab2-a5cf-b26043916287')).statusCode).toBe(404);
    expect((await me(target.accessToken)).statusCode).toBe(200);
    expect((await me(admin.accessToken)).statusCode).toBe(200);
  });
});

describe('GET /api/v1/admin/audit-log', () => {
  it('pages newest first with a keyset cursor, without gaps or repeats', async () => {
    // rows with the same `at` (one transaction) must still page exactly, ordered by id
    await sql`INSERT INTO audit_log (at, action) SELECT now(), 'test.same_instant' FROM generate_series(1, 7)`.execute(
      db,
    );
    const all = await db
      .selectFrom('audit_log')
      .select('id')
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await auditLog(admin.accessToken, `?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i: { id: string }) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    // entries written while paging (admin's own requests write none) would only appear on top
    expect(seen).toEqual(all.map((r) => r.id));
  });

  it('shows actor, target, ip and user agent', async () => {
    const res = await auditLog(admin.accessToken, '?limit=100');
    const signup = res
      .json()
      .items.find(
        (i: { action: string; actorId: string }) => i.action === 'auth.signup' && i.actorId === admin.id,
      );
    expect(signup).toMatchObject({
      targetType: 'user',
      targetId: admin.id,
      ip: '127.0.0.1',
      userAgent: 'lightMyRequest',
    });
  });

  it('is admin only and refuses bad cursors and limits', async () => {
    expect((await auditLog(moderator.accessToken)).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/admin/audit-log' })).statusCode).toBe(401);
    expect((await auditLog(admin.accessToken, '?limit=0')).statusCode).toBe(400);
    expect((await auditLog(admin.accessToken, '?limit=101')).statusCode).toBe(400);
    expect((await auditLog(admin.accessToken, '?cursor=bm9wZQ')).statusCode).toBe(400);
    expect((await auditLog(admin.accessToken, '?offset=10')).statusCode).toBe(400);
  });
});

describe('the audit_log table', () => {
  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    await expect(sql`UPDATE audit_log SET action = 'x'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_log`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_log`.execute(db)).rejects.toThrow(/append-only/);
    const count = await db.selectFrom('audit_log').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBeGreaterThan(0);
  });
});
