import { type CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionsRepository } from '../src/modules/auth/sessions.repository.ts';
import { FeedRepository } from '../src/modules/feed/feed.repository.ts';
import { FriendsRepository } from '../src/modules/friends/friends.repository.ts';
import { NotificationsRepository } from '../src/modules/notifications/notifications.repository.ts';
import { CommentsRepository } from '../src/modules/posts/comments.repository.ts';
import { PostsRepository } from '../src/modules/posts/posts.repository.ts';
import { ProfilesRepository } from '../src/modules/profiles/profiles.repository.ts';
import { UsersRepository } from '../src/modules/users/users.repository.ts';
import type { DB } from '../src/platform/db/schema.ts';
import { seedDatabase } from '../src/platform/db/seed/seed.ts';
import { buildTestApp } from './helpers/app.ts';

/**
 * Every hot-path query, as its repository issues it (captured through Kysely's log hook, never
 * copied by hand), planned by Postgres on a seeded database of realistic volume: each must use its
 * intended index and never scan a large table sequentially.
 */

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];

let pool: pg.Pool;
let db: Kysely<DB>;
const captured: CompiledQuery[] = [];
/** Tables with more rows than a page of results could ever need a scan of. */
let largeTables: Set<string>;
const subject = {} as {
  feedReader: string;
  feedCursor: string;
  author: string;
  tag: string;
  post: string;
  notified: string;
  requested: string;
  username: string;
  email: string;
  session: string;
};

const t = await buildTestApp();

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: t.databaseUrl, max: 2 });
  // the test app's teardown drops the database WITH (FORCE), which may end these idle connections first
  pool.on('error', () => {});
  const client = await pool.connect();
  try {
    await seedDatabase(client, {
      // enough users that joining a page's 20 rows to users is an index lookup, not a hash of the table
      users: 20_000,
      friends: 20,
      posts: 40_000,
      seed: 7,
      passwordHash: 'not-a-real-hash',
    });
    // what seeding leaves out: sessions (sign-ins) and a few blocks
    await client.query(`
      INSERT INTO sessions (id, user_id, expires_at)
      SELECT uuid_generate_v7(), u.id, now() + interval '30 days' FROM users u, generate_series(1, 2)`);
    await client.query(`
      WITH u AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM users)
      INSERT INTO blocks (blocker_id, blocked_id)
      SELECT a.id, b.id FROM u a JOIN u b ON b.n = a.n + 7 WHERE a.n % 5 = 0`);
    await client.query('ANALYZE sessions, blocks');
    const large = await client.query<{ relname: string }>(
      `SELECT relname FROM pg_class
        WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND reltuples > 2000`,
    );
    largeTables = new Set(large.rows.map((r) => r.relname));

    const one = async (sql: string) => (await client.query(sql)).rows[0];
    const reader = await one(`
      SELECT user_id, (array_agg(post_id ORDER BY post_id DESC))[20] AS cursor
        FROM feed_entries GROUP BY user_id ORDER BY count(*) DESC LIMIT 1`);
    subject.feedReader = reader.user_id;
    subject.feedCursor = reader.cursor;
    subject.author = (
      await one(`SELECT author_id FROM posts GROUP BY author_id ORDER BY count(*) DESC LIMIT 1`)
    ).author_id;
    subject.tag = (
      await one(`SELECT tag FROM post_tags WHERE public GROUP BY tag ORDER BY count(*) DESC LIMIT 1`)
    ).tag;
    subject.post = (await one(`SELECT id FROM posts ORDER BY comment_count DESC LIMIT 1`)).id;
    subject.notified = (
      await one(`SELECT user_id FROM notifications GROUP BY user_id ORDER BY count(*) DESC LIMIT 1`)
    ).user_id;
    subject.requested = (
      await one(`SELECT to_user_id FROM friend_requests GROUP BY to_user_id ORDER BY count(*) DESC LIMIT 1`)
    ).to_user_id;
    const user = await one(`SELECT username, email FROM users ORDER BY id LIMIT 1 OFFSET 100`);
    subject.username = user.username;
    subject.email = user.email;
    subject.session = (await one(`SELECT id FROM sessions ORDER BY id LIMIT 1 OFFSET 100`)).id;
  } finally {
    client.release();
  }
  db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  return async () => {
    await db.destroy();
  };
}, 240_000);

/** Runs `call` (a repository method), then plans the last statement it issued, with its parameters. */
async function planOf(call: () => Promise<unknown>): Promise<{ sql: string; nodes: PlanNode[] }> {
  captured.length = 0;
  await call();
  const query = captured.at(-1);
  if (!query) throw new Error('the call issued no query');
  const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (FORMAT JSON) ${query.sql}`,
    query.parameters as unknown[],
  );
  return { sql: query.sql, nodes: flatten(rows[0]!['QUERY PLAN'][0].Plan) };
}

/** The plan reads `table` through one of `indexes` and scans no large table sequentially. */
function expectIndexed(plan: { sql: string; nodes: PlanNode[] }, table: string, indexes: string[]) {
  const context = `${plan.sql}\nplan: ${JSON.stringify(plan.nodes.map((n) => [n['Node Type'], n['Relation Name'], n['Index Name']].filter(Boolean)))}`;
  // a bitmap index scan names its index but not its table (index names are unique in the schema)
  const used = plan.nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []));
  expect(
    used.some((i) => indexes.includes(i)),
    `${table} through ${indexes.join(' or ')}: ${context}`,
  ).toBe(true);
  const seqScans = plan.nodes
    .filter((n) => n['Node Type'] === 'Seq Scan' && largeTables.has(n['Relation Name']!))
    .map((n) => n['Relation Name']);
  expect(seqScans, context).toEqual([]);
}

describe('hot-path query plans on a seeded database', () => {
  it('seeded enough rows that the planner has a choice', () => {
    for (const table of ['users', 'posts', 'feed_entries', 'friendships', 'comments', 'notifications'])
      expect(largeTables.has(table), table).toBe(true);
  });

  it('feed page: a range of feed_entries_pkey, first page and with a cursor', async () => {
    const feed = new FeedRepository(db);
    for (const before of [undefined, subject.feedCursor]) {
      const plan = await planOf(() => feed.pageIds(subject.feedReader, before, 20));
      expectIndexed(plan, 'feed_entries', ['feed_entries_pkey']);
    }
  });

  it('posts of a page: hydrated by primary key with authors and my reaction', async () => {
    const ids = (await pool.query(`SELECT id FROM posts ORDER BY id DESC LIMIT 20`)).rows.map((r) => r.id);
    const plan = await planOf(() => new PostsRepository(db).hydrate(ids, subject.feedReader));
    expectIndexed(plan, 'posts', ['posts_pkey']);
    expectIndexed(plan, 'users', ['users_pkey']);
    expectIndexed(plan, 'reactions', ['reactions_pkey']);
  });

  it("a user's posts: posts_author_idx", async () => {
    const plan = await planOf(() =>
      new PostsRepository(db).idsByAuthor(subject.author, ['public', 'friends'], undefined, 20),
    );
    expectIndexed(plan, 'posts', ['posts_author_idx']);
  });

  it('tag page: post_tags_public_idx', async () => {
    const plan = await planOf(() =>
      new PostsRepository(db).idsByTag(subject.tag, subject.feedReader, undefined, 20),
    );
    expectIndexed(plan, 'post_tags', ['post_tags_public_idx']);
    expectIndexed(plan, 'posts', ['posts_pkey']);
  });

  it('friends list and friend ids: friendships_pkey', async () => {
    const friends = new FriendsRepository(db);
    expectIndexed(await planOf(() => friends.listFriends(subject.author, undefined, 20)), 'friendships', [
      'friendships_pkey',
    ]);
    expectIndexed(await planOf(() => friends.friendIds(subject.author)), 'friendships', ['friendships_pkey']);
  });

  it('incoming friend requests: friend_requests_incoming_idx', async () => {
    const plan = await planOf(() =>
      new FriendsRepository(db).listRequests(subject.requested, 'incoming', undefined, 20),
    );
    expectIndexed(plan, 'friend_requests', ['friend_requests_incoming_idx']);
  });

  it('notifications page and unread count', async () => {
    const notifications = new NotificationsRepository(db);
    expectIndexed(await planOf(() => notifications.page(subject.notified, undefined, 20)), 'notifications', [
      'notifications_page_idx',
    ]);
    expectIndexed(await planOf(() => notifications.unreadCount(subject.notified)), 'notifications', [
      'notifications_unread_idx',
    ]);
  });

  it('comments page: comments_post_idx', async () => {
    const plan = await planOf(() =>
      new CommentsRepository(db).page(subject.post, subject.feedReader, undefined, 20),
    );
    expectIndexed(plan, 'comments', ['comments_post_idx']);
  });

  it('user search: the prefix indexes on lower(username) and lower(display_name)', async () => {
    const prefix = `${subject.username.slice(0, 4)}%`;
    const plan = await planOf(() => new ProfilesRepository(db).search(subject.feedReader, prefix, 20));
    expectIndexed(plan, 'users', ['users_username_prefix_idx']);
    expect(plan.nodes.some((n) => n['Index Name'] === 'users_display_name_prefix_idx')).toBe(true);
  });

  it('login lookup by username and by e-mail: the unique lower() indexes', async () => {
    const users = new UsersRepository(db);
    // both indexes on lower(username) serve equality; the planner may take either
    expectIndexed(await planOf(() => users.credentials(subject.username.toUpperCase())), 'users', [
      'users_username_key',
      'users_username_prefix_idx',
    ]);
    expectIndexed(await planOf(() => users.credentials(subject.email)), 'users', ['users_email_key']);
  });

  it('session state (every authenticated request on a cache miss): sessions_pkey joined to users_pkey', async () => {
    const plan = await planOf(() => new SessionsRepository(db).state(subject.session));
    expectIndexed(plan, 'sessions', ['sessions_pkey']);
    expectIndexed(plan, 'users', ['users_pkey']);
  });
});
