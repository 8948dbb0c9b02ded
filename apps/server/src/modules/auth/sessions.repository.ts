import { type Kysely, sql } from 'kysely';
import type { DB, UserRole } from '../../platform/db/schema.ts';

export interface SessionStateRow {
  user_id: string;
  role: UserRole;
  banned_at: Date | null;
  email_verified_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date;
}

export interface RefreshTokenRecord {
  session_id: string;
  user_id: string;
  used_at: Date | null;
  /** used_at is within the grace window (computed by Postgres, the one clock). */
  in_grace: boolean;
  session_active: boolean;
  banned: boolean;
}

/**
 * Sessions (refresh-token families) and their refresh tokens.
 *
 * Reads users (the users module's) in joins: a session's state and a refresh carry the user's role,
 * ban and whether the address is verified, on the path of every authenticated request (one indexed join instead of a second call).
 */
export class SessionsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async create(
    session: {
      id: string;
      userId: string;
      userAgent: string;
      ip: string;
      ttlDays: number;
      tokenHash: Buffer;
    },
    db: Kysely<DB> = this.db,
  ): Promise<void> {
    await db
      .insertInto('sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        user_agent: session.userAgent.slice(0, 512),
        ip: session.ip.slice(0, 64),
        expires_at: sql<Date>`now() + make_interval(days => ${session.ttlDays})`,
      })
      .execute();
    await db
      .insertInto('refresh_tokens')
      .values({ token_hash: session.tokenHash, session_id: session.id })
      .execute();
  }

  /**
   * What the authentication hook needs to know about a session. It reads users too (role, ban):
   * this is the hot path of every authenticated request, so one indexed join instead of two calls.
   */
  async state(sessionId: string): Promise<SessionStateRow | undefined> {
    return this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'sessions.user_id',
        'users.role',
        'users.banned_at',
        'users.email_verified_at',
        'sessions.revoked_at',
        'sessions.expires_at',
      ])
      .where('sessions.id', '=', sessionId)
      .executeTakeFirst();
  }

  async findRefreshToken(tokenHash: Buffer, graceSeconds: number): Promise<RefreshTokenRecord | undefined> {
    return this.db
      .selectFrom('refresh_tokens as t')
      .innerJoin('sessions as s', 's.id', 't.session_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
        't.session_id',
        's.user_id',
        't.used_at',
        sql<boolean>`coalesce(t.used_at > now() - make_interval(secs => ${graceSeconds}), false)`.as(
          'in_grace',
        ),
        sql<boolean>`s.revoked_at IS NULL AND s.expires_at > now()`.as('session_active'),
        sql<boolean>`u.banned_at IS NOT NULL`.as('banned'),
      ])
      .where('t.token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /**
   * Marks a token used unless someone already did: the row lock makes exactly one caller the winner,
   * who gets used_at back; racing callers get undefined and read the winner's used_at.
   */
  async claimRefreshToken(tokenHash: Buffer, db: Kysely<DB> = this.db): Promise<Date | undefined> {
    const row = await db
      .updateTable('refresh_tokens')
      .set({ used_at: sql<Date>`now()` })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .returning('used_at')
      .executeTakeFirst();
    return row?.used_at ?? undefined;
  }

  async usedAt(tokenHash: Buffer): Promise<Date | null | undefined> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .select('used_at')
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row?.used_at;
  }

  /** Adds the successor token and slides the session's expiry. */
  async rotate(
    sessionId: string,
    successorHash: Buffer,
    ttlDays: number,
    db: Kysely<DB> = this.db,
  ): Promise<void> {
    await db
      .insertInto('refresh_tokens')
      .values({ token_hash: successorHash, session_id: sessionId })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();
    await db
      .updateTable('sessions')
      .set({
        last_used_at: sql<Date>`now()`,
        expires_at: sql<Date>`now() + make_interval(days => ${ttlDays})`,
      })
      .where('id', '=', sessionId)
      .execute();
  }

  async listActive(userId: string) {
    return this.db
      .selectFrom('sessions')
      .select(['id', 'user_agent', 'ip', 'created_at', 'last_used_at'])
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .orderBy('created_at', 'desc')
      .limit(100)
      .execute();
  }

  /** Revokes one active session of `userId`; false when there is none with that id. */
  async revoke(
    userId: string,
    sessionId: string,
    reason: string,
    db: Kysely<DB> = this.db,
  ): Promise<boolean> {
    const result = await db
      .updateTable('sessions')
      .set({ revoked_at: sql<Date>`now()`, revoked_reason: reason })
      .where('id', '=', sessionId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Revokes every active session of `userId`, except `keep` when given; returns how many. */
  async revokeAll(userId: string, reason: string, keep?: string, db: Kysely<DB> = this.db): Promise<number> {
    let query = db
      .updateTable('sessions')
      .set({ revoked_at: sql<Date>`now()`, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (keep) query = query.where('id', '!=', keep);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
