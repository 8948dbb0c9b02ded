import { type Kysely, sql } from 'kysely';
import type { DB } from '../platform/db/schema.ts';

interface RealtimeTicketsTable {
  ticket_hash: Buffer;
  user_id: string;
  session_id: string;
  expires_at: Date;
  used_at: Date | null;
}

type RealtimeDB = DB & { realtime_tickets: RealtimeTicketsTable };

/** Single-use WebSocket tickets (migration 0014); only their SHA-256 is stored. */
export class TicketsRepository {
  private readonly db: Kysely<RealtimeDB>;

  constructor(db: Kysely<DB>) {
    this.db = db.withTables<{ realtime_tickets: RealtimeTicketsTable }>();
  }

  async insert(hash: Buffer, userId: string, sessionId: string, ttlSeconds: number): Promise<void> {
    await this.db
      .insertInto('realtime_tickets')
      .values({
        ticket_hash: hash,
        user_id: userId,
        session_id: sessionId,
        expires_at: sql<Date>`now() + make_interval(secs => ${ttlSeconds})`,
      })
      .execute();
  }

  /** Marks the ticket used if it is unused and unexpired, in one statement: two racing upgrades cannot both win. */
  async consume(hash: Buffer): Promise<{ userId: string; sessionId: string } | undefined> {
    const row = await this.db
      .updateTable('realtime_tickets')
      .set({ used_at: sql<Date>`now()` })
      .where('ticket_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', sql<Date>`now()`)
      .returning(['user_id', 'session_id'])
      .executeTakeFirst();
    return row && { userId: row.user_id, sessionId: row.session_id };
  }

  /** Deletes tickets expired more than `graceSeconds` ago, at most `limit` of them. */
  async purgeExpired(graceSeconds: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('realtime_tickets')
      .where(
        'ticket_hash',
        'in',
        this.db
          .selectFrom('realtime_tickets')
          .select('ticket_hash')
          .where('expires_at', '<', sql<Date>`now() - make_interval(secs => ${graceSeconds})`)
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
