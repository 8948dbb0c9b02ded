import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { Visibility } from '../../platform/db/schema-social.ts';
import { notBlockedWith } from '../friends/block-filter.ts';
import { type AttachedMediaRow, attachedMediaJson } from '../media/media.repository.ts';
import type { MediaAttachmentView } from '../media/media.schema.ts';

/** A post with its author and counters, as every list and detail view needs it. */
export interface PostRow {
  id: string;
  author_id: string;
  username: string;
  display_name: string;
  text: string;
  visibility: Visibility;
  entities: unknown[];
  comment_count: number;
  reaction_counts: Record<string, number>;
  created_at: Date;
  edited_at: Date | null;
  my_reaction: string | null;
  /** Attached media, presented (URLs signed or public) by PostsService. */
  media: MediaAttachmentView[];
}

/** A post as hydrate reads it: its media still as stored. */
export type PostRecord = Omit<PostRow, 'media'> & { media: AttachedMediaRow[] };

/**
 * SQL for posts and their tags.
 *
 * Reads other modules' tables in joins on the hydration path (one query per page, where service
 * calls would cost a round trip each): users (authors, live accounts only; mentioned usernames),
 * post_media and media (the media module's: a post's attachments in order); hides blocked authors
 * through the friends module's rule (block-filter.ts).
 */
export class PostsRepository {
  constructor(private readonly db: Db) {}

  async insert(
    trx: Kysely<DB>,
    post: { id: string; author_id: string; text: string; visibility: Visibility; entities: unknown[] },
    tags: string[],
  ): Promise<void> {
    await trx
      .insertInto('posts')
      .values({ ...post, entities: JSON.stringify(post.entities) })
      .execute();
    await this.replaceTags(trx, post.id, tags, post.visibility === 'public');
  }

  async replaceTags(trx: Kysely<DB>, postId: string, tags: string[], isPublic: boolean): Promise<void> {
    await trx.deleteFrom('post_tags').where('post_id', '=', postId).execute();
    if (tags.length > 0) {
      await trx
        .insertInto('post_tags')
        .values(tags.map((tag) => ({ tag, post_id: postId, public: isPublic })))
        .execute();
    }
  }

  async updateText(trx: Kysely<DB>, id: string, text: string, entities: unknown[]): Promise<void> {
    await trx
      .updateTable('posts')
      .set({ text, entities: JSON.stringify(entities), edited_at: sql`now()` })
      .where('id', '=', id)
      .execute();
  }

  async softDelete(trx: Kysely<DB>, id: string): Promise<void> {
    await trx.updateTable('posts').set({ deleted_at: sql`now()` }).where('id', '=', id).execute();
    await trx.deleteFrom('post_tags').where('post_id', '=', id).execute();
  }

  /** Deletes a live post as a report case's decision, marked with the case; false when already gone. */
  async withhold(trx: Kysely<DB>, id: string, caseId: string): Promise<boolean> {
    const result = await trx
      .updateTable('posts')
      .set({ deleted_at: sql`now()`, removed_by_case: caseId })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    await trx.deleteFrom('post_tags').where('post_id', '=', id).execute();
    return true;
  }

  /** Brings back the post `caseId` removed (tags are the caller's); undefined when it removed none. */
  async restoreWithheld(trx: Kysely<DB>, id: string, caseId: string) {
    return trx
      .updateTable('posts')
      .set({ deleted_at: null, removed_by_case: null })
      .where('id', '=', id)
      .where('removed_by_case', '=', caseId)
      .where('deleted_at', 'is not', null)
      .returning(['author_id', 'visibility', 'entities'])
      .executeTakeFirst();
  }

  /**
   * Of `usernames` (lower-case), those of accounts that `authorId` has blocked or that blocked it.
   * Reads `users` (the users module's) through the friends module's block rule: one query for all
   * the mentions of a text, on the lower(username) index.
   */
  async blockedWith(authorId: string, usernames: readonly string[], db: Kysely<DB> = this.db) {
    if (usernames.length === 0) return new Set<string>();
    const rows = await db
      .selectFrom('users as u')
      .select(sql<string>`lower(u.username)`.as('username'))
      .where(sql<string>`lower(u.username)`, 'in', [...usernames])
      .where(sql<boolean>`NOT ${notBlockedWith(authorId, 'u.id')}`)
      .execute();
    return new Set(rows.map((r) => r.username));
  }

  async entitiesOf(id: string) {
    return this.db
      .selectFrom('posts')
      .select(['author_id', 'entities'])
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /** Minimal facts for access checks, live posts only. */
  async findMeta(id: string, db: Kysely<DB> = this.db) {
    return (
      db
        .selectFrom('posts as p')
        .innerJoin('users as u', 'u.id', 'p.author_id')
        .select(['p.id', 'p.author_id', 'p.visibility', 'p.created_at'])
        .where('p.id', '=', id)
        .where('p.deleted_at', 'is', null)
        // a banned or deactivated author's posts are gone for everyone, by id too
        .where('u.banned_at', 'is', null)
        .where('u.deactivated_at', 'is', null)
        .executeTakeFirst()
    );
  }

  /**
   * Live posts by id with authors, counters and the viewer's own reaction, in one statement
   * (a page costs a constant number of queries). Order is the caller's.
   */
  async hydrate(
    ids: readonly string[],
    viewerId: string,
    db: Kysely<DB> = this.db,
  ): Promise<Map<string, PostRecord>> {
    if (ids.length === 0) return new Map();
    const rows = await db
      .selectFrom('posts as p')
      .innerJoin('users as u', 'u.id', 'p.author_id')
      .select([
        'p.id',
        'p.author_id',
        'u.username',
        'u.display_name',
        'p.text',
        'p.visibility',
        'p.entities',
        'p.comment_count',
        'p.reaction_counts',
        'p.created_at',
        'p.edited_at',
      ])
      .select((eb) =>
        eb
          .selectFrom('reactions as r')
          .select('r.kind')
          .whereRef('r.post_id', '=', 'p.id')
          .where('r.user_id', '=', viewerId)
          .as('my_reaction'),
      )
      .select(
        sql<AttachedMediaRow[]>`coalesce((
          SELECT json_agg(${attachedMediaJson('m')} ORDER BY pm.position)
            FROM post_media pm JOIN media m ON m.id = pm.media_id
           WHERE pm.post_id = p.id), '[]'::json)`.as('media'),
      )
      .where('p.id', 'in', ids)
      .where('p.deleted_at', 'is', null)
      .where('u.banned_at', 'is', null)
      .where('u.deactivated_at', 'is', null)
      .execute();
    return new Map(rows.map((r) => [r.id, r as PostRecord]));
  }

  /** A user's live posts in the given visibilities, newest first (keyset on id). */
  async idsByAuthor(authorId: string, visibilities: Visibility[], before: string | undefined, limit: number) {
    let query = this.db
      .selectFrom('posts')
      .select('id')
      .where('author_id', '=', authorId)
      .where('deleted_at', 'is', null)
      .where('visibility', 'in', visibilities);
    if (before) query = query.where('id', '<', before);
    const rows = await query
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Public posts with a tag, newest first, leaving out authors the viewer blocked or is blocked by. */
  async idsByTag(tag: string, viewerId: string, before: string | undefined, limit: number) {
    let query = this.db
      .selectFrom('post_tags as t')
      .innerJoin('posts as p', 'p.id', 't.post_id')
      .select('t.post_id as id')
      .where('t.tag', '=', tag)
      .where('t.public', '=', true)
      .where('p.deleted_at', 'is', null)
      .where(notBlockedWith(viewerId, 'p.author_id'));
    if (before) query = query.where('t.post_id', '<', before);
    const rows = await query
      .orderBy('t.post_id', 'desc')
      .limit(limit + 1)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Recomputes the top tags of the last 24 hours (periodic job). */
  async computeTrending(limit: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('trending_tags').execute();
      await sql`
        INSERT INTO trending_tags (rank, tag, uses)
        SELECT row_number() OVER (ORDER BY count(*) DESC, tag), tag, count(*)
          FROM post_tags
         WHERE public AND created_at > now() - interval '24 hours'
         GROUP BY tag
         ORDER BY count(*) DESC, tag
         LIMIT ${limit}`.execute(trx);
    });
  }

  trending() {
    return this.db
      .selectFrom('trending_tags')
      .select(['tag', 'uses', 'computed_at'])
      .orderBy('rank')
      .execute();
  }
}
