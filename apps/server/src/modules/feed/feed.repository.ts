import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import { notBlockedWith } from '../friends/block-filter.ts';

/** SQL for feed entries: one row per (reader, post), written by fan-out jobs. */
export class FeedRepository {
  constructor(private readonly db: Db) {}

  async insertOwn(trx: Kysely<DB>, postId: string, authorId: string): Promise<void> {
    await trx
      .insertInto('feed_entries')
      .values({ user_id: authorId, post_id: postId, author_id: authorId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /**
   * Writes the post into the feed of every friend of its author who was active recently, in one
   * statement; returns the readers who got it.
   */
  async fanOut(postId: string, authorId: string, activeSinceDays: number): Promise<string[]> {
    const { rows } = await sql<{ user_id: string }>`
      INSERT INTO feed_entries (user_id, post_id, author_id)
      SELECT f.friend_id, ${postId}, ${authorId}
        FROM friendships f
        JOIN users u ON u.id = f.friend_id
       WHERE f.user_id = ${authorId}
         AND u.last_active_at > now() - make_interval(days => ${activeSinceDays})
         AND u.banned_at IS NULL AND u.deactivated_at IS NULL
      ON CONFLICT DO NOTHING
      RETURNING user_id`.execute(this.db);
    return rows.map((r) => r.user_id);
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

  /** One page of a reader's feed (newest first, keyset on post id), leaving out blocked authors. */
  async pageIds(userId: string, before: string | undefined, limit: number): Promise<string[]> {
    let query = this.db
      .selectFrom('feed_entries as e')
      .select('e.post_id')
      .where('e.user_id', '=', userId)
      .where(notBlockedWith(userId, 'e.author_id'));
    if (before) query = query.where('e.post_id', '<', before);
    const rows = await query
      .orderBy('e.post_id', 'desc')
      .limit(limit + 1)
      .execute();
    return rows.map((r) => r.post_id);
  }
}
