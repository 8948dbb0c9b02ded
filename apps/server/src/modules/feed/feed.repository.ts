import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { PostRecord } from '../posts/posts.repository.ts';

/** One statement per page; its SQL is the `feed_page` function (migration 0020). */
const PAGE_SQL = 'SELECT * FROM feed_page($1::uuid, $2::uuid, $3::integer)';

/** A reader a fan-out reached. */
export interface FanOutReader {
  id: string;
  role: string;
}

/**
 * SQL for feed entries: one row per (reader, post), written by fan-out jobs.
 *
 * Reads of other modules' tables, on the hot read path (a service call would cost a round trip per
 * page): the page (`feed_page`, migration 0020) joins users (the author: live, name), posts,
 * reactions, post_media and media (hydration, as posts.repository.ts's `hydrate`) and blocks (the
 * rule of friends/block-filter.ts); fan-out joins friendships and users (the author's friends who
 * were active recently, and their role); a backfill reads posts (a friend's recent posts).
 */
export class FeedRepository {
  /**
   * @param db the primary: fan-out, backfill and removals
   * @param reads lag-tolerant reads (`Database.reads`): pages, which FeedService keeps fresh by
   *   noting every change of a reader's feed (read-your-writes); the primary when not given
   */
  constructor(
    private readonly db: Db,
    private readonly reads: Db = db,
  ) {}

  async insertOwn(trx: Kysely<DB>, postId: string, authorId: string): Promise<void> {
    await trx
      .insertInto('feed_entries')
      .values({ user_id: authorId, post_id: postId, author_id: authorId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /**
   * Writes the post into the feed of every friend of its author who was active recently, in one
   * statement; returns the readers who got it, with their role (what their feature flags target).
   */
  async fanOut(postId: string, authorId: string, activeSinceDays: number): Promise<FanOutReader[]> {
    const { rows } = await sql<{ user_id: string; role: string }>`
      WITH added AS (
        INSERT INTO feed_entries (user_id, post_id, author_id)
        SELECT f.friend_id, ${postId}, ${authorId}
          FROM friendships f
          JOIN users u ON u.id = f.friend_id
         WHERE f.user_id = ${authorId}
           AND u.last_active_at > now() - make_interval(days => ${activeSinceDays})
           AND u.banned_at IS NULL AND u.deactivated_at IS NULL
        ON CONFLICT DO NOTHING
        RETURNING user_id)
      SELECT a.user_id, u.role FROM added a JOIN users u ON u.id = a.user_id`.execute(this.db);
    return rows.map((r) => ({ id: r.user_id, role: r.role }));
  }

  async removeAuthor(userId: string, authorId: string): Promise<void> {
    await this.db
      .deleteFrom('feed_entries')
      .where('user_id', '=', userId)
      .where('author_id', '=', authorId)
      .execute();
  }

  /** Removes a post from every feed; returns the readers whose feeds changed. */
  async removePost(trx: Kysely<DB>, postId: string): Promise<string[]> {
    const rows = await trx
      .deleteFrom('feed_entries')
      .where('post_id', '=', postId)
      .returning('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** Copies recent posts of `authorIds` that `userId` may see (public or friends) into their feed. */
  async copyRecent(
    userId: string,
    authorIds: readonly string[],
    sinceDays: number,
    perAuthor: number,
  ): Promise<number> {
    if (authorIds.length === 0) return 0;
    const result = await sql`
      INSERT INTO feed_entries (user_id, post_id, author_id)
      SELECT ${userId}, p.id, p.author_id
        FROM unnest(${authorIds}::uuid[]) AS a(id)
        CROSS JOIN LATERAL (
          SELECT id, author_id FROM posts
           WHERE author_id = a.id AND deleted_at IS NULL
             AND (visibility IN ('public', 'friends') OR author_id = ${userId})
             AND created_at > now() - make_interval(days => ${sinceDays})
           ORDER BY id DESC LIMIT ${perAuthor}
        ) p
      ON CONFLICT DO NOTHING`.execute(this.db);
    return Number(result.numAffectedRows ?? 0);
  }

  /**
   * One page of a reader's feed, newest first (keyset on post id), hydrated, in one statement: only
   * live posts of live authors neither blocked by nor blocking the reader count towards `limit`, so
   * no page comes back short because of entries hidden after the fan-out.
   */
  async page(userId: string, before: string | undefined, limit: number): Promise<PostRecord[]> {
    const { rows } = await this.reads.executeQuery<PostRecord>(
      CompiledQuery.raw(PAGE_SQL, [userId, before ?? null, limit]),
    );
    return rows;
  }
}
