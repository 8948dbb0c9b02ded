import type { Kysely } from 'kysely';
import type { DB, UserRole } from '../../platform/db/schema.ts';
import type { ReportAction, ReportReason, ReportTargetType } from '../../platform/db/schema-reports.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import { cursorPart, decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import type { MailService } from '../../platform/mail/mail.service.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { UserRow } from '../users/users.repository.ts';
import type { SuspensionView } from '../users/users.schema.ts';
import type { AppealLinks } from './appeal-links.ts';
import type { ReportMetrics } from './reports.metrics.ts';
import type { CaseRow, QueueFilter, ReportsRepository } from './reports.repository.ts';
import type { CaseDetailView, ModerationNoticeView, SnapshotView } from './reports.schema.ts';

/** What to do once a transaction has committed (drop cached feeds, tell members live). */
export type AfterCommit = () => Promise<void>;

/**
 * Removes reported content through the module that owns it, marked with the report case so an
 * overturned appeal restores it (and only what that case removed). Each answers whether it changed
 * anything: false (undefined) when the content was gone already (its author deleted it) or was not
 * the case's. A restore runs in the decision's transaction and answers its after-commit work.
 */
export interface ContentRemoval {
  post(actor: AuthContext, postId: string, caseId: string, meta: RequestMeta): Promise<boolean>;
  comment(commentId: string, caseId: string): Promise<boolean>;
  /** A chat message (members are told it is gone; its text and media are kept for an appeal). */
  message(messageId: string, caseId: string): Promise<boolean>;
  restore: {
    post(trx: Kysely<DB>, postId: string, caseId: string): Promise<AfterCommit | undefined>;
    comment(trx: Kysely<DB>, commentId: string, caseId: string): Promise<boolean>;
    message(trx: Kysely<DB>, messageId: string, caseId: string): Promise<AfterCommit | undefined>;
  };
}

export interface ModerationDeps {
  db: Kysely<DB>;
  repo: ReportsRepository;
  users: {
    getFresh(id: string): Promise<UserRow>;
    suspend(id: string, until: Date, trx?: Kysely<DB>): Promise<UserRow>;
    reinstate(id: string, trx?: Kysely<DB>): Promise<UserRow>;
    forget(id: string): void;
  };
  /** Drops cached session state everywhere (a ban lifted on appeal). */
  sessions: { forget(userId: string): Promise<void> };
  /** Bans and revokes every session (AdminService: audited as admin.ban). */
  staff: { ban(actor: AuthContext, userId: string, meta: RequestMeta): Promise<unknown> };
  content: ContentRemoval;
  audit: Pick<AuditService, 'record'>;
  mail: Pick<MailService, 'queue'>;
  publicUrl: string;
  /** Signed links for banned users (who cannot sign in) to read and appeal a decision. */
  links: AppealLinks;
  metrics: ReportMetrics;
  now?: () => number;
}

export interface Decision {
  action: ReportAction;
  note?: string | undefined;
  durationHours?: number | undefined;
}

const SANCTIONS: ReadonlySet<ReportAction> = new Set(['remove', 'warn', 'suspend', 'ban']);
const REPORT_STAGE: ReadonlySet<ReportAction> = new Set(['dismiss', 'remove', 'warn', 'suspend', 'ban']);
const QUEUE = 'report-queue';

const excerpt = (snapshot: Record<string, unknown>) => String(snapshot.text ?? '').slice(0, 200);
const iso = (d: Date | null) => d?.toISOString() ?? null;
const caseNotFound = () => new AppError('NOT_FOUND', 'No such report case.');

/** The moderation queue: staff list, read and decide report cases; reported users read and appeal. */
export class ModerationService {
  private readonly now: () => number;

  constructor(private readonly deps: ModerationDeps) {
    this.now = deps.now ?? Date.now;
  }

  async list(filter: QueueFilter, cursor: string | undefined, limit: number) {
    const after = cursor ? decodeCursor(QUEUE, cursor, [cursorPart.micros, cursorPart.uuid]) : undefined;
    const rows = await this.deps.repo.page(
      filter,
      after ? { queuedUs: after[0], id: after[1] } : undefined,
      limit + 1,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map((row) => this.summary(row)),
      nextCursor: rows.length > limit && last ? encodeCursor(QUEUE, [last.queued_us, last.id]) : null,
    };
  }

  async detail(actor: AuthContext, caseId: string): Promise<CaseDetailView> {
    const { repo } = this.deps;
    const row = await repo.findCase(caseId);
    if (!row) throw caseNotFound();
    const [reports, standing, live, prior] = await Promise.all([
      repo.reporters(caseId),
      row.target_user_id ? repo.authorStanding(row.target_user_id) : undefined,
      repo.targetLive(row.target_type, row.target_id),
      row.target_user_id ? repo.priorSanctions(row.target_user_id, caseId) : 0,
    ]);
    const why =
      row.status === 'open'
        ? this.whyCannotAct(
            actor,
            row,
            reports.map((r) => r.reporter_id),
            standing?.role,
          )
        : 'The case is resolved.';
    const suspendedUntil =
      standing?.suspended_until && standing.suspended_until.getTime() > this.now()
        ? standing.suspended_until
        : null;
    return {
      ...this.summary(row),
      snapshot: row.snapshot as SnapshotView,
      reports: reports.map((r) => ({
        reporterId: r.reporter_id,
        reporterUsername: r.username,
        reason: r.reason,
        note: r.note,
        createdAt: r.created_at.toISOString(),
      })),
      current: {
        contentLive: live,
        authorRole: standing?.role ?? null,
        authorBanned: standing?.banned_at != null,
        authorSuspendedUntil: iso(suspendedUntil),
        priorSanctions: prior,
      },
      resolution:
        row.status === 'resolved' && row.action && row.resolved_at
          ? {
              action: row.action,
              note: row.resolution_note,
              resolvedBy: row.resolved_by,
              resolvedAt: row.resolved_at.toISOString(),
              suspendedUntil: iso(row.suspended_until),
            }
          : null,
      appeal:
        row.stage === 'appeal' && row.appealed_at && row.first_action
          ? {
              text: row.appeal_text ?? '',
              appealedAt: row.appealed_at.toISOString(),
              decision: row.first_action as 'dismiss' | 'remove' | 'warn' | 'suspend' | 'ban',
              decidedBy: row.first_resolved_by,
            }
          : null,
      canAct: why === undefined,
      cannotActReason: why ?? null,
    };
  }

  /**
   * Decides an open case. On a report: dismiss, remove the content, warn, suspend for
   * `durationHours`, or ban; on an appeal: uphold or overturn (lifting a suspension or ban). The
   * case row stays locked while the sanction is applied, so a second decision waits and then gets
   * 409; a sanction applied before a failure is kept and the case stays open (applying it again
   * is harmless). Overturning a removal restores the content in the decision's transaction: both
   * commit or neither. Audited; the reporters are told the outcome, the reported user what and why.
   */
  async resolve(actor: AuthContext, caseId: string, decision: Decision, meta: RequestMeta): Promise<void> {
    const { db, repo, audit } = this.deps;
    const note = decision.note?.trim() || null;
    const outcome = await db.transaction().execute(async (trx) => {
      const row = await repo.lockCase(trx, caseId);
      if (!row) throw caseNotFound();
      if (row.status !== 'open') throw new AppError('CASE_ALREADY_RESOLVED');
      const reporters = await repo.reporterIds(trx, caseId);
      const target = row.target_user_id
        ? await this.deps.users.getFresh(row.target_user_id).catch(() => undefined)
        : undefined;
      const why = this.whyCannotAct(actor, row, reporters, target?.role);
      if (why) throw new AppError('FORBIDDEN', why);
      this.validate(row, decision, note, target);

      let suspendedUntil: Date | null = null;
      let afterCommit: AfterCommit | undefined;
      switch (decision.action) {
        case 'remove':
          await this.remove(actor, row, meta);
          break;
        case 'suspend':
          suspendedUntil = new Date(this.now() + decision.durationHours! * 3_600_000);
          await this.deps.users.suspend(target!.id, suspendedUntil, trx);
          break;
        case 'ban':
          await this.deps.staff.ban(actor, target!.id, meta);
          break;
        case 'overturn':
          if (target && (row.first_action === 'suspend' || row.first_action === 'ban'))
            await this.deps.users.reinstate(target.id, trx);
          if (row.first_action === 'remove') afterCommit = await this.restore(trx, actor, row, meta);
          break;
      }
      await repo.resolve(trx, caseId, { by: actor.userId, action: decision.action, note, suspendedUntil });
      await audit.record(
        {
          action: 'moderation.report_resolve',
          actorId: actor.userId,
          target: { type: 'report_case', id: caseId },
          meta,
          details: {
            action: decision.action,
            stage: row.stage,
            targetType: row.target_type,
            targetId: row.target_id,
            targetUserId: row.target_user_id,
            reporters: reporters.length,
            ...(suspendedUntil ? { suspendedUntil: suspendedUntil.toISOString() } : {}),
            ...(note ? { note } : {}),
          },
        },
        trx,
      );
      await this.tell(trx, row, reporters, target, decision.action, note, suspendedUntil);
      return { stage: row.stage, target, afterCommit };
    });
    await outcome.afterCommit?.();
    if (outcome.target) {
      this.deps.users.forget(outcome.target.id);
      if (decision.action === 'overturn') await this.deps.sessions.forget(outcome.target.id);
    }
    this.deps.metrics.resolved.inc({ action: decision.action, stage: outcome.stage });
  }

  /** The decision as the reported user sees it (404 to anyone else, and before any decision). */
  async notice(userId: string, caseId: string): Promise<ModerationNoticeView> {
    const row = await this.deps.repo.findCase(caseId);
    if (!row || row.target_user_id !== userId) throw caseNotFound();
    const appealOpen = row.stage === 'appeal' && row.status === 'open';
    const action = appealOpen ? row.first_action : row.action;
    if (!action || action === 'dismiss' || (row.status === 'open' && !appealOpen)) throw caseNotFound();
    return {
      caseId: row.id,
      targetType: row.target_type,
      excerpt: excerpt(row.snapshot),
      reasons: row.reasons,
      action,
      note: row.resolution_note,
      decidedAt: iso(appealOpen ? null : row.resolved_at),
      suspendedUntil: iso(row.suspended_until),
      appeal: {
        state: row.stage === 'report' ? 'available' : appealOpen ? 'pending' : 'decided',
        text: row.appeal_text,
      },
    };
  }

  /**
   * Why the user is suspended, for their own account view: until when, the decision's case and the
   * moderator's reason, and whether they may still appeal it. Null when they are not suspended.
   */
  async standing(user: Pick<UserRow, 'id' | 'suspended_until'>): Promise<SuspensionView | null> {
    const until = user.suspended_until;
    if (!until || until.getTime() <= this.now()) return null;
    const row = await this.deps.repo.latestSuspension(user.id);
    return {
      until: until.toISOString(),
      caseId: row?.id ?? null,
      reason: row?.resolution_note ?? null,
      appeal: !row
        ? null
        : row.stage === 'report'
          ? 'available'
          : row.status === 'open'
            ? 'pending'
            : 'decided',
    };
  }

  /** The decision, read through the signed link of a ban notice (no session: the account is banned). */
  async noticeByLink(caseId: string, token: string): Promise<ModerationNoticeView> {
    const row = await this.deps.repo.findCase(caseId);
    if (!row) throw new AppError('INVALID_LINK');
    this.deps.links.verify(caseId, row.target_user_id, token);
    return this.notice(row.target_user_id!, caseId);
  }

  /** The appeal, through the signed link of a ban notice. */
  async appealByLink(
    caseId: string,
    token: string,
    text: string,
    meta: RequestMeta,
  ): Promise<ModerationNoticeView> {
    const row = await this.deps.repo.findCase(caseId);
    if (!row) throw new AppError('INVALID_LINK');
    this.deps.links.verify(caseId, row.target_user_id, token);
    await this.appeal(row.target_user_id!, caseId, text, meta);
    return this.notice(row.target_user_id!, caseId);
  }

  /** The reported user appeals a decision, once: the case re-opens for a different moderator. */
  async appeal(userId: string, caseId: string, text: string, meta: RequestMeta): Promise<void> {
    const { db, repo, audit } = this.deps;
    await db.transaction().execute(async (trx) => {
      const row = await repo.lockCase(trx, caseId);
      if (!row || row.target_user_id !== userId) throw caseNotFound();
      if (row.stage === 'appeal') throw new AppError('ALREADY_APPEALED');
      if (row.status !== 'resolved' || !row.action || !SANCTIONS.has(row.action)) {
        throw new AppError('CONFLICT', 'There is no decision on this case to appeal.');
      }
      await repo.reopenAsAppeal(trx, caseId, text);
      await audit.record(
        {
          action: 'moderation.appeal',
          actorId: userId,
          target: { type: 'report_case', id: caseId },
          meta,
          details: { decision: row.action, decidedBy: row.resolved_by },
        },
        trx,
      );
    });
  }

  private summary(row: CaseRow) {
    const snapshot = row.snapshot as SnapshotView;
    return {
      id: row.id,
      targetType: row.target_type,
      targetId: row.target_id,
      stage: row.stage,
      status: row.status,
      reasons: row.reasons,
      reporterCount: row.reporter_count,
      author: snapshot.author ?? null,
      excerpt: excerpt(row.snapshot),
      createdAt: row.created_at.toISOString(),
      queuedAt: row.queued_at.toISOString(),
      resolvedAt: iso(row.resolved_at),
      action: row.action,
    };
  }

  /** Why the actor may not decide this case, or undefined when they may. */
  private whyCannotAct(
    actor: AuthContext,
    row: CaseRow,
    reporterIds: readonly string[],
    targetRole: UserRole | undefined,
  ): string | undefined {
    if (reporterIds.includes(actor.userId)) return 'You reported this; another moderator must decide.';
    if (row.target_user_id === actor.userId) return 'This is about you; another moderator must decide.';
    if (row.stage === 'appeal' && row.first_resolved_by === actor.userId)
      return 'You made the decision under appeal; another moderator must decide the appeal.';
    if (actor.role !== 'admin' && targetRole !== undefined && targetRole !== 'user')
      return 'Only an admin may act on a staff member’s content.';
    return undefined;
  }

  private validate(row: CaseRow, d: Decision, note: string | null, target: UserRow | undefined) {
    const invalid = (message: string) => new AppError('INVALID_PARAMETER', message);
    if (row.stage === 'report' && !REPORT_STAGE.has(d.action))
      throw invalid('A report is decided by dismiss, remove, warn, suspend or ban.');
    if (row.stage === 'appeal' && REPORT_STAGE.has(d.action))
      throw invalid('An appeal is decided by uphold or overturn.');
    if (d.action !== 'dismiss' && d.action !== 'uphold' && !note)
      throw invalid('Say why in the note: it is told to the reported user.');
    if (d.action === 'suspend' && d.durationHours === undefined)
      throw invalid('A suspension needs durationHours.');
    if (d.action !== 'suspend' && d.durationHours !== undefined)
      throw invalid('durationHours is only for a suspension.');
    if (d.action === 'remove' && row.target_type === 'user')
      throw invalid('There is no content to remove on a user report; warn, suspend or ban.');
    if ((d.action === 'warn' || d.action === 'suspend' || d.action === 'ban') && !target)
      throw new AppError('CONFLICT', 'The reported account no longer exists.');
  }

  private async remove(actor: AuthContext, row: CaseRow, meta: RequestMeta): Promise<void> {
    // false (removed already, by its author or an earlier attempt): the decision still stands
    const { content } = this.deps;
    if (row.target_type === 'post') await content.post(actor, row.target_id, row.id, meta);
    else if (row.target_type === 'comment') await content.comment(row.target_id, row.id);
    else if (row.target_type === 'message') await content.message(row.target_id, row.id);
  }

  /**
   * The removal was overturned: the content comes back (if this case removed it and it was not
   * erased since), restored and audited in the decision's transaction `trx` — if the decision then
   * fails, nothing was restored and a retried overturn restores (and audits) it. Answers the owning
   * module's after-commit work.
   */
  private async restore(
    trx: Kysely<DB>,
    actor: AuthContext,
    row: CaseRow,
    meta: RequestMeta,
  ): Promise<AfterCommit | undefined> {
    const { restore } = this.deps.content;
    const type = row.target_type;
    const restored =
      type === 'post'
        ? await restore.post(trx, row.target_id, row.id)
        : type === 'comment'
          ? await restore.comment(trx, row.target_id, row.id)
          : type === 'message'
            ? await restore.message(trx, row.target_id, row.id)
            : false;
    if (!restored) return undefined;
    await this.deps.audit.record(
      {
        action: 'moderation.content_restore',
        actorId: actor.userId,
        target: { type, id: row.target_id },
        meta,
        details: { caseId: row.id, authorId: row.target_user_id },
      },
      trx,
    );
    return restored === true ? undefined : restored;
  }

  /** Notifications (and the reported user's mail), enqueued in the decision's transaction. */
  private async tell(
    trx: Kysely<DB>,
    row: CaseRow,
    reporters: readonly string[],
    target: UserRow | undefined,
    action: ReportAction,
    note: string | null,
    suspendedUntil: Date | null,
  ): Promise<void> {
    if (row.stage === 'report') {
      // reporters learn that the report was handled, not which sanction followed
      const outcome = action === 'dismiss' ? 'no_action' : 'action_taken';
      for (const userId of reporters) {
        await enqueue(trx, 'notifications.notice', {
          kind: 'report_resolved',
          userId,
          subjectId: row.id,
          data: { outcome, targetType: row.target_type },
        });
      }
    }
    if (!target || action === 'dismiss') return;
    await enqueue(trx, 'notifications.notice', {
      kind: 'moderation_notice',
      userId: target.id,
      subjectId: row.id,
      data: {
        action,
        targetType: row.target_type,
        ...(suspendedUntil ? { until: suspendedUntil.toISOString() } : {}),
      },
    });
    await this.deps.mail.queue(trx, 'moderation_notice', target.email, {
      username: target.username,
      action,
      targetType: row.target_type as ReportTargetType,
      reasons: (row.reasons as ReportReason[]).join(', '),
      note: note ?? '',
      until: suspendedUntil?.toISOString() ?? '',
      excerpt: excerpt(row.snapshot),
      // a banned account cannot sign in: its link carries a token to read and appeal without one
      link:
        action === 'ban'
          ? `${this.deps.publicUrl}/moderation/notices/${row.id}?token=${this.deps.links.sign(row.id, target.id)}`
          : `${this.deps.publicUrl}/moderation/notices/${row.id}`,
    });
  }
}
