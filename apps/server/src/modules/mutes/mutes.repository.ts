import { sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';

/** A mute is in force while it has no end or its end is still ahead. */
const active = sql<boolean>`(expires_at IS NULL OR expires_at > now())`;

/** The end of a mute lasting `seconds` from now (the database's clock, as created_at), or none. */
const endAfter = (seconds: number | undefined) =>
  seconds === undefined ? null : sql<Date>`now() + make_interval(secs => ${seconds})`;

export interface MutedUserRow {
  id: string;
  username: string;
  display_name: string;
  created_at: Date;
  expires_at: Date | null;
  /** created_at in microseconds since the epoch, exact, for cursors */
  at_us: string;
}

/**
 * SQL for mutes (0040). Reads users (the muted user's name, live accounts only) and
 * conversation_members (one may mute only a conversation one is in).
 */
export class MutesRepository {
  constructor(private readonly db: Db) {}

  /** Mutes or re-mutes (a new end replaces the old). */
  async upsertUser(userId: string, mutedId: string, seconds: number | undefined) {
    const expiresAt = endAfter(seconds);
    return this.db
      .insertInto('user_mutes')
      .values({ user_id: userId, muted_id: mutedId, expires_at: expiresAt })
      .onConflict((oc) =>
        oc.columns(['user_id', 'muted_id']).doUpdateSet({ created_at: sql`now()`, expires_at: expiresAt }),
      )
      .returning(['created_at', 'expires_at'])
      .executeTakeFirstOrThrow();
  }

  async deleteUser(userId: string, mutedId: string): Promise<void> {
    await this.db
      .deleteFrom('user_mutes')
      .where('user_id', '=', userId)
      .where('muted_id', '=', mutedId)
      .execute();
  }

  async isUserMuted(userId: string, mutedId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('user_mutes')
      .select('muted_id')
      .where('user_id', '=', userId)
      .where('muted_id', '=', mutedId)
      .where(active)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Of `userIds`, those who muted `mutedId` (mutes in force): primary-key probes. */
  async mutersOf(mutedId: string, userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('user_mutes')
      .select('user_id')
      .where('user_id', '=', sql<string>`ANY(${[...userIds]}::uuid[])`)
      .where('muted_id', '=', mutedId)
      .where(active)
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** Mutes in force (what the cap counts). */
  async countActive(table: 'user_mutes' | 'hashtag_mutes', userId: string): Promise<number> {
    const row = await this.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where(active)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Muted users in force, newest first; keyset on (created_at, muted_id). */
  async listUsers(userId: string, after: { atUs: string; id: string } | undefined, limit: number) {
    let query = this.db
      .selectFrom('user_mutes as m')
      .innerJoin('users as u', 'u.id', 'm.muted_id')
      .select([
        'u.id',
        'u.username',
        'u.display_name',
        'm.created_at',
        'm.expires_at',
        sql<string>`(extract(epoch from m.created_at) * 1000000)::bigint::text`.as('at_us'),
      ])
      .where('m.user_id', '=', userId)
      .where(sql<boolean>`(m.expires_at IS NULL OR m.expires_at > now())`);
    if (after) {
      query = query.where(
        sql<boolean>`(m.created_at, m.muted_id) < (timestamptz 'epoch' + ${after.atUs}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
      );
    }
    return (await query
      .orderBy('m.created_at', 'desc')
      .orderBy('m.muted_id', 'desc')
      .limit(limit + 1)
      .execute()) as MutedUserRow[];
  }

  async upsertHashtag(userId: string, tag: string, seconds: number | undefined) {
    const expiresAt = endAfter(seconds);
    return this.db
      .insertInto('hashtag_mutes')
      .values({ user_id: userId, tag, expires_at: expiresAt })
      .onConflict((oc) =>
        oc.columns(['user_id', 'tag']).doUpdateSet({ created_at: sql`now()`, expires_at: expiresAt }),
      )
      .returning(['created_at', 'expires_at'])
      .executeTakeFirstOrThrow();
  }

  async deleteHashtag(userId: string, tag: string): Promise<void> {
    await this.db.deleteFrom('hashtag_mutes').where('user_id', '=', userId).where('tag', '=', tag).execute();
  }

  /** Every hashtag mute in force (at most the cap), alphabetically. */
  listHashtags(userId: string) {
    return this.db
      .selectFrom('hashtag_mutes')
      .select(['tag', 'created_at', 'expires_at'])
      .where('user_id', '=', userId)
      .where(active)
      .orderBy('tag')
      .execute();
  }

  /** Mutes a conversation the user is a current member of; undefined when they are not. */
  async upsertConversation(userId: string, conversationId: string, seconds: number | undefined) {
    const { rows } = await sql<{ created_at: Date; expires_at: Date | null }>`
      INSERT INTO conversation_mutes (user_id, conversation_id, expires_at)
      SELECT ${userId}, ${conversationId}, ${endAfter(seconds)}
       WHERE EXISTS (
         SELECT 1 FROM conversation_members cm
          WHERE cm.conversation_id = ${conversationId} AND cm.user_id = ${userId} AND cm.left_at IS NULL)
      ON CONFLICT (user_id, conversation_id) DO UPDATE SET created_at = now(), expires_at = EXCLUDED.expires_at
      RETURNING created_at, expires_at`.execute(this.db);
    return rows[0];
  }

  async deleteConversation(userId: string, conversationId: string): Promise<void> {
    await this.db
      .deleteFrom('conversation_mutes')
      .where('user_id', '=', userId)
      .where('conversation_id', '=', conversationId)
      .execute();
  }

  /** Conversation mutes in force, of conversations the user is still in. */
  listConversations(userId: string) {
    return this.db
      .selectFrom('conversation_mutes as m')
      .innerJoin('conversation_members as cm', (join) =>
        join
          .onRef('cm.conversation_id', '=', 'm.conversation_id')
          .onRef('cm.user_id', '=', 'm.user_id')
          .on('cm.left_at', 'is', null),
      )
      .select(['m.conversation_id', 'm.created_at', 'm.expires_at'])
      .where('m.user_id', '=', userId)
      .where(sql<boolean>`(m.expires_at IS NULL OR m.expires_at > now())`)
      .orderBy('m.created_at', 'desc')
      .execute();
  }

  /** Job: removes mutes that have ended. */
  async deleteExpired(): Promise<number> {
    let removed = 0;
    for (const table of ['user_mutes', 'hashtag_mutes', 'conversation_mutes'] as const) {
      const result = await this.db
        .deleteFrom(table)
        .where('expires_at', '<=', sql<Date>`now()`)
        .executeTakeFirst();
      removed += Number(result.numDeletedRows);
    }
    return removed;
  }
}
