import { sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { NotificationKind } from '../../platform/db/schema-social.ts';

export interface NotificationRow {
  id: string;
  kind: NotificationKind;
  actor_count: number;
  actors: { id: string; username: string; displayName: string }[];
  subject_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  /** updated_at in microseconds since the epoch, exact, for cursors */
  updated_us: string;
  read_at: Date | null;
}

/**
 * A notification shows while at least one of its actors is not muted by its recipient (a mute hides
 * what came before it too; unmuting brings it back). Kith's own notices have the recipient as actor.
 */
const notAllMuted = (userId: string) =>
  sql<boolean>`NOT (actor_ids <@ ARRAY(SELECT x.user_id FROM kith_muted_by(${userId}) x))`;

/** Actors shown with a grouped notification ("A, B and 3 others"). */
const SHOWN_ACTORS = 3;
/** Distinct actors remembered per group; past it the count is still exact for new actors. */
const REMEMBERED_ACTORS = 100;

/**
 * SQL for notifications.
 *
 * Reads users (the users module's) in a join: a grouped notification's actors, live accounts only,
 * with their names, in the page's one query; and the recipient's user mutes (the mutes module's
 * user_mutes, through `kith_muted_by`): a muted actor's notifications are neither stored nor shown.
 */
export class NotificationsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts a notification, or folds it into the unread one with the same group key (a new actor
   * moves it to the top and raises the count). Returns its id; undefined when the recipient has
   * muted the actor (nothing is stored, nothing pushed).
   */
  async upsert(n: {
    id: string;
    userId: string;
    kind: NotificationKind;
    groupKey: string | null;
    actorId: string;
    subjectId: string | null;
    data: Record<string, string>;
  }): Promise<string | undefined> {
    const { rows } = await sql<{ id: string }>`
      INSERT INTO notifications (id, user_id, kind, group_key, actor_ids, subject_id, data)
      SELECT ${n.id}, ${n.userId}, ${n.kind}, ${n.groupKey}, ARRAY[${n.actorId}]::uuid[], ${n.subjectId}, ${JSON.stringify(n.data)}
       WHERE NOT EXISTS (SELECT 1 FROM kith_muted_by(${n.userId}) x WHERE x.user_id = ${n.actorId})
      ON CONFLICT (user_id, group_key) WHERE read_at IS NULL AND group_key IS NOT NULL
      DO UPDATE SET
        actor_count = notifications.actor_count + CASE WHEN ${n.actorId}::uuid = ANY (notifications.actor_ids) THEN 0 ELSE 1 END,
        actor_ids = CASE WHEN ${n.actorId}::uuid = ANY (notifications.actor_ids) THEN notifications.actor_ids
                         ELSE (array_prepend(${n.actorId}::uuid, notifications.actor_ids))[1:${REMEMBERED_ACTORS}] END,
        updated_at = now()
      RETURNING id`.execute(this.db);
    return rows[0]?.id;
  }

  private base() {
    return this.db
      .selectFrom('notifications as n')
      .select([
        'n.id',
        'n.kind',
        'n.actor_count',
        'n.subject_id',
        'n.data',
        'n.created_at',
        'n.updated_at',
        'n.read_at',
      ])
      .select(sql<string>`(extract(epoch FROM n.updated_at) * 1000000)::bigint::text`.as('updated_us'))
      .select(
        sql<NotificationRow['actors']>`(
          SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'username', u.username, 'displayName', u.display_name) ORDER BY a.ord), '[]')
            FROM unnest(n.actor_ids[1:${sql.lit(SHOWN_ACTORS)}]) WITH ORDINALITY AS a(id, ord)
            JOIN users u ON u.id = a.id AND u.banned_at IS NULL AND u.deactivated_at IS NULL
           WHERE NOT EXISTS (SELECT 1 FROM kith_muted_by(n.user_id) x WHERE x.user_id = a.id))`.as('actors'),
      );
  }

  async find(id: string): Promise<NotificationRow | undefined> {
    return (await this.base().where('n.id', '=', id).executeTakeFirst()) as NotificationRow | undefined;
  }

  /** Newest activity first; keyset on (updated_at, id) with microsecond precision. */
  async page(
    userId: string,
    after: { updatedUs: string; id: string } | undefined,
    limit: number,
  ): Promise<NotificationRow[]> {
    let query = this.base().where('n.user_id', '=', userId).where(notAllMuted(userId));
    if (after) {
      query = query.where((eb) =>
        eb(
          eb.refTuple('n.updated_at', 'n.id'),
          '<',
          eb.tuple(
            sql<Date>`timestamptz 'epoch' + ${after.updatedUs}::bigint * interval '1 microsecond'`,
            after.id,
          ),
        ),
      );
    }
    return (await query
      .orderBy('n.updated_at', 'desc')
      .orderBy('n.id', 'desc')
      .limit(limit + 1)
      .execute()) as NotificationRow[];
  }

  async unreadCount(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('read_at', 'is', null)
      .where(notAllMuted(userId))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Marks read the given notification and everything older (list order); 0 when it is not the user's. */
  async markRead(userId: string, upTo: string): Promise<number> {
    const result = await sql`
      UPDATE notifications SET read_at = now()
       WHERE user_id = ${userId} AND read_at IS NULL
         AND (updated_at, id) <= (SELECT updated_at, id FROM notifications WHERE id = ${upTo} AND user_id = ${userId})`.execute(
      this.db,
    );
    return Number(result.numAffectedRows ?? 0);
  }

  async exists(userId: string, id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }
}
