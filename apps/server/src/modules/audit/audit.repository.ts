import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';

export interface AuditInsert {
  action: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  at: Date;
  /** `at` in microseconds since the epoch, as text: the exact keyset position (a Date keeps only ms). */
  at_us: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}

/** The append-only audit_log table. */
export class AuditRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(entry: AuditInsert, db: Kysely<DB> = this.db): Promise<void> {
    await db
      .insertInto('audit_log')
      .values({
        action: entry.action,
        actor_id: entry.actorId,
        target_type: entry.targetType,
        target_id: entry.targetId,
        ip: entry.ip,
        user_agent: entry.userAgent,
        details: JSON.stringify(entry.details),
      })
      .execute();
  }

  /** Newest first, keyset-paged on (at, id) through audit_log_at_idx. */
  async page(after: { atUs: string; id: string } | undefined, limit: number): Promise<AuditRow[]> {
    let query = this.db
      .selectFrom('audit_log')
      .select([
        'id',
        'at',
        sql<string>`(extract(epoch from at) * 1000000)::bigint::text`.as('at_us'),
        'actor_id',
        'action',
        'target_type',
        'target_id',
        'ip',
        'user_agent',
        'details',
      ])
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (after) {
      query = query.where(
        sql<boolean>`(at, id) < (timestamptz 'epoch' + ${after.atUs}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
      );
    }
    return query.execute();
  }
}
