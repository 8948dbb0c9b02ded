import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import { notBlockedWith } from '../friends/block-filter.ts';

export interface CommentRow {
  id: string;
  post_id: string;
  author_id: string;
  username: string;
  display_name: string;
  text: string;
  entities: unknown[];
  created_at: Date;
  edited_at: Date | null;
}

/**
 * SQL for comments and reactions (both hang off a post).
 *
 * Reads users (the users module's) in joins: each comment's author, live accounts only, in the
 * page's one query; hides blocked authors through the friends module's rule (block-filter.ts).
 */
export class CommentsRepository {
  constructor(private readonly db: Db) {}

  async insert(
    trx: Kysely<DB>,
    row: { id: string; post_id: string; author_id: string; text: string; entities: unknown[] },
  ) {
    await trx
      .insertInto('comments')
      .values({ ...row, entities: JSON.stringify(row.entities) })
      .execute();
  }

  async find(id: string) {
    return this.db
      .selectFrom('comments')
      .select(['id', 'post_id', 'author_id'])
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /** Replaces a live comment's text; false when it is gone. Same text: nothing changes (no new edited_at). */
  async updateText(id: string, text: string, entities: unknown[]): Promise<boolean> {
    const result = await this.db
      .updateTable('comments')
      .set({ text, entities: JSON.stringify(entities), edited_at: sql`now()` })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .where('text', '<>', text)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return true;
    return (await this.find(id)) !== undefined;
  }

  async softDelete(id: string): Promise<void> {
    await this.db.updateTable('comments').set({ deleted_at: sql`now()` }).where('id', '=', id).execute();
  }

  /** Deletes a live comment as a report case's decision, marked with the case; false when already gone. */
  async withhold(trx: Kysely<DB>, id: string, caseId: string): Promise<boolean> {
    const result = await trx
      .updateTable('comments')
      .set({ deleted_at: sql`now()`, removed_by_case: caseId })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Brings back the comment `caseId` removed; its post and author, or undefined when it removed none. */
  async restoreWithheld(trx: Kysely<DB>, id: string, caseId: string) {
    return trx
      .updateTable('comments')
      .set({ deleted_at: null, removed_by_case: null })
      .where('id', '=', id)
      .where('removed_by_case', '=', caseId)
      .where('deleted_at', 'is not', null)
      .returning(['post_id', 'author_id'])
      .executeTakeFirst();
  }

  /** Oldest first (keyset on id), leaving out authors the viewer blocked or is blocked by. */
  async page(
    postId: string,
    viewerId: string,
    after: string | undefined,
    limit: number,
  ): Promise<CommentRow[]> {
    let query = this.db
      .selectFrom('comments as c')
      .innerJoin('users as u', 'u.id', 'c.author_id')
      .select([
        'c.id',
        'c.post_id',
        'c.author_id',
        'u.username',
        'u.display_name',
        'c.text',
        'c.entities',
        'c.created_at',
        'c.edited_at',
      ])
      .where('c.post_id', '=', postId)
      .where('c.deleted_at', 'is', null)
      .where('u.banned_at', 'is', null)
      .where('u.deactivated_at', 'is', null)
      .where(notBlockedWith(viewerId, 'c.author_id'));
    if (after) query = query.where('c.id', '>', after);
    return (await query
      .orderBy('c.id')
      .limit(limit + 1)
      .execute()) as CommentRow[];
  }

  async findOne(id: string): Promise<CommentRow | undefined> {
    return (await this.db
      .selectFrom('comments as c')
      .innerJoin('users as u', 'u.id', 'c.author_id')
      .select([
        'c.id',
        'c.post_id',
        'c.author_id',
        'u.username',
        'u.display_name',
        'c.text',
        'c.entities',
        'c.created_at',
        'c.edited_at',
      ])
      .where('c.id', '=', id)
      .executeTakeFirst()) as CommentRow | undefined;
  }

  /** Sets the viewer's one reaction on a post; returns whether it is new or changed. */
  async react(trx: Kysely<DB>, postId: string, userId: string, kind: string): Promise<boolean> {
    const result = await sql`
      INSERT INTO reactions (post_id, user_id, kind) VALUES (${postId}, ${userId}, ${kind})
      ON CONFLICT (post_id, user_id) DO UPDATE SET kind = EXCLUDED.kind, created_at = now()
        WHERE reactions.kind <> EXCLUDED.kind`.execute(trx);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async unreact(postId: string, userId: string, kind: string): Promise<void> {
    await this.db
      .deleteFrom('reactions')
      .where('post_id', '=', postId)
      .where('user_id', '=', userId)
      .where('kind', '=', kind as never)
      .execute();
  }
}
