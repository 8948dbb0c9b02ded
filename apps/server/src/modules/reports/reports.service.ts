import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { DB } from '../../platform/db/schema.ts';
import type { ReportReason, ReportTargetType } from '../../platform/db/schema-reports.ts';
import { AppError } from '../../platform/errors.ts';
import type { ReportMetrics } from './reports.metrics.ts';
import type { AuthorFacts, ReportsRepository } from './reports.repository.ts';
import type { SnapshotView } from './reports.schema.ts';

/** How many live messages either side of a reported one are kept as its context. */
const CONTEXT_MESSAGES = 3;
const CONTEXT_TEXT_MAX = 2000;

/** Who may see what (the posts, friends and chat modules answer). */
export interface Visibility {
  /** Throws 404 when the post does not exist or the viewer may not see it. */
  requirePostVisible(viewerId: string, postId: string): Promise<unknown>;
  isBlockedEitherWay(a: string, b: string): Promise<boolean>;
  /** A current member of the message's conversation, and the message not deleted. */
  canSeeMessage(viewerId: string, messageId: string): Promise<boolean>;
}

export interface NewReport {
  targetType: ReportTargetType;
  targetId: string;
  reason: ReportReason;
  note?: string | undefined;
}

const notFound = (what: string) => new AppError('NOT_FOUND', `No such ${what}.`);
const author = (a: AuthorFacts | undefined) =>
  a ? { id: a.id, username: a.username, displayName: a.display_name } : null;

/**
 * Reports: a user reports something they can see; reports on the same thing fold into one open
 * case, which keeps a snapshot of the thing as it was when first reported.
 */
export class ReportsService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly repo: ReportsRepository,
    private readonly visibility: Visibility,
    private readonly metrics: ReportMetrics,
  ) {}

  /**
   * Files a report. 404 when the reporter cannot see the thing, 400 on their own content. A second
   * report by the same user on the same open case changes nothing (`duplicate`).
   */
  async report(reporterId: string, input: NewReport): Promise<{ reportId: string; duplicate: boolean }> {
    const { snapshot, authorId } = await this.capture(reporterId, input.targetType, input.targetId);
    if (authorId === reporterId) throw new AppError('CANNOT_REPORT_SELF');
    const result = await this.db.transaction().execute(async (trx) => {
      const kase = await this.repo.openOrFold(trx, {
        id: uuidv7(),
        targetType: input.targetType,
        targetId: input.targetId,
        targetUserId: authorId,
        snapshot,
        reason: input.reason,
      });
      const reportId = await this.repo.addReport(trx, {
        id: uuidv7(),
        caseId: kase.id,
        reporterId,
        reason: input.reason,
        // stored exactly as typed: it is text, shown as text (never as markup)
        note: input.note ?? '',
      });
      return { caseId: kase.id, reportId, opened: kase.opened };
    });
    if (result.reportId === undefined) {
      const existing = await this.repo.reportOf(result.caseId, reporterId);
      return { reportId: existing!, duplicate: true };
    }
    this.metrics.opened.inc({ reason: input.reason, target_type: input.targetType });
    if (result.opened) this.metrics.casesOpened.inc({ target_type: input.targetType });
    return { reportId: result.reportId, duplicate: false };
  }

  /** Checks the reporter can see the thing, and captures it with a little context. */
  private async capture(
    viewerId: string,
    type: ReportTargetType,
    id: string,
  ): Promise<{ snapshot: SnapshotView; authorId: string | null }> {
    const capturedAt = new Date().toISOString();
    switch (type) {
      case 'post': {
        await this.visibility.requirePostVisible(viewerId, id);
        const post = await this.repo.post(id);
        if (!post || post.deleted_at) throw notFound('post');
        return {
          authorId: post.author_id,
          snapshot: {
            capturedAt,
            author: author(await this.repo.author(post.author_id)),
            text: post.text,
            mediaIds: post.media_ids,
            createdAt: post.created_at.toISOString(),
            editedAt: post.edited_at?.toISOString() ?? null,
            context: { visibility: post.visibility },
          },
        };
      }
      case 'comment': {
        const comment = await this.repo.comment(id);
        if (!comment || comment.deleted_at) throw notFound('comment');
        await this.visibility.requirePostVisible(viewerId, comment.post_id).catch(() => {
          throw notFound('comment');
        });
        if (await this.visibility.isBlockedEitherWay(viewerId, comment.author_id)) throw notFound('comment');
        const post = await this.repo.post(comment.post_id);
        const postAuthor = post ? await this.repo.author(post.author_id) : undefined;
        return {
          authorId: comment.author_id,
          snapshot: {
            capturedAt,
            author: author(await this.repo.author(comment.author_id)),
            text: comment.text,
            mediaIds: [],
            createdAt: comment.created_at.toISOString(),
            editedAt: comment.edited_at?.toISOString() ?? null,
            context: post
              ? {
                  post: {
                    id: post.id,
                    authorUsername: postAuthor?.username ?? null,
                    text: post.text.slice(0, CONTEXT_TEXT_MAX),
                  },
                }
              : {},
          },
        };
      }
      case 'message': {
        if (!(await this.visibility.canSeeMessage(viewerId, id))) throw notFound('message');
        const message = await this.repo.message(id);
        if (!message || message.deleted_at) throw notFound('message');
        const around = await this.repo.neighbours(
          message.conversation_id,
          Number(message.seq),
          CONTEXT_MESSAGES,
        );
        return {
          authorId: message.sender_id,
          snapshot: {
            capturedAt,
            author: message.sender_id ? author(await this.repo.author(message.sender_id)) : null,
            text: message.body,
            mediaIds: message.media_ids,
            createdAt: message.created_at.toISOString(),
            editedAt: message.edited_at?.toISOString() ?? null,
            context: {
              conversationId: message.conversation_id,
              seq: Number(message.seq),
              messages: around.map((m) => ({
                id: m.id,
                seq: m.seq,
                senderUsername: m.username,
                body: m.body,
                createdAt: m.created_at.toISOString(),
              })),
            },
          },
        };
      }
      case 'user': {
        const user = await this.repo.authorStanding(id);
        if (!user || user.banned_at || user.deactivated_at) throw notFound('user');
        const profile = await this.repo.profile(id);
        return {
          authorId: user.id,
          snapshot: {
            capturedAt,
            author: { id: user.id, username: user.username, displayName: user.display_name },
            text: profile?.bio ?? '',
            mediaIds: [],
            createdAt: profile?.created_at.toISOString() ?? null,
            editedAt: null,
            context: { displayName: user.display_name },
          },
        };
      }
    }
  }
}
