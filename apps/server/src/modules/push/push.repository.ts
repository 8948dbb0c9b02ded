import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';

export interface SubscriptionRow {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  failure_count: number;
  next_attempt_at: Date | null;
}

const columns = [
  's.id',
  's.user_id',
  's.endpoint',
  's.p256dh',
  's.auth',
  's.failure_count',
  's.next_attempt_at',
] as const;

/**
 * push_subscriptions. Reads sessions (the auth module's) in a join: only a live session's
 * subscription is delivered to, whatever the clean-up has not yet removed.
 */
export class PushRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * The session's subscription, replaced if it had one. A browser has one endpoint whoever signs
   * in on it: another session holding the same endpoint (signed out without unsubscribing) loses it.
   */
  async put(row: {
    id: string;
    userId: string;
    sessionId: string;
    endpoint: string;
    p256dh: string;
    auth: string;
  }) {
    await this.db.transaction().execute(async (trx) => {
      // the session's previous subscription (another endpoint) goes
      await trx
        .deleteFrom('push_subscriptions')
        .where('session_id', '=', row.sessionId)
        .where('endpoint', '<>', row.endpoint)
        .execute();
      // an upsert on the endpoint, so that two sessions subscribing one endpoint at once both
      // succeed (the last one holds it) instead of the second failing on UNIQUE (endpoint)
      await trx
        .insertInto('push_subscriptions')
        .values({
          id: row.id,
          user_id: row.userId,
          session_id: row.sessionId,
          endpoint: row.endpoint,
          p256dh: row.p256dh,
          auth: row.auth,
        })
        .onConflict((oc) =>
          oc.column('endpoint').doUpdateSet({
            // moved to another session: a new id, so that pushes queued for the old one are not
            // delivered to whoever signed in since
            id: sql`CASE WHEN push_subscriptions.session_id = excluded.session_id
                    THEN push_subscriptions.id ELSE excluded.id END`,
            user_id: row.userId,
            session_id: row.sessionId,
            p256dh: row.p256dh,
            auth: row.auth,
            created_at: sql`now()`,
            last_success_at: null,
            failure_count: 0,
            next_attempt_at: null,
          }),
        )
        .execute();
    });
  }

  async removeForSession(sessionId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('push_subscriptions')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /** The user's subscriptions on live sessions. */
  forUser(userId: string): Promise<SubscriptionRow[]> {
    return this.live().where('s.user_id', '=', userId).execute();
  }

  find(id: string): Promise<SubscriptionRow | undefined> {
    return this.live().where('s.id', '=', id).executeTakeFirst();
  }

  private live() {
    return this.db
      .selectFrom('push_subscriptions as s')
      .innerJoin('sessions as x', 'x.id', 's.session_id')
      .select(columns)
      .where('x.revoked_at', 'is', null)
      .where('x.expires_at', '>', sql<Date>`now()`);
  }

  async delivered(id: string): Promise<void> {
    await this.db
      .updateTable('push_subscriptions')
      .set({ last_success_at: sql`now()`, failure_count: 0, next_attempt_at: null })
      .where('id', '=', id)
      .execute();
  }

  /** Counts a failure and holds further sends until `retryAt`; the consecutive failures now. */
  async failed(id: string, retryAt: Date | null): Promise<number> {
    const row = await this.db
      .updateTable('push_subscriptions')
      .set((eb) => ({ failure_count: eb('failure_count', '+', 1), next_attempt_at: retryAt }))
      .where('id', '=', id)
      .returning('failure_count')
      .executeTakeFirst();
    return row?.failure_count ?? 0;
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('push_subscriptions').where('id', '=', id).execute();
  }
}
