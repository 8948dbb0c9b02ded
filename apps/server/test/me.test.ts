import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { UsersService } from '../src/modules/users/users.service.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';

const t = await buildTestApp(GENEROUS_AUTH_LIMITS);
const { app } = t;
const db = t.platform.db.primary;

const patch = (headers: Record<string, string>, payload: unknown) =>
  app.inject({ method: 'PATCH', url: '/api/v1/me', headers, payload: payload as Record<string, unknown> });

describe('/api/v1/me', () => {
  it('shows the account through the presenter (no hash, no internal columns)', async () => {
    const user = await createUser(app, { displayName: 'Ada L.' });
    const res = await app.inject({ method: 'GET', url: '/api/v1/me', headers: user.headers });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual([
      'bio',
      'createdAt',
      'displayName',
      'email',
      'emailVerified',
      'id',
      'role',
      'suspension',
      'username',
    ]);
    expect(res.json()).toMatchObject({
      id: user.id,
      displayName: 'Ada L.',
      role: 'user',
      emailVerified: false,
      suspension: null,
    });
  });

  it('needs a token', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/me' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('changes display name and bio', async () => {
    const user = await createUser(app);
    const res = await patch(user.headers, { displayName: 'New Name', bio: 'b'.repeat(500) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ displayName: 'New Name', bio: 'b'.repeat(500) });
    const onlyBio = await patch(user.headers, { bio: '' });
    expect(onlyBio.json()).toMatchObject({ displayName: 'New Name', bio: '' });
  });

  it.each([
    ['an unknown field', { displayName: 'X', role: 'admin' }],
    ['id', { id: '01a20661-42ef-7ab2-a5cf-b26043916287' }],
    ['a bio over 500 characters', { bio: 'b'.repeat(501) }],
    ['an empty display name', { displayName: '' }],
    ['a blank display name', { displayName: '   ' }],
    ['a display name over 64 characters', { displayName: 'd'.repeat(65) }],
    ['a non-string', { bio: 42 }],
  ])('refuses %s with 400 and stores nothing', async (_name, payload) => {
    const user = await createUser(app);
    const before = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    const res = await patch(user.headers, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    const after = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(after).toEqual(before);
  });

  it('refuses NUL in a string', async () => {
    const user = await createUser(app);
    const res = await patch(user.headers, { bio: 'a\u0000b' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('NUL_CHARACTER');
  });
});

describe('/me through the profile cache', () => {
  const me = (headers: Record<string, string>) => app.inject({ method: 'GET', url: '/api/v1/me', headers });

  it('answers my own change at once (read your writes)', async () => {
    const user = await createUser(app, { displayName: 'Before' });
    expect((await me(user.headers)).json().displayName).toBe('Before');
    expect((await patch(user.headers, { displayName: 'After', bio: 'new bio' })).statusCode).toBe(200);
    expect((await me(user.headers)).json()).toMatchObject({ displayName: 'After', bio: 'new bio' });
  });

  it('shows a role set by an admin at once', async () => {
    const user = await createUser(app);
    const admin = await createUser(t, { role: 'admin' });
    expect((await me(user.headers)).json().role).toBe('user');
    const set = await app.inject({
      method: 'POST',
      url: `/api/v1/admin/users/${user.id}/role`,
      headers: admin.headers,
      payload: { role: 'moderator' },
    });
    expect(set.statusCode, set.body).toBe(200);
    // the role change ended the old sessions: sign in again and look
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: user.username, password: user.password },
    });
    const headers = { authorization: `Bearer ${login.json().accessToken}` };
    expect((await me(headers)).json().role).toBe('moderator');
  });

  it('answers 401 with the error shape for a malformed or unknown token', async () => {
    for (const authorization of ['Bearer not.a.jwt', 'Bearer ', 'Basic abc', `Bearer ${'a'.repeat(5000)}`]) {
      const res = await me({ authorization });
      expect(res.statusCode, authorization.slice(0, 20)).toBe(401);
      expect(res.json()).toEqual({
        error: expect.objectContaining({
          code: expect.any(String),
          message: expect.any(String),
          requestId: expect.any(String),
        }),
      });
    }
  });
});

describe('UsersService.get: read through a short per-instance cache', () => {
  let clock = 1_000_000;
  const now = () => clock;
  const rename = (id: string, name: string) =>
    sql`UPDATE users SET display_name = ${name} WHERE id = ${id}`.execute(db);

  it('serves a read again until the TTL, then reads Postgres', async () => {
    const users = new UsersService(db, { profileTtlMs: 5_000, now });
    const user = await createUser(app, { displayName: 'One' });
    expect((await users.get(user.id)).display_name).toBe('One');
    // a write behind the service's back is not seen while the entry lives…
    await rename(user.id, 'Two');
    clock += 4_999;
    expect((await users.get(user.id)).display_name).toBe('One');
    // …and is once it has expired
    clock += 1;
    expect((await users.get(user.id)).display_name).toBe('Two');
    // getFresh always reads Postgres
    await rename(user.id, 'Three');
    expect((await users.getFresh(user.id)).display_name).toBe('Three');
    expect((await users.get(user.id)).display_name).toBe('Two');
  });

  it('drops the entry on every write through the service', async () => {
    const users = new UsersService(db, { profileTtlMs: 60_000, now });
    const user = await createUser(app);
    await users.get(user.id);
    await users.updateProfile(user.id, { bio: 'changed' });
    expect((await users.get(user.id)).bio).toBe('changed');
    await db.transaction().execute((trx) => users.setRole(user.id, 'moderator', trx));
    expect((await users.get(user.id)).role).toBe('moderator');
    await db.transaction().execute((trx) => users.ban(user.id, trx));
    expect((await users.get(user.id)).banned_at).toBeInstanceOf(Date);
    await rename(user.id, 'Behind');
    users.forget(user.id);
    expect((await users.get(user.id)).display_name).toBe('Behind');
  });

  it('does not cache a read that started before a write', async () => {
    const users = new UsersService(db, { profileTtlMs: 60_000, now });
    const user = await createUser(app, { displayName: 'Old' });
    const reading = users.get(user.id); // its SELECT is in flight…
    users.forget(user.id); // …when a write drops the entry
    await reading;
    await rename(user.id, 'New');
    expect((await users.get(user.id)).display_name).toBe('New');
  });

  it('with a TTL of 0, always reads Postgres', async () => {
    const users = new UsersService(db, { profileTtlMs: 0, now });
    const user = await createUser(app, { displayName: 'A' });
    await users.get(user.id);
    await rename(user.id, 'B');
    expect((await users.get(user.id)).display_name).toBe('B');
  });

  it('an unknown id is NOT_FOUND, and is not cached', async () => {
    const users = new UsersService(db, { profileTtlMs: 60_000, now });
    await expect(users.get('01a20661-42ef-7ab2-a5cf-b26043916287')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(users.getFresh('01a20661-42ef-7ab2-a5cf-b26043916287')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
