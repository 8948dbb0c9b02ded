import { type CompiledQuery, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionsRepository } from '../src/modules/auth/sessions.repository.ts';
import { ChatRepository } from '../src/modules/chat/chat.repository.ts';
import { ChatService } from '../src/modules/chat/chat.service.ts';
import { ConversationsRepository } from '../src/modules/chat/conversations.repository.ts';
import { FeedRepository } from '../src/modules/feed/feed.repository.ts';
import { FriendsRepository } from '../src/modules/friends/friends.repository.ts';
import { MediaRepository } from '../src/modules/media/media.repository.ts';
import { NotificationsRepository } from '../src/modules/notifications/notifications.repository.ts';
import { CommentsRepository } from '../src/modules/posts/comments.repository.ts';
import { PostsRepository } from '../src/modules/posts/posts.repository.ts';
import { ProfilesRepository } from '../src/modules/profiles/profiles.repository.ts';
import { UsersRepository } from '../src/modules/users/users.repository.ts';
import { MemoryBroker } from '../src/platform/broker/memory-broker.ts';
import type { Database } from '../src/platform/db/database.ts';
import type { DB } from '../src/platform/db/schema.ts';
import { seedDatabase } from '../src/platform/db/seed/seed.ts';
import { createLogger } from '../src/platform/observability/logger.ts';
import { buildTestApp } from './helpers/app.ts';

/**
 * Every hot-path query, as its repository issues it (captured through Kysely's log hook, never
 * copied by hand), planned by Postgres on a seeded database of realistic volume: each must use its
 * intended index and never scan a large table sequentially. A call is judged by every statement it
 * issues, not only its last; a call of one of Kith's PL/pgSQL functions by every statement the
 * function runs (read from the database's own copy of it).
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
  chatUser: string;
  chatConversations: string[];
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
    await seedChat(client);
    await client.query('ANALYZE sessions, blocks, conversations, conversation_members, messages');
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
    subject.chatUser = (
      await one(`SELECT user_id FROM conversation_members GROUP BY user_id ORDER BY count(*) DESC LIMIT 1`)
    ).user_id;
    subject.chatConversations = (
      await client.query(
        `SELECT conversation_id FROM conversation_members WHERE user_id = $1 ORDER BY conversation_id LIMIT 20`,
        [subject.chatUser],
      )
    ).rows.map((r) => r.conversation_id);
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

/**
 * Chat at realistic proportions (the seed has none): 20,000 conversations (5,000 direct, 15,000
 * groups of up to 6) over the seeded users, 8 messages each, read markers spread out, and one user
 * in 30 of them (the user a resume, the unread counts and the list are planned for): a user is in
 * tens of conversations among very many.
 */
async function seedChat(client: pg.PoolClient) {
  await client.query(`
    CREATE TEMP TABLE seed_u AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users;
    CREATE TEMP TABLE seed_c AS SELECT uuid_generate_v7() AS id, g FROM generate_series(1, 20000) g;
    INSERT INTO conversations (id, kind, title, direct_key, last_message_at, last_seq)
    SELECT id, CASE WHEN g <= 5000 THEN 'direct' ELSE 'group' END,
           CASE WHEN g > 5000 THEN 'group ' || g END, CASE WHEN g <= 5000 THEN 'seed:' || g END,
           now() - g * interval '1 minute', 8
      FROM seed_c;
    INSERT INTO conversation_members (conversation_id, user_id, last_read_seq)
    SELECT c.id, u.id, (c.g * 7 + k) % 9
      FROM seed_c c CROSS JOIN generate_series(0, 5) k
      JOIN seed_u u ON u.n = (c.g * 37 + k * 1009) % (SELECT count(*) FROM seed_u) + 1
     WHERE c.g > 5000 OR k < 2
    ON CONFLICT DO NOTHING;
    INSERT INTO conversation_members (conversation_id, user_id, last_read_seq)
    SELECT c.id, (SELECT id FROM seed_u WHERE n = 1), 3 FROM seed_c c WHERE c.g > 5000 AND c.g % 500 = 0
    ON CONFLICT DO NOTHING;
    INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body, created_at)
    SELECT uuid_generate_v7(), c.id, s,
           (SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = c.id
             ORDER BY cm.user_id OFFSET s % 2 LIMIT 1),
           'seed-' || s, 'message ' || s, now() - (c.g * 60 - s) * interval '1 second'
      FROM seed_c c CROSS JOIN generate_series(1, 8) s;
    DROP TABLE seed_u, seed_c;`);
}

interface Plan {
  sql: string;
  nodes: PlanNode[];
}

/** Statements that are not planned: transaction control. */
const UNPLANNED = /^\s*(begin|commit|rollback|savepoint|release)\b/i;

/**
 * Runs `call` (a repository or service method), then plans every statement it issued, with its
 * parameters; a call of a function of ours (`SELECT * FROM f($1, …)`) is planned as the statements
 * of the function's body. Fails when the call issued none.
 */
async function plansOf(call: () => Promise<unknown>): Promise<Plan[]> {
  captured.length = 0;
  await call();
  const queries = captured.filter((q) => !UNPLANNED.test(q.sql));
  if (queries.length === 0) throw new Error('the call issued no query');
  const plans: Plan[] = [];
  for (const query of queries) {
    for (const statement of await statementsOf(query.sql)) {
      const parameters = statement.pick ? statement.pick.map((i) => query.parameters[i]) : query.parameters;
      const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) ${statement.sql}`,
        parameters as unknown[],
      );
      plans.push({ sql: statement.sql, nodes: flatten(rows[0]!['QUERY PLAN'][0].Plan) });
    }
  }
  return plans;
}

/**
 * `SELECT * FROM f($1::t1, $2::t2, …)` of a PL/pgSQL function: the statements of its body
 * (`RETURN QUERY …;`), its arguments replaced by the call's parameters (renumbered to those each
 * statement uses: `pick` says which). Anything else: itself, with all its parameters.
 */
async function statementsOf(sql: string): Promise<{ sql: string; pick?: number[] }[]> {
  const call = /^SELECT \* FROM (\w+)\(((?:\$\d+::\w+(?:, )?)+)\)$/.exec(sql.trim());
  if (!call) return [{ sql }];
  const { rows } = await pool.query<{ prosrc: string; proargnames: string[] }>(
    `SELECT prosrc, proargnames FROM pg_proc
      WHERE proname = $1 AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')`,
    [call[1]],
  );
  if (rows.length !== 1) return [{ sql }];
  const args = call[2]!.split(', ').map((arg) => {
    const [, index, type] = /^\$(\d+)::(\w+)$/.exec(arg)!;
    return { index: Number(index) - 1, type: type! };
  });
  const { prosrc, proargnames } = rows[0]!;
  const statements = [...prosrc.matchAll(/RETURN QUERY\s+([\s\S]*?);/g)].map((m) => {
    const pick: number[] = [];
    let text = m[1]!;
    proargnames.forEach((name, i) => {
      const arg = args[i];
      const pattern = new RegExp(`\\b${name}\\b`, 'g');
      if (!arg || !pattern.test(text)) return;
      pick.push(arg.index);
      text = text.replace(pattern, `$${pick.length}::${arg.type}`);
    });
    return { sql: text, pick };
  });
  expect(statements.length, `${call[1]} runs no RETURN QUERY`).toBeGreaterThan(0);
  return statements;
}

/** Plans of a call that issues exactly one statement. */
async function planOf(call: () => Promise<unknown>): Promise<Plan> {
  const plans = await plansOf(call);
  expect(plans.map((p) => p.sql)).toHaveLength(1);
  return plans[0]!;
}

/** Every statement of the call scans no large table sequentially; together they use each index. */
function expectAllIndexed(plans: Plan[], expected: Record<string, string[]>) {
  const all = { sql: plans.map((p) => p.sql).join('\n;\n'), nodes: plans.flatMap((p) => p.nodes) };
  for (const plan of plans) expectNoLargeSeqScan(plan);
  for (const [table, indexes] of Object.entries(expected)) expectIndexed(all, table, indexes);
}

function describePlan(plan: Plan) {
  return `${plan.sql}\nplan: ${JSON.stringify(plan.nodes.map((n) => [n['Node Type'], n['Relation Name'], n['Index Name']].filter(Boolean)))}`;
}

function expectNoLargeSeqScan(plan: Plan) {
  const seqScans = plan.nodes
    .filter((n) => n['Node Type'] === 'Seq Scan' && largeTables.has(n['Relation Name']!))
    .map((n) => n['Relation Name']);
  expect(seqScans, describePlan(plan)).toEqual([]);
}

/** The plan reads `table` through one of `indexes` and scans no large table sequentially. */
function expectIndexed(plan: Plan, table: string, indexes: string[]) {
  // a bitmap index scan names its index but not its table (index names are unique in the schema)
  const used = plan.nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []));
  expect(
    used.some((i) => indexes.includes(i)),
    `${table} through ${indexes.join(' or ')}: ${describePlan(plan)}`,
  ).toBe(true);
  expectNoLargeSeqScan(plan);
}

describe('hot-path query plans on a seeded database', () => {
  it('seeded enough rows that the planner has a choice', () => {
    for (const table of ['users', 'posts', 'feed_entries', 'friendships', 'comments', 'notifications'])
      expect(largeTables.has(table), table).toBe(true);
  });

  it('feed page, in one statement: a range of feed_entries_pkey, authors, posts and reactions by key', async () => {
    const feed = new FeedRepository(db);
    // one statement for the first page and the pages after a cursor; planned here with and
    // without a cursor, each with the reader's mutes (user_mutes, hashtag_mutes) by index and the
    // muted tags as a filter, so feed_entries is still walked through its primary key
    for (const cursor of [subject.feedCursor, undefined]) {
      const plans = await plansOf(() => feed.page(subject.feedReader, cursor, 21));
      expect(plans).toHaveLength(1);
      for (const plan of plans) {
        expectIndexed(plan, 'feed_entries', ['feed_entries_pkey']);
        expectIndexed(plan, 'users', ['users_pkey']);
        expectIndexed(plan, 'posts', ['posts_pkey']);
        expectIndexed(plan, 'reactions', ['reactions_pkey']);
        expectIndexed(plan, 'user_mutes', ['user_mutes_pkey', 'user_mutes_list_idx']);
        expectIndexed(plan, 'hashtag_mutes', ['hashtag_mutes_pkey']);
      }
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
  it('seeded chat at realistic proportions', () => {
    for (const table of ['conversations', 'conversation_members', 'messages'])
      expect(largeTables.has(table), table).toBe(true);
  });

  /** The chat service on the test's own handle; the media of messages are queried, not signed. */
  const chatService = () => {
    const media = new MediaRepository(db);
    return new ChatService(
      { primary: db } as unknown as Database,
      new ChatRepository(db),
      new MemoryBroker(),
      createLogger('silent'),
      {
        attachmentsOfMessages: async (ids: readonly string[]) => {
          await media.attachedToMessages(ids);
          return new Map();
        },
        claimForMessage: async () => {
          throw new Error('not in a plan test');
        },
        releaseForMessage: async () => {
          throw new Error('not in a plan test');
        },
      },
    );
  };

  it('resume and catch-up (missedSince): memberships by key, then each conversation from its seq', async () => {
    const chat = chatService();
    const positions = Object.fromEntries(subject.chatConversations.map((id) => [id, 5]));
    const plans = await plansOf(() => chat.missedSince(subject.chatUser, positions, 100));
    // memberships, the missed messages, their media: every statement planned
    expect(plans.length).toBeGreaterThanOrEqual(3);
    expectAllIndexed(plans, {
      conversation_members: ['conversation_members_pkey', 'conversation_members_user_idx'],
      conversations: ['conversations_pkey'],
      messages: ['messages_conversation_id_seq_key'],
    });
  });

  it('conversations of a user at connect: conversation_members_user_idx', async () => {
    const plans = await plansOf(() => chatService().conversationsOf(subject.chatUser));
    expectAllIndexed(plans, {
      conversation_members: ['conversation_members_user_idx'],
      conversations: ['conversations_pkey'],
    });
  });

  it('unread counts: my memberships, then a capped range of each conversation by seq', async () => {
    const repo = new ChatRepository(db);
    expectAllIndexed(await plansOf(() => repo.unreadCounts(subject.chatUser)), {
      conversation_members: ['conversation_members_user_idx'],
      conversations: ['conversations_pkey'],
      messages: ['messages_conversation_id_seq_key'],
    });
    expectAllIndexed(await plansOf(() => repo.unreadCounts(subject.chatUser, subject.chatConversations[0])), {
      conversation_members: ['conversation_members_user_idx', 'conversation_members_pkey'],
      messages: ['messages_conversation_id_seq_key'],
    });
  });

  it('the conversation list: my memberships, unread counts, last message and peer by key', async () => {
    const repo = new ConversationsRepository(db);
    const first = await plansOf(() => repo.listForUser(subject.chatUser, undefined, 20));
    expectAllIndexed(first, {
      conversation_members: ['conversation_members_user_idx'],
      conversations: ['conversations_pkey'],
      messages: ['messages_conversation_id_seq_key'],
    });
    const page = await repo.listForUser(subject.chatUser, undefined, 20);
    const last = page.at(-1)!;
    expectAllIndexed(
      await plansOf(() =>
        repo.listForUser(subject.chatUser, { activityUs: last.activity_us, id: last.id }, 20),
      ),
      { conversation_members: ['conversation_members_user_idx'], conversations: ['conversations_pkey'] },
    );
  });
});
