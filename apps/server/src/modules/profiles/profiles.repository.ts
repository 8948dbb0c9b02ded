import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { Visibility } from '../../platform/db/schema-social.ts';
import { notBlockedWith } from '../friends/block-filter.ts';

export interface ProfileRow {
  id: string;
  username: string;
  display_name: string;
  bio: string;
  created_at: Date;
}

export interface UserMatchRow {
  id: string;
  username: string;
  display_name: string;
}

/** Users nobody may see: banned, or deleted and awaiting erasure. */
const visibleUser = sql<boolean>`u.banned_at IS NULL AND u.deactivated_at IS NULL`;

/** Neither the viewer nor `u` has blocked the other (the friends module's rule). */
const notBlocked = (viewerId: string) => notBlockedWith(viewerId, 'u.id');

/**
 * SQL for profile pages and user search, a read-only view with no table of its own: reads users
 * and posts (the users and posts modules') — search is one query over users' prefix indexes, where
 * service calls could not page — and hides blocked users through the friends module's rule
 * (block-filter.ts); writes nothing.
 */
export class ProfilesRepository {
  constructor(private readonly db: Db) {}

  /** A visible user by username, case-insensitively (through users_username_key). */
  async findByUsername(username: string): Promise<ProfileRow | undefined> {
    return this.db
      .selectFrom('users as u')
      .select(['u.id', 'u.username', 'u.display_name', 'u.bio', 'u.created_at'])
      .where(sql<string>`lower(u.username)`, '=', username.toLowerCase())
      .where(visibleUser)
      .executeTakeFirst();
  }

  /** Live posts of an author in the given visibilities (an index range scan of posts_author_idx). */
  async countPosts(authorId: string, visibilities: readonly Visibility[]): Promise<number> {
    const row = await this.db
      .selectFrom('posts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('author_id', '=', authorId)
      .where('deleted_at', 'is', null)
      .where('visibility', 'in', visibilities)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Users whose username or display name starts with `pattern` (a LIKE prefix pattern, already
   * escaped and ending in `%`), usernames first, each branch an ordered range scan of its
   * text_pattern_ops index that stops after `limit` visible rows.
   */
  searchQuery(viewerId: string, pattern: string, limit: number, db: Kysely<DB> = this.db) {
    return sql<UserMatchRow>`
      SELECT id, username, display_name FROM (
        (SELECT u.id, u.username, u.display_name, 0 AS rank, lower(u.username) AS sort_key
           FROM users u
          WHERE lower(u.username) LIKE lower(${pattern}) AND ${visibleUser} AND ${notBlocked(viewerId)}
          ORDER BY lower(u.username) USING ~<~
          LIMIT ${limit})
        UNION ALL
        (SELECT u.id, u.username, u.display_name, 1 AS rank, lower(u.display_name) AS sort_key
           FROM users u
          WHERE lower(u.display_name) LIKE lower(${pattern})
            AND lower(u.username) NOT LIKE lower(${pattern})
            AND ${visibleUser} AND ${notBlocked(viewerId)}
          ORDER BY lower(u.display_name) USING ~<~
          LIMIT ${limit})
      ) matches
      ORDER BY rank, sort_key COLLATE "C", id
      LIMIT ${limit}`.compile(db);
  }

  async search(viewerId: string, pattern: string, limit: number): Promise<UserMatchRow[]> {
    const { rows } = await this.db.executeQuery(this.searchQuery(viewerId, pattern, limit));
    return rows;
  }
}
