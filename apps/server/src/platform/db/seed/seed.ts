import type pg from 'pg';
import { hashtagsOf, parseEntities } from '../../../modules/posts/entities.ts';
import { BulkInsert } from './bulk-insert.ts';
import { deferIndexes } from './deferred-indexes.ts';
import { Random } from './random.ts';
import { commentText, displayName, FIRST_NAMES, LAST_NAMES, postText } from './text.ts';

export interface SeedOptions {
  users: number;
  /** Average friends per user (symmetric friendships, random graph). */
  friends: number;
  posts: number;
  /** Same seed, same data (ids and timestamps are offsets from `now`). */
  seed: number;
  /** One argon2id hash shared by every seeded user: hashing is deliberately slow. */
  passwordHash: string;
  now?: Date;
  commentsPerPost?: number;
  reactionsPerPost?: number;
  /** Share of users active within `activeDays` (they get feed fan-out, as FeedRepository.fanOut does). */
  activeShare?: number;
  /** FEED_INACTIVE_DAYS of the server the data is for. */
  activeDays?: number;
  /** Pending friend requests per user on average. */
  requestsPerUser?: number;
  /**
   * Posts of the last `feedDays` days are fanned out to feeds (default: `activeDays`, the window a
   * feed rebuild copies). Older posts stay on profiles and tag pages; fanning out all of them costs
   * posts × friends × activeShare rows.
   */
  feedDays?: number;
}

export interface SeedReport {
  counts: Record<string, number>;
  timings: { step: string; ms: number }[];
  /** A few seeded usernames, the first ones active (for trying the data out). */
  sampleUsernames: string[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const POSTS_SPAN_DAYS = 60;
const REACTIONS = ['like', 'like', 'like', 'love', 'love', 'laugh', 'wow', 'sad'] as const;

interface SeedUser {
  id: string;
  username: string;
  active: boolean;
  banned: boolean;
  friends: number[];
}

/** The seed's usernames carry the seed, so that two seeds can fill one database. */
const usernameOf = (rng: Random, i: number, seed: number) =>
  `${rng.pick(FIRST_NAMES)}_${rng.pick(LAST_NAMES)}_${i.toString(36)}_${seed.toString(36)}`.slice(0, 30);

/**
 * Fills a migrated database with a realistic social graph in bulk: users, symmetric friendships,
 * posts with entities and tags, comments, reactions (counters recomputed once), feed entries
 * (fan-out in one INSERT … SELECT, by the rule of FeedRepository.fanOut), pending friend requests
 * and notifications. One connection, one transaction; the big tables' indexes are built after the
 * load. The connecting role must own the tables (the migrating role does); as a superuser the
 * per-row foreign-key checks are skipped too.
 */
export async function seedDatabase(
  client: pg.ClientBase,
  options: SeedOptions,
  log: (message: string) => void = () => {},
): Promise<SeedReport> {
  const o = {
    commentsPerPost: 2,
    reactionsPerPost: 3,
    activeShare: 0.4,
    activeDays: 14,
    requestsPerUser: 1,
    now: new Date(),
    ...options,
  };
  const feedDays = o.feedDays ?? o.activeDays;
  if (o.users < 2) throw new Error('seed needs at least 2 users');
  const now = o.now.getTime();
  const rng = new Random(o.seed);
  const counts: Record<string, number> = {};
  const timings: SeedReport['timings'] = [];
  const step = async (name: string, run: () => Promise<void>) => {
    const started = performance.now();
    await run();
    const ms = Math.round(performance.now() - started);
    timings.push({ step: name, ms });
    log(`${name}: ${ms} ms`);
  };

  await client.query(`SET synchronous_commit = off`); // a crash mid-seed loses a seed, nothing else
  await client.query(`SET work_mem = '256MB'`);
  // The rows are consistent by construction: as a superuser, skip the per-row foreign-key and
  // counter triggers (most of the time of a bulk load); otherwise keep them and pay for the checks.
  const fast = await client.query(`SET session_replication_role = replica`).then(
    () => true,
    () => false,
  );
  if (!fast) log('not a superuser: foreign keys are checked row by row (slower)');
  await client.query(`SET maintenance_work_mem = '512MB'`);

  const users: SeedUser[] = [];

  const load = async () => {
    await step('users', async () => {
      for (let i = 0; i < o.users; i++) {
        users.push({
          id: rng.uuidv7(now - 400 * DAY + rng.int(300 * DAY)),
          username: usernameOf(rng, i, o.seed),
          active: rng.chance(o.activeShare),
          banned: rng.chance(0.002),
          friends: [],
        });
      }
      const { rows: taken } = await client.query('SELECT 1 FROM users WHERE lower(username) = $1', [
        users[0]!.username,
      ]);
      if (taken.length > 0) throw new Error(`this database already holds seed ${o.seed}; use another seed`);
      const insert = new BulkInsert(client, 'users', [
        { name: 'id', type: 'uuid' },
        { name: 'username', type: 'text' },
        { name: 'email', type: 'text' },
        { name: 'display_name', type: 'text' },
        { name: 'password_hash', type: 'text' },
        { name: 'banned_at', type: 'timestamptz' },
        { name: 'created_at', type: 'timestamptz' },
        { name: 'last_active_at', type: 'timestamptz' },
      ]);
      for (const u of users) {
        const [first, last] = u.username.split('_') as [string, string];
        const created = iso(parseInt(u.id.slice(0, 8) + u.id.slice(9, 13), 16));
        const lastActive = u.active
          ? now - rng.int((o.activeDays - 1) * DAY)
          : now - (o.activeDays + 1) * DAY - rng.int(90 * DAY);
        await insert.push(
          u.id,
          u.username,
          `${u.username}@seed.kith.test`,
          displayName(first, last),
          o.passwordHash,
          u.banned ? iso(now - rng.int(30 * DAY)) : null,
          created,
          iso(lastActive),
        );
      }
      counts.users = await insert.done();
    });

    await step('friendships', async () => {
      const n = users.length;
      const target = Math.min(Math.floor((n * o.friends) / 2), (n * (n - 1)) / 2);
      const pairs = new Set<number>();
      while (pairs.size < target) {
        const a = rng.int(n);
        const b = rng.int(n);
        if (a === b) continue;
        const key = a < b ? a * n + b : b * n + a;
        if (pairs.has(key)) continue;
        pairs.add(key);
        users[a]!.friends.push(b);
        users[b]!.friends.push(a);
      }
      const insert = new BulkInsert(
        client,
        'friendships',
        [
          { name: 'user_id', type: 'uuid' },
          { name: 'friend_id', type: 'uuid' },
          { name: 'created_at', type: 'timestamptz' },
        ],
        { batchSize: 20_000 },
      );
      for (const key of pairs) {
        const a = users[Math.floor(key / n)]!;
        const b = users[key % n]!;
        const at = iso(now - rng.int(120 * DAY));
        await insert.push(a.id, b.id, at);
        await insert.push(b.id, a.id, at);
      }
      counts.friendships = await insert.done();
    });

    await step('friend requests', async () => {
      const insert = new BulkInsert(client, 'friend_requests', [
        { name: 'id', type: 'uuid' },
        { name: 'from_user_id', type: 'uuid' },
        { name: 'to_user_id', type: 'uuid' },
        { name: 'created_at', type: 'timestamptz' },
      ]);
      const notify = notificationsInsert(client);
      const seen = new Set<string>();
      const wanted = Math.round(users.length * o.requestsPerUser);
      for (let tries = 0; seen.size < wanted && tries < wanted * 3; tries++) {
        const from = rng.int(users.length);
        const to = rng.int(users.length);
        const a = users[from]!;
        const b = users[to]!;
        if (from === to || seen.has(`${from}:${to}`) || seen.has(`${to}:${from}`) || a.friends.includes(to))
          continue;
        seen.add(`${from}:${to}`);
        const at = now - rng.int(20 * DAY);
        const id = rng.uuidv7(at);
        await insert.push(id, a.id, b.id, iso(at));
        await notify.push(
          rng.uuidv7(at),
          b.id,
          'friend_request',
          null,
          `{${a.id}}`,
          1,
          id,
          '{}',
          iso(at),
          iso(at),
          null,
        );
      }
      counts.friend_requests = await insert.done();
      counts.notifications = await notify.done();
    });

    await step('posts, tags, comments, reactions', async () => {
      const posts = new BulkInsert(client, 'posts', [
        { name: 'id', type: 'uuid' },
        { name: 'author_id', type: 'uuid' },
        { name: 'text', type: 'text' },
        { name: 'visibility', type: 'text' },
        { name: 'entities', type: 'text', cast: 'jsonb' },
        { name: 'comment_count', type: 'int4' },
        { name: 'reaction_counts', type: 'text', cast: 'jsonb' },
        { name: 'created_at', type: 'timestamptz' },
        { name: 'deleted_at', type: 'timestamptz' },
      ]);
      // rows that reference posts are sent only after the posts they reference
      const after = { after: posts };
      const tags = new BulkInsert(
        client,
        'post_tags',
        [
          { name: 'tag', type: 'text' },
          { name: 'post_id', type: 'uuid' },
          { name: 'public', type: 'bool' },
          { name: 'created_at', type: 'timestamptz' },
        ],
        after,
      );
      const comments = new BulkInsert(
        client,
        'comments',
        [
          { name: 'id', type: 'uuid' },
          { name: 'post_id', type: 'uuid' },
          { name: 'author_id', type: 'uuid' },
          { name: 'text', type: 'text' },
          { name: 'entities', type: 'text', cast: 'jsonb' },
          { name: 'created_at', type: 'timestamptz' },
        ],
        after,
      );
      const reactions = new BulkInsert(
        client,
        'reactions',
        [
          { name: 'post_id', type: 'uuid' },
          { name: 'user_id', type: 'uuid' },
          { name: 'kind', type: 'text' },
          { name: 'created_at', type: 'timestamptz' },
        ],
        after,
      );
      const notify = notificationsInsert(client);
      if (!fast) {
        // the counters are written with each post: the per-row counting triggers would add them twice
        await client.query('ALTER TABLE comments DISABLE TRIGGER comments_count');
        await client.query('ALTER TABLE reactions DISABLE TRIGGER reactions_count');
      }

      // activity is skewed: a few users post a lot, most a little
      const cumulative: number[] = [];
      let total = 0;
      for (let i = 0; i < users.length; i++) {
        total += rng.skewed(1) + 0.05;
        cumulative.push(total);
      }
      const authorOf = (r: number) => {
        let lo = 0;
        let hi = cumulative.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cumulative[mid]! < r) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      };

      for (let i = 0; i < o.posts; i++) {
        const authorIndex = authorOf(rng.next() * total);
        const author = users[authorIndex]!;
        const at = now - rng.int(POSTS_SPAN_DAYS * DAY);
        const id = rng.uuidv7(at);
        const r = rng.next();
        const visibility = r < 0.55 ? 'friends' : r < 0.9 ? 'public' : 'private';
        const text = postText(
          rng,
          author.friends.slice(0, 20).map((f) => users[f]!.username),
        );
        const entities = parseEntities(text);
        const deleted = rng.chance(0.01);
        let commentCount = 0;
        const reactionCounts: Record<string, number> = {};
        const audience = author.friends;
        if (!deleted && visibility !== 'private' && audience.length > 0) {
          const later = () => Math.min(now, at + rng.int(2 * DAY));
          const nComments = rng.skewed(o.commentsPerPost);
          for (let c = 0; c < nComments; c++) {
            const who = rng.chance(0.2) ? authorIndex : rng.pick(audience);
            const commentAt = later();
            const commentId = rng.uuidv7(commentAt);
            const ctext = commentText(rng, author.username);
            commentCount += 1;
            await comments.push(
              commentId,
              id,
              users[who]!.id,
              ctext,
              JSON.stringify(parseEntities(ctext)),
              iso(commentAt),
            );
            if (who === authorIndex) continue;
            await notify.push(
              rng.uuidv7(commentAt),
              author.id,
              'comment',
              null,
              `{${users[who]!.id}}`,
              1,
              id,
              JSON.stringify({ commentId }),
              iso(commentAt),
              iso(commentAt),
              now - commentAt > 2 * DAY ? iso(commentAt + HOUR) : null,
            );
          }
          const reactors = new Set<number>();
          let lastAt = at;
          const nReactions = Math.min(rng.skewed(o.reactionsPerPost), audience.length);
          for (let k = 0; k < nReactions; k++) {
            const who = rng.pick(audience);
            if (reactors.has(who)) continue;
            reactors.add(who);
            const reactedAt = later();
            lastAt = Math.max(lastAt, reactedAt);
            const kind = rng.pick(REACTIONS);
            reactionCounts[kind] = (reactionCounts[kind] ?? 0) + 1;
            await reactions.push(id, users[who]!.id, kind, iso(reactedAt));
          }
          if (reactors.size > 0) {
            // grouped as NotificationsService does: one per post, newest actor first
            const actors = [...reactors].reverse().slice(0, 100);
            await notify.push(
              rng.uuidv7(at),
              author.id,
              'reaction',
              `reaction:${id}`,
              `{${actors.map((a) => users[a]!.id).join(',')}}`,
              reactors.size,
              id,
              '{}',
              iso(at),
              iso(lastAt),
              now - lastAt > 2 * DAY ? iso(lastAt + HOUR) : null,
            );
          }
        }
        await posts.push(
          id,
          author.id,
          text,
          visibility,
          JSON.stringify(entities),
          commentCount,
          JSON.stringify(reactionCounts),
          iso(at),
          deleted ? iso(Math.min(now, at + rng.int(DAY))) : null,
        );
        if (deleted) continue;
        for (const tag of hashtagsOf(entities)) await tags.push(tag, id, visibility === 'public', iso(at));
      }
      counts.posts = await posts.done();
      counts.post_tags = await tags.done();
      counts.comments = await comments.done();
      counts.reactions = await reactions.done();
      counts.notifications = (counts.notifications ?? 0) + (await notify.done());
      if (!fast) {
        await client.query('ALTER TABLE comments ENABLE TRIGGER comments_count');
        await client.query('ALTER TABLE reactions ENABLE TRIGGER reactions_count');
      }
    });

    await step('feed entries', async () => {
      await client.query('CREATE TEMP TABLE seed_authors (id uuid PRIMARY KEY) ON COMMIT DROP');
      await client.query('INSERT INTO seed_authors SELECT unnest($1::uuid[])', [users.map((u) => u.id)]);
      // every author sees their own posts; the rest is the rule of FeedRepository.fanOut (friends
      // active recently and not banned), applied as if each post had just been written. Rows are
      // unique by construction, which the load relies on while the primary key is deferred.
      const since = new Date(now - feedDays * DAY);
      const own = await client.query(
        `INSERT INTO feed_entries (user_id, post_id, author_id)
       SELECT p.author_id, p.id, p.author_id
         FROM seed_authors a JOIN posts p ON p.author_id = a.id AND p.deleted_at IS NULL`,
      );
      const fanned = await client.query(
        `INSERT INTO feed_entries (user_id, post_id, author_id)
       SELECT f.friend_id, p.id, p.author_id
         FROM seed_authors a
         JOIN posts p ON p.author_id = a.id AND p.deleted_at IS NULL AND p.visibility <> 'private'
                     AND p.created_at > $3::timestamptz
         JOIN friendships f ON f.user_id = p.author_id
         JOIN users u ON u.id = f.friend_id
        WHERE u.last_active_at > $1::timestamptz - make_interval(days => $2)
          AND u.banned_at IS NULL`,
        [new Date(now), o.activeDays, since],
      );
      counts.feed_entries = (own.rowCount ?? 0) + (fanned.rowCount ?? 0);
    });
  };

  // One transaction: a failed seed leaves nothing behind, and the indexes dropped for the load
  // come back with a rollback too. Other sessions wait on the tables' locks until it commits.
  await client.query('BEGIN');
  try {
    const restoreIndexes = await deferIndexes(client, BULK_TABLES);
    await load();
    await step('indexes', restoreIndexes);
    await step('analyze', async () => {
      await client.query(`ANALYZE users, ${BULK_TABLES.join(', ')}`);
    });
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    if (fast) await client.query('RESET session_replication_role').catch(() => {});
  }

  const sampleUsernames = users
    .filter((u) => u.active && !u.banned)
    .slice(0, 5)
    .map((u) => u.username);
  return { counts, timings, sampleUsernames };
}

/** Tables loaded in bulk, whose indexes are built once after the load. */
const BULK_TABLES = [
  'friendships',
  'posts',
  'post_tags',
  'comments',
  'reactions',
  'feed_entries',
  'notifications',
];

function notificationsInsert(client: pg.ClientBase) {
  return new BulkInsert(client, 'notifications', [
    { name: 'id', type: 'uuid' },
    { name: 'user_id', type: 'uuid' },
    { name: 'kind', type: 'text' },
    { name: 'group_key', type: 'text' },
    { name: 'actor_ids', type: 'text', cast: 'uuid[]' },
    { name: 'actor_count', type: 'int4' },
    { name: 'subject_id', type: 'uuid' },
    { name: 'data', type: 'text', cast: 'jsonb' },
    { name: 'created_at', type: 'timestamptz' },
    { name: 'updated_at', type: 'timestamptz' },
    { name: 'read_at', type: 'timestamptz' },
  ]);
}
