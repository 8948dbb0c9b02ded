import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, uniqueUsername } from './helpers/factories.ts';

const t = await buildTestApp(GENEROUS_AUTH_LIMITS);
const { app } = t;
const db = t.platform.db.primary;

const signup = (payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload });
const userCount = async () =>
  Number((await db.selectFrom('users').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const auditActions = async (targetId: string) =>
  (
    await db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', targetId)
      .orderBy('at')
      .execute()
  ).map((r) => r.action);

describe('POST /api/v1/auth/signup', () => {
  it('creates the account, opens a session and sets the refresh cookie', async () => {
    const username = uniqueUsername();
    const res = await signup({
      username,
      email: ` ${username.toUpperCase()}@Example.COM`.trim(),
      password: 'correct horse battery',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.user).toEqual({
      id: expect.any(String),
      username,
      email: `${username}@example.com`,
      displayName: username,
      bio: '',
      role: 'user',
      createdAt: expect.any(String),
      emailVerified: false,
      suspension: null,
    });
    expect(body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(body.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toContain(`kith_refresh=${body.refreshToken}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/api\/v1\/auth/);

    const row = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', body.user.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await auditActions(body.user.id)).toEqual(['auth.signup']);
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    expect(me.json().username).toBe(username);
  });

  it.each([
    ['role', { role: 'admin' }],
    ['id', { id: '01a20661-42ef-7ab2-a5cf-b26043916287' }],
  ])('refuses the unknown field %s and stores nothing', async (_name, extra) => {
    const before = await userCount();
    const res = await signup({
      username: uniqueUsername(),
      email: 'x@example.com',
      password: 'correct horse battery',
      ...extra,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(await userCount()).toBe(before);
  });

  it('refuses a NUL character with a 400, never a 500 from Postgres', async () => {
    const res = await signup({
      username: uniqueUsername(),
      email: 'n@example.com',
      password: 'correct\u0000horse battery',
      displayName: 'a\u0000b',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('NUL_CHARACTER');
  });

  it.each([
    ['too short', 'short9pw', 'VALIDATION_FAILED'],
    ['too long', 'x'.repeat(257), 'VALIDATION_FAILED'],
    ['common', 'qwertyuiop', 'WEAK_PASSWORD'],
    ['common in another case', 'Password123', 'WEAK_PASSWORD'],
  ])('refuses a %s password', async (_name, password, code) => {
    const res = await signup({
      username: uniqueUsername(),
      email: `${uniqueUsername()}@example.com`,
      password,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe(code);
  });

  it.each([['ab'], ['a'.repeat(31)], ['has space'], ['dash-ed'], ['émile']])(
    'refuses the username %j',
    async (username) => {
      const res = await signup({
        username,
        email: `${uniqueUsername()}@example.com`,
        password: 'correct horse battery',
      });
      expect(res.statusCode).toBe(400);
    },
  );

  it('refuses a taken username whatever its case, and a taken e-mail', async () => {
    const first = await createUser(app);
    const again = await signup({
      username: first.username.toUpperCase(),
      email: 'other@example.com',
      password: 'correct horse battery',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('USERNAME_TAKEN');
    const email = await signup({
      username: uniqueUsername(),
      email: first.email.toUpperCase(),
      password: 'correct horse battery',
    });
    expect(email.statusCode).toBe(409);
    expect(email.json().error.code).toBe('EMAIL_TAKEN');
  });

  it('gives two concurrent signups with one username exactly one 201 and one 409', async () => {
    const username = uniqueUsername();
    const results = await Promise.all([
      signup({ username, email: `${username}.1@example.com`, password: 'correct horse battery' }),
      signup({
        username: username.toUpperCase(),
        email: `${username}.2@example.com`,
        password: 'correct horse battery',
      }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.statusCode === 409)!.json().error.code).toBe('USERNAME_TAKEN');
    const rows = await db.selectFrom('users').select('id').where('username', '=', username).execute();
    expect(rows).toHaveLength(1);
  });
});

describe('POST /api/v1/auth/login', () => {
  const login = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', payload, headers });

  it('signs in by username or e-mail, sets the cookie, records it and updates last_active_at', async () => {
    const user = await createUser(app);
    await db
      .updateTable('users')
      .set({ last_active_at: new Date('2020-01-01') })
      .where('id', '=', user.id)
      .execute();
    const byName = await login(
      { login: user.username.toUpperCase(), password: user.password },
      { 'user-agent': 'test-agent/1' },
    );
    expect(byName.statusCode, byName.body).toBe(200);
    expect(byName.json()).toMatchObject({
      user: { id: user.id },
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
    expect(String(byName.headers['set-cookie'])).toMatch(/^kith_refresh=.*HttpOnly.*SameSite=Strict/);
    const byEmail = await login({ login: ` ${user.email.toUpperCase()} `, password: user.password });
    expect(byEmail.statusCode).toBe(200);

    const row = await db
      .selectFrom('users')
      .select('last_active_at')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.last_active_at.getFullYear()).toBeGreaterThan(2020);
    const entry = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', user.id)
      .where('action', '=', 'auth.login')
      .where('user_agent', '=', 'test-agent/1')
      .executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ actor_id: user.id, target_type: 'user', ip: '127.0.0.1' });
  });

  it('answers an unknown login and a wrong password with the same error, and records both', async () => {
    const user = await createUser(app);
    const wrong = await login({ login: user.username, password: 'not the password at all' });
    const unknown = await login({ login: uniqueUsername('nobody'), password: 'not the password at all' });
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('INVALID_CREDENTIALS');
      expect(res.json().error.message).toBe(wrong.json().error.message);
    }
    const failures = await db
      .selectFrom('audit_log')
      .select(['target_id', 'details'])
      .where('action', '=', 'auth.login_failed')
      .execute();
    expect(failures).toEqual(
      expect.arrayContaining([
        { target_id: user.id, details: { login: user.username, reason: 'wrong_password' } },
        { target_id: null, details: expect.objectContaining({ reason: 'unknown_login' }) },
      ]),
    );
  });

  it('refuses unknown fields and oversize input', async () => {
    expect((await login({ login: 'a', password: 'b', remember: true })).statusCode).toBe(400);
    expect((await login({ login: 'a'.repeat(255), password: 'b' })).statusCode).toBe(400);
    expect((await login({ login: 'a', password: 'b'.repeat(257) })).statusCode).toBe(400);
  });
});
