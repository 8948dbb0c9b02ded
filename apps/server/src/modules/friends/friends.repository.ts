import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';

export interface UserSummaryRow {
  id: string;
  username: string;
  display_name: string;
}

export interface FriendRequestRow {
  id: string;
  from_user_id: string;
  to_user_id: string;
  created_at: Date;
}

/**
 * SQL for friendships, friend requests and blocks: the only code that writes those tables (the
 * block rule, `kith_blocked_with`, migration 0019, is this module's and reads blocks for the others).
 *
 * Reads users (the users module's) in joins: names for friend lists and requests, live accounts only,
 * one query per page.
 */
export class FriendsRepository {
  constructor(private readonly db: Db) {}

  /** Serializes every change to one pair of users (crossing requests, accept vs block). */
  async lockPair(trx: Kysely<DB>, a: string, b: string): Promise<void> {
    const [low, high] = a < b ? [a, b] : [b, a];
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${low}:${high}`}, 0))`.execute(trx);
  }

  async areFriends(a: string, b: string, db: Kysely<DB> = this.db): Promise<boolean> {
    const row = await db
      .selectFrom('friendships')
      .select('user_id')
      .where('user_id', '=', a)
      .where('friend_id', '=', b)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Whether either of `a` and `b` has blocked the other (the rule: kith_blocked_with, migration 0019). */
  async isBlockedEitherWay(a: string, b: string, db: Kysely<DB> = this.db): Promise<boolean> {
    const { rows } = await sql<{ blocked: boolean }>`
      SELECT EXISTS (SELECT 1 FROM kith_blocked_with(${a}) x WHERE x.user_id = ${b}) AS blocked`.execute(db);
    return rows[0]!.blocked;
  }

  /** Of `others`, those blocked by or blocking `userId`, and those who are its friends: two queries. */
  async relationsWith(
    userId: string,
    others: readonly string[],
  ): Promise<{ blocked: Set<string>; friends: Set<string> }> {
    if (others.length === 0) return { blocked: new Set(), friends: new Set() };
    const [blocked, friends] = await Promise.all([
      sql<{ user_id: string }>`
        SELECT x.user_id FROM kith_blocked_with(${userId}) x WHERE x.user_id = ANY(${[...others]}::uuid[])`.execute(
        this.db,
      ),
      this.db
        .selectFrom('friendships')
        .select('friend_id')
        .where('user_id', '=', userId)
        .where('friend_id', 'in', others)
        .execute(),
    ]);
    return {
      blocked: new Set(blocked.rows.map((b) => b.user_id)),
      friends: new Set(friends.map((f) => f.friend_id)),
    };
  }

  async hasBlocked(blocker: string, blocked: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('blocks')
      .select('blocker_id')
      .where('blocker_id', '=', blocker)
      .where('blocked_id', '=', blocked)
      .executeTakeFirst();
    return row !== undefined;
  }

  async countFriends(userId: string, db: Kysely<DB> = this.db): Promise<number> {
    const row = await db
      .selectFrom('friendships')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Friends shown on a profile: banned and deactivated accounts are not counted. */
  async countActiveFriends(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('friendships as f')
      .innerJoin('users as u', 'u.id', 'f.friend_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('f.user_id', '=', userId)
      .where('u.banned_at', 'is', null)
      .where('u.deactivated_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async friendIds(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('friendships')
      .select('friend_id')
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => r.friend_id);
  }

  async findRequestBetween(
    from: string,
    to: string,
    db: Kysely<DB> = this.db,
  ): Promise<FriendRequestRow | undefined> {
    return db
      .selectFrom('friend_requests')
      .selectAll()
      .where('from_user_id', '=', from)
      .where('to_user_id', '=', to)
      .executeTakeFirst();
  }

  async findRequest(id: string, db: Kysely<DB> = this.db): Promise<FriendRequestRow | undefined> {
    return db.selectFrom('friend_requests').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertRequest(trx: Kysely<DB>, row: { id: string; from_user_id: string; to_user_id: string }) {
    return trx.insertInto('friend_requests').values(row).returningAll().executeTakeFirstOrThrow();
  }

  /** Returns whether the request still existed. */
  async deleteRequest(trx: Kysely<DB>, id: string): Promise<boolean> {
    const result = await trx.deleteFrom('friend_requests').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Removes pending requests in both directions between two users. */
  async deleteRequestsBetween(trx: Kysely<DB>, a: string, b: string): Promise<void> {
    await trx
      .deleteFrom('friend_requests')
      .where((eb) =>
        eb.or([
          eb.and([eb('from_user_id', '=', a), eb('to_user_id', '=', b)]),
          eb.and([eb('from_user_id', '=', b), eb('to_user_id', '=', a)]),
        ]),
      )
      .execute();
  }

  async insertFriendship(trx: Kysely<DB>, a: string, b: string): Promise<void> {
    await trx
      .insertInto('friendships')
      .values([
        { user_id: a, friend_id: b },
        { user_id: b, friend_id: a },
      ])
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** Returns whether a friendship existed. */
  async deleteFriendship(trx: Kysely<DB>, a: string, b: string): Promise<boolean> {
    const result = await trx
      .deleteFrom('friendships')
      .where((eb) =>
        eb.or([
          eb.and([eb('user_id', '=', a), eb('friend_id', '=', b)]),
          eb.and([eb('user_id', '=', b), eb('friend_id', '=', a)]),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async insertBlock(trx: Kysely<DB>, blocker: string, blocked: string): Promise<void> {
    await trx
      .insertInto('blocks')
      .values({ blocker_id: blocker, blocked_id: blocked })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async deleteBlock(blocker: string, blocked: string): Promise<void> {
    await this.db
      .deleteFrom('blocks')
      .where('blocker_id', '=', blocker)
      .where('blocked_id', '=', blocked)
      .execute();
  }

  /** Pending requests to or from a user with the other side's summary, newest first (keyset on id). */
  async listRequests(
    userId: string,
    direction: 'incoming' | 'outgoing',
    before: string | undefined,
    limit: number,
  ) {
    const mine = direction === 'incoming' ? 'to_user_id' : 'from_user_id';
    const other = direction === 'incoming' ? 'from_user_id' : 'to_user_id';
    let query = this.db
      .selectFrom('friend_requests as r')
      .innerJoin('users as u', 'u.id', `r.${other}`)
      .select(['r.id', 'r.created_at', 'u.id as user_id', 'u.username', 'u.display_name'])
      .where(`r.${mine}`, '=', userId)
      .where('u.banned_at', 'is', null)
      .where('u.deactivated_at', 'is', null);
    if (before) query = query.where('r.id', '<', before);
    return query
      .orderBy('r.id', 'desc')
      .limit(limit + 1)
      .execute();
  }

  /**
   * The people `blocker` blocked, newest block first; keyset on (created_at, blocked_id) over
   * blocks_blocker_recent_idx. Banned and deactivated accounts stay listed: unblocking them is
   * still the blocker's choice.
   */
  async listBlocked(blocker: string, after: { atUs: string; id: string } | undefined, limit: number) {
    let query = this.db
      .selectFrom('blocks as b')
      .innerJoin('users as u', 'u.id', 'b.blocked_id')
      .select([
        'u.id',
        'u.username',
        'u.display_name',
        'b.created_at',
        sql<string>`(extract(epoch from b.created_at) * 1000000)::bigint::text`.as('at_us'),
      ])
      .where('b.blocker_id', '=', blocker);
    if (after) {
      query = query.where(
        sql<boolean>`(b.created_at, b.blocked_id) < (timestamptz 'epoch' + ${after.atUs}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
      );
    }
    return query
      .orderBy('b.created_at', 'desc')
      .orderBy('b.blocked_id', 'desc')
      .limit(limit + 1)
      .execute();
  }

  /** A user's friends with their summaries, ordered by friend id (keyset), hiding banned users. */
  async listFriends(userId: string, after: string | undefined, limit: number) {
    let query = this.db
      .selectFrom('friendships as f')
      .innerJoin('users as u', 'u.id', 'f.friend_id')
      .select(['u.id', 'u.username', 'u.display_name', 'f.created_at'])
      .where('f.user_id', '=', userId)
      .where('u.banned_at', 'is', null)
      .where('u.deactivated_at', 'is', null);
    if (after) query = query.where('f.friend_id', '>', after);
    return query
      .orderBy('f.friend_id')
      .limit(limit + 1)
      .execute();
  }
}
