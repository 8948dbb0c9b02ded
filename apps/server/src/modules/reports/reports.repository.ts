import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type {
  ReportAction,
  ReportCasesTable,
  ReportReason,
  ReportTargetType,
} from '../../platform/db/schema-reports.ts';

export type CaseRow = Selectable<ReportCasesTable> & {
  /** queued_at in microseconds since the epoch, as text: the exact keyset position. */
  queued_us: string;
};

export interface ReporterRow {
  reporter_id: string;
  username: string;
  reason: ReportReason;
  note: string;
  created_at: Date;
}

export interface QueueFilter {
  status: 'open' | 'resolved';
  reason?: ReportReason | undefined;
  targetType?: ReportTargetType | undefined;
}

/** What is captured of a reported thing when it is first reported (see `snapshot*` below). */
export interface AuthorFacts {
  id: string;
  username: string;
  display_name: string;
  role: 'user' | 'moderator' | 'admin';
}

const CASE_COLUMNS = [
  'id',
  'target_type',
  'target_id',
  'target_user_id',
  'snapshot',
  'stage',
  'status',
  'reasons',
  'reporter_count',
  'created_at',
  'queued_at',
  'resolved_at',
  'resolved_by',
  'action',
  'resolution_note',
  'suspended_until',
  'first_action',
  'first_resolved_by',
  'appealed_at',
  'appeal_text',
] as const;

/**
 * report_cases and reports.
 *
 * Reads other modules' tables to capture what was reported as it is at that moment (a snapshot
 * kept even if the thing is deleted later) and to show its current state: posts, post_media and
 * comments (posts, media), messages, message_media and conversation_members (chat, media), and
 * users (names, role, ban and suspension of the author). A service call per field would cost a
 * round trip each and could not read a row its owner already hides (deleted content).
 */
export class ReportsRepository {
  constructor(private readonly db: Kysely<DB>) {}

  private cases(db: Kysely<DB> = this.db) {
    return db
      .selectFrom('report_cases')
      .select(CASE_COLUMNS)
      .select(sql<string>`(extract(epoch from queued_at) * 1000000)::bigint::text`.as('queued_us'));
  }

  async findCase(id: string, db: Kysely<DB> = this.db): Promise<CaseRow | undefined> {
    return (await this.cases(db).where('id', '=', id).executeTakeFirst()) as CaseRow | undefined;
  }

  /** Locks a case for a decision (the caller's transaction); undefined when there is none. */
  async lockCase(trx: Kysely<DB>, id: string): Promise<CaseRow | undefined> {
    return (await this.cases(trx).where('id', '=', id).forUpdate().executeTakeFirst()) as CaseRow | undefined;
  }

  /**
   * Opens a case for the target, or finds its open one to fold into. Returns the
   * case's id and whether it was opened now. The unique index on open cases decides between two
   * first reports racing.
   */
  async openOrFold(
    trx: Kysely<DB>,
    c: {
      id: string;
      targetType: ReportTargetType;
      targetId: string;
      targetUserId: string | null;
      snapshot: Record<string, unknown>;
      reason: ReportReason;
    },
  ): Promise<{ id: string; opened: boolean }> {
    const { rows } = await sql<{ id: string; opened: boolean }>`
      INSERT INTO report_cases (id, target_type, target_id, target_user_id, snapshot, reasons)
      VALUES (${c.id}, ${c.targetType}, ${c.targetId}, ${c.targetUserId}, ${JSON.stringify(c.snapshot)}::jsonb,
              ARRAY[${c.reason}]::text[])
      ON CONFLICT (target_type, target_id) WHERE status = 'open' AND stage = 'report'
      DO UPDATE SET reasons = report_cases.reasons -- unchanged: addReport adds the reason of a new reporter
      RETURNING id, (xmax = 0) AS opened`.execute(trx);
    return rows[0]!;
  }

  /** Adds a reporter to a case; undefined when they reported it already (their report stands). */
  async addReport(
    trx: Kysely<DB>,
    r: { id: string; caseId: string; reporterId: string; reason: ReportReason; note: string },
  ): Promise<string | undefined> {
    const row = await trx
      .insertInto('reports')
      .values({ id: r.id, case_id: r.caseId, reporter_id: r.reporterId, reason: r.reason, note: r.note })
      .onConflict((oc) => oc.columns(['case_id', 'reporter_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (row) {
      await trx
        .updateTable('report_cases')
        .set({
          reporter_count: sql<number>`(SELECT count(*) FROM reports WHERE case_id = ${r.caseId})::int`,
          reasons: sql<
            ReportReason[]
          >`CASE WHEN ${r.reason} = ANY (reasons) THEN reasons ELSE array_append(reasons, ${r.reason}::text) END`,
        })
        .where('id', '=', r.caseId)
        .execute();
    }
    return row?.id;
  }

  async reportOf(caseId: string, reporterId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('reports')
      .select('id')
      .where('case_id', '=', caseId)
      .where('reporter_id', '=', reporterId)
      .executeTakeFirst();
    return row?.id;
  }

  /** The queue, oldest first, keyset-paged on (queued_at, id). */
  async page(
    filter: QueueFilter,
    after: { queuedUs: string; id: string } | undefined,
    limit: number,
  ): Promise<CaseRow[]> {
    let query = this.cases().where('status', '=', filter.status);
    if (filter.reason) query = query.where(sql<boolean>`reasons @> ARRAY[${filter.reason}]::text[]`);
    if (filter.targetType) query = query.where('target_type', '=', filter.targetType);
    if (after) {
      query = query.where(
        sql<boolean>`(queued_at, id) > (timestamptz 'epoch' + ${after.queuedUs}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
      );
    }
    return (await query.orderBy('queued_at').orderBy('id').limit(limit).execute()) as CaseRow[];
  }

  async reporters(caseId: string, db: Kysely<DB> = this.db): Promise<ReporterRow[]> {
    return db
      .selectFrom('reports as r')
      .innerJoin('users as u', 'u.id', 'r.reporter_id')
      .select(['r.reporter_id', 'u.username', 'r.reason', 'r.note', 'r.created_at'])
      .where('r.case_id', '=', caseId)
      .orderBy('r.created_at')
      .orderBy('r.id')
      .limit(100)
      .execute();
  }

  async reporterIds(trx: Kysely<DB>, caseId: string): Promise<string[]> {
    const rows = await trx
      .selectFrom('reports')
      .select('reporter_id')
      .where('case_id', '=', caseId)
      .execute();
    return rows.map((r) => r.reporter_id);
  }

  /** Records a decision on a locked, open case. */
  async resolve(
    trx: Kysely<DB>,
    id: string,
    d: { by: string; action: ReportAction; note: string | null; suspendedUntil: Date | null },
  ): Promise<void> {
    await trx
      .updateTable('report_cases')
      .set({
        status: 'resolved',
        resolved_at: sql<Date>`now()`,
        resolved_by: d.by,
        action: d.action,
        resolution_note: d.note,
        suspended_until: d.suspendedUntil,
      })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .execute();
  }

  /** The newest case whose decision (or the decision under appeal) suspended the user. */
  async latestSuspension(userId: string): Promise<CaseRow | undefined> {
    return (await this.cases()
      .where('target_user_id', '=', userId)
      .where((eb) => eb.or([eb('action', '=', 'suspend'), eb('first_action', '=', 'suspend')]))
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst()) as CaseRow | undefined;
  }

  /** Re-opens a resolved case as an appeal (the decision it is about is kept in first_*). */
  async reopenAsAppeal(trx: Kysely<DB>, id: string, text: string): Promise<void> {
    await trx
      .updateTable('report_cases')
      .set({
        stage: 'appeal',
        status: 'open',
        queued_at: sql<Date>`now()`,
        appealed_at: sql<Date>`now()`,
        appeal_text: text,
        first_action: sql<ReportAction>`action`,
        first_resolved_by: sql<string>`resolved_by`,
        // the decision's note stays readable (the appeal's moderator and the user see it) until
        // the appeal's own decision replaces it
        resolved_at: null,
        resolved_by: null,
        action: null,
      })
      .where('id', '=', id)
      .execute();
  }

  /** The oldest open case's age in seconds (0 when none) and how many are open, for the metrics. */
  async queueState(): Promise<{ open: number; oldestSeconds: number }> {
    const row = await this.db
      .selectFrom('report_cases')
      .select([
        sql<string>`count(*)::text`.as('open'),
        sql<number | null>`extract(epoch from now() - min(queued_at))::float8`.as('oldest'),
      ])
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();
    return { open: Number(row.open), oldestSeconds: Math.max(0, row.oldest ?? 0) };
  }

  // ---- reads of the reported things (other modules' tables, named in the header) ----

  async author(userId: string): Promise<AuthorFacts | undefined> {
    return this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'role'])
      .where('id', '=', userId)
      .executeTakeFirst();
  }

  /** The author's current standing, shown next to a case. */
  async authorStanding(userId: string) {
    return this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'role', 'banned_at', 'suspended_until', 'deactivated_at'])
      .where('id', '=', userId)
      .executeTakeFirst();
  }

  async profile(userId: string) {
    return this.db
      .selectFrom('users')
      .select(['bio', 'created_at'])
      .where('id', '=', userId)
      .executeTakeFirst();
  }

  async post(postId: string) {
    return this.db
      .selectFrom('posts as p')
      .select([
        'p.id',
        'p.author_id',
        'p.text',
        'p.visibility',
        'p.created_at',
        'p.edited_at',
        'p.deleted_at',
        sql<
          string[]
        >`coalesce((SELECT array_agg(pm.media_id::text ORDER BY pm.position) FROM post_media pm WHERE pm.post_id = p.id), '{}')`.as(
          'media_ids',
        ),
      ])
      .where('p.id', '=', postId)
      .executeTakeFirst();
  }

  async comment(commentId: string) {
    return this.db
      .selectFrom('comments')
      .select(['id', 'post_id', 'author_id', 'text', 'created_at', 'edited_at', 'deleted_at'])
      .where('id', '=', commentId)
      .executeTakeFirst();
  }

  async message(messageId: string) {
    return this.db
      .selectFrom('messages as m')
      .select([
        'm.id',
        'm.conversation_id',
        'm.seq',
        'm.sender_id',
        'm.body',
        'm.created_at',
        'm.edited_at',
        'm.deleted_at',
        sql<
          string[]
        >`coalesce((SELECT array_agg(mm.media_id::text ORDER BY mm.position) FROM message_media mm WHERE mm.message_id = m.id), '{}')`.as(
          'media_ids',
        ),
      ])
      .where('m.id', '=', messageId)
      .executeTakeFirst();
  }

  /** Up to `around` live messages either side of `seq` in a conversation, in seq order, with senders. */
  async neighbours(conversationId: string, seq: number, around: number) {
    const { rows } = await sql<{
      id: string;
      seq: string;
      sender_id: string | null;
      username: string | null;
      body: string;
      created_at: Date;
    }>`
      SELECT m.id, m.seq::text AS seq, m.sender_id, u.username, m.body, m.created_at
        FROM messages m LEFT JOIN users u ON u.id = m.sender_id
       WHERE m.conversation_id = ${conversationId} AND m.deleted_at IS NULL
         AND m.seq BETWEEN ${seq - around} AND ${seq + around} AND m.seq <> ${seq}
       ORDER BY m.seq`.execute(this.db);
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  /** Whether the thing is still there (not deleted, its author not erased or banned). */
  async targetLive(targetType: ReportTargetType, targetId: string): Promise<boolean> {
    const live = (table: 'posts' | 'comments' | 'messages') =>
      this.db
        .selectFrom(table)
        .select('id')
        .where('id', '=', targetId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
    if (targetType === 'user') {
      const row = await this.db
        .selectFrom('users')
        .select('id')
        .where('id', '=', targetId)
        .where('banned_at', 'is', null)
        .where('deactivated_at', 'is', null)
        .executeTakeFirst();
      return row !== undefined;
    }
    const table = targetType === 'post' ? 'posts' : targetType === 'comment' ? 'comments' : 'messages';
    return (await live(table)) !== undefined;
  }

  /** How many earlier cases against this user ended in a sanction (context for the moderator). */
  async priorSanctions(userId: string, exceptCaseId: string): Promise<number> {
    const row = await this.db
      .selectFrom('report_cases')
      .select(sql<string>`count(*)::text`.as('n'))
      .where('target_user_id', '=', userId)
      .where('id', '<>', exceptCaseId)
      .where('status', '=', 'resolved')
      .where('action', 'in', ['remove', 'warn', 'suspend', 'ban', 'uphold'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
