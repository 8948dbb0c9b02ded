import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ProfilesRepository } from '../src/modules/profiles/profiles.repository.ts';
import { likePrefix } from '../src/modules/profiles/profiles.service.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser, type UserOverrides } from './helpers/factories.ts';
import { befriend, createPost, get } from './helpers/social.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const { app } = t;
const db = t.platform.db.primary;

const profile = (viewer: TestUser, username: string) => get(t, viewer, `/api/v1/users/${username}`);
const search = (viewer: TestUser, query: string) =>
  get(t, viewer, `/api/v1/users?query=${encodeURIComponent(query)}`);
const found = async (viewer: TestUser, query: string) => {
  const res = await search(viewer, query);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items.map((u: { username: string }) => u.username) as string[];
};
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
/** Index names used, and `Seq Scan on <table>` for sequential scans, anywhere in a plan. */
const scansIn = (node: PlanNode): string[] => [
  ...(node['Index Name'] ? [node['Index Name']] : []),
  ...(node['Node Type'] === 'Seq Scan' ? [`Seq Scan on ${node['Relation Name']}`] : []),
  ...(node.Plans ?? []).flatMap(scansIn),
];
/** Five new users, made one after another. */
async function fiveUsers(overrides: (i: number) => UserOverrides = () => ({})) {
  const made: TestUser[] = [];
  for (let i = 0; i < 5; i++) made.push(await createUser(t, overrides(i)));
  return made as [TestUser, TestUser, TestUser, TestUser, TestUser];
}
/** A prefix no other test's users share. */
const uniquePrefix = () => `p${randomBytes(3).toString('hex')}`;

describe('GET /users/:username', () => {
  it("shows public fields, counts of what the caller may see, and the caller's relationship", async () => {
    const [owner, friend, stranger] = [
      await createUser(t, { displayName: 'Owner Person' }),
      await createUser(t),
      await createUser(t),
    ];
    await befriend(t, owner, friend);
    await createPost(t, owner, 'public', 'public');
    await createPost(t, owner, 'friends', 'friends');
    await createPost(t, owner, 'private', 'private');

    const asStranger = await profile(stranger, owner.username.toUpperCase());
    expect(asStranger.statusCode).toBe(200);
    expect(asStranger.json()).toEqual({
      id: owner.id,
      username: owner.username,
      displayName: 'Owner Person',
      bio: '',
      createdAt: expect.any(String),
      counts: { friends: 1, posts: 1 },
      relationship: 'none',
    });
    expect(asStranger.json()).not.toHaveProperty('email');
    expect((await profile(friend, owner.username)).json()).toMatchObject({
      counts: { friends: 1, posts: 2 },
      relationship: 'friends',
    });
    expect((await profile(owner, owner.username)).json()).toMatchObject({
      counts: { posts: 3 },
      relationship: 'self',
    });

    await app.inject({
      method: 'POST',
      url: '/api/v1/friend-requests',
      headers: stranger.headers,
      payload: { username: owner.username },
    });
    expect((await profile(stranger, owner.username)).json().relationship).toBe('request_sent');
    expect((await profile(owner, stranger.username)).json().relationship).toBe('request_received');
  });

  it('answers 404 for unknown, blocked (either way), banned and deactivated users, and 400 for a bad name', async () => {
    const [me, blocker, blocked, banned, gone] = await fiveUsers();
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${me.username}`, headers: blocker.headers });
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${blocked.username}`, headers: me.headers });
    await db.updateTable('users').set({ banned_at: new Date() }).where('id', '=', banned.id).execute();
    await db
      .updateTable('users')
      .set({ deactivated_at: new Date(), erase_after: new Date(Date.now() + 86_400_000) })
      .where('id', '=', gone.id)
      .execute();
    for (const username of [
      'nobody_here',
      blocker.username,
      blocked.username,
      banned.username,
      gone.username,
    ]) {
      const res = await profile(me, username);
      expect(res.statusCode, username).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
    // the others still see them
    const other = await createUser(t);
    expect((await profile(other, blocker.username)).statusCode).toBe(200);
    expect((await profile(me, 'bad-name!')).statusCode).toBe(400);
    expect((await profile(me, 'x'.repeat(31))).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/api/v1/users/${me.username}` })).statusCode).toBe(401);
  });
});

describe('GET /users?query=', () => {
  it('matches the start of usernames and display names, case-insensitively, usernames first', async () => {
    const prefix = uniquePrefix();
    const byName = await createUser(t, { username: `${prefix}_zed` });
    const byDisplay = await createUser(t, { displayName: `${prefix.toUpperCase()} Display` });
    const inside = await createUser(t, { username: `x${prefix}`, displayName: `Not ${prefix}` });
    const me = await createUser(t);
    expect(await found(me, prefix.toUpperCase())).toEqual([byName.username, byDisplay.username]);
    expect(await found(me, `${prefix}_z`)).toEqual([byName.username]);
    expect(await found(me, `  ${prefix}  `)).toEqual([byName.username, byDisplay.username]);
    expect(await found(me, `x${prefix}`)).toEqual([inside.username]);
    const item = (await search(me, `${prefix}_zed`)).json().items[0];
    expect(item).toEqual({ id: byName.id, username: byName.username, displayName: byName.username });
  });

  it('returns at most 20', async () => {
    const prefix = uniquePrefix();
    for (let i = 0; i < 22; i++) await createUser(t, { username: `${prefix}_${String(i).padStart(2, '0')}` });
    const names = await found(await createUser(t), prefix);
    expect(names).toHaveLength(20);
    expect(names[0]).toBe(`${prefix}_00`);
    expect(names).toEqual([...names].sort());
  });

  it('treats %, _ and \\ literally', async () => {
    const prefix = uniquePrefix();
    const percent = await createUser(t, { displayName: `%${prefix}` });
    const underscore = await createUser(t, { username: `${prefix}_a` });
    await createUser(t, { username: `${prefix}xa` });
    const backslash = await createUser(t, { displayName: `\\${prefix}` });
    const me = await createUser(t);
    // `%` alone would match everyone as a LIKE pattern
    expect(await found(me, '%')).toEqual([percent.username]);
    expect(await found(me, `%${prefix}`)).toEqual([percent.username]);
    expect(await found(me, `${prefix}_`)).toEqual([underscore.username]);
    expect(await found(me, `\\${prefix}`)).toEqual([backslash.username]);
    expect(likePrefix('a%b_c\\')).toBe('a\\%b\\_c\\\\%');
  });

  it('leaves out users blocked either way, banned and deactivated users', async () => {
    const prefix = uniquePrefix();
    const [visible, blocker, blocked, banned, gone] = await fiveUsers((i) => ({
      username: `${prefix}_${'vwxyz'[i]}`,
    }));
    const me = await createUser(t);
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${me.username}`, headers: blocker.headers });
    await app.inject({ method: 'PUT', url: `/api/v1/blocks/${blocked.username}`, headers: me.headers });
    await db.updateTable('users').set({ banned_at: new Date() }).where('id', '=', banned.id).execute();
    await db
      .updateTable('users')
      .set({ deactivated_at: new Date(), erase_after: new Date(Date.now() + 86_400_000) })
      .where('id', '=', gone.id)
      .execute();
    expect(await found(me, prefix)).toEqual([visible.username]);
    expect(await found(await createUser(t), prefix)).toEqual([
      visible.username,
      blocker.username,
      blocked.username,
    ]);
  });

  it('refuses a missing, empty, blank or too long query and unknown parameters', async () => {
    const me = await createUser(t);
    for (const url of [
      '/api/v1/users',
      '/api/v1/users?query=',
      '/api/v1/users?query=%20%20',
      `/api/v1/users?query=${'a'.repeat(31)}`,
      '/api/v1/users?query=ab&limit=5',
    ]) {
      const res = await get(t, me, url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await found(me, 'a'.repeat(30))).length).toBe(0);
  });

  it('uses the prefix indexes on a large users table', async () => {
    await sql`
      INSERT INTO users (username, email, display_name, password_hash)
      SELECT 'bulk_' || i, 'bulk_' || i || '@example.com', 'Bulk ' || i, 'x'
        FROM generate_series(1, 20000) AS i`.execute(db);
    await sql`ANALYZE users`.execute(db);
    const me = await createUser(t);
    const query = new ProfilesRepository(db).searchQuery(me.id, likePrefix('bulk_12'), 20);
    const { rows } = await t.platform.db.primaryPool.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (FORMAT JSON) ${query.sql}`,
      query.parameters as unknown[],
    );
    const scans = scansIn((rows[0]!['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
    expect(scans).toContain('users_username_prefix_idx');
    expect(scans).toContain('users_display_name_prefix_idx');
    expect(scans).not.toContain('Seq Scan on users');
    expect(await found(me, 'bulk_12')).toHaveLength(20);
  });
});
