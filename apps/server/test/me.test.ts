import { describe, expect, it } from 'vitest';
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
      'id',
      'role',
      'username',
    ]);
    expect(res.json()).toMatchObject({ id: user.id, displayName: 'Ada L.', role: 'user' });
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
