import { uuidv7 } from 'uuidv7';
import type { Database, Db } from '../../platform/db/database.ts';
import type { ReactionKind } from '../../platform/db/schema-social.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import { cursorPart, decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import { visibleText } from '../../platform/http/text.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { CommentsRepository } from './comments.repository.ts';
import { type CommentView, presentComment } from './comments.schema.ts';
import { mentionsOf, type TextEntity } from './entities.ts';
import type { PostsService } from './posts.service.ts';

/** Comments and reactions on posts the caller can see. */
export class CommentsService {
  constructor(
    private readonly db: Database,
    private readonly repo: CommentsRepository,
    private readonly posts: PostsService,
    private readonly onViewerChange: (userId: string) => Promise<void>,
  ) {}

  async add(authorId: string, postId: string, input: string): Promise<CommentView> {
    const text = visibleText(input, '/text');
    const post = await this.posts.requireVisible(authorId, postId);
    const id = uuidv7();
    const entities = await this.posts.entitiesOf(authorId, text);
    await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.insert(trx, { id, post_id: postId, author_id: authorId, text, entities });
      await enqueue(trx, 'notifications.create', {
        kind: 'comment',
        userId: post.author_id,
        actorId: authorId,
        subjectId: postId,
        data: { commentId: id },
      });
      if (mentionsOf(entities).length > 0)
        await enqueue(trx, 'notifications.mentions', { postId, commentId: id });
    });
    const row = await this.repo.findOne(id);
    return presentComment(row!);
  }

  async list(viewerId: string, postId: string, cursor: string | undefined, limit: number) {
    await this.posts.requireVisible(viewerId, postId);
    const list = `comments:${postId}`;
    const after = cursor ? decodeCursor(list, cursor, [cursorPart.uuid])[0] : undefined;
    const rows = await this.repo.page(postId, viewerId, after, limit);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(presentComment),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(list, [last.id]) } : {}),
    };
  }

  /**
   * Only its author edits a comment, while they can still see the post. Sending the same text
   * again changes nothing (a retried PATCH is harmless).
   */
  async updateText(viewer: AuthContext, commentId: string, input: string): Promise<CommentView> {
    const text = visibleText(input, '/text');
    const comment = await this.repo.find(commentId);
    if (!comment || comment.author_id !== viewer.userId) throw new AppError('NOT_FOUND', 'No such comment.');
    await this.posts.requireVisible(viewer.userId, comment.post_id);
    const entities = await this.posts.entitiesOf(viewer.userId, text);
    if (!(await this.repo.updateText(commentId, text, entities)))
      throw new AppError('NOT_FOUND', 'No such comment.');
    const row = await this.repo.findOne(commentId);
    return presentComment(row!);
  }

  /** The comment's author, the post's author, or a moderator may delete it. */
  async delete(viewer: AuthContext, commentId: string): Promise<void> {
    const comment = await this.repo.find(commentId);
    if (!comment) throw new AppError('NOT_FOUND', 'No such comment.');
    const post = await this.posts.findMeta(comment.post_id);
    const allowed =
      comment.author_id === viewer.userId ||
      post?.author_id === viewer.userId ||
      viewer.role === 'moderator' ||
      viewer.role === 'admin';
    if (!allowed) throw new AppError('NOT_FOUND', 'No such comment.');
    await this.repo.softDelete(commentId);
  }

  /** Staff remove a comment by a report case's decision, restorable on appeal; false when already gone. */
  async removeByDecision(commentId: string, caseId: string): Promise<boolean> {
    return this.db.primary.transaction().execute((trx) => this.repo.withhold(trx, commentId, caseId));
  }

  /**
   * Brings back the comment a report case removed (its post counts it again), in the decision's
   * transaction `trx`; false when the case removed nothing.
   */
  async restoreRemoved(trx: Db, commentId: string, caseId: string): Promise<boolean> {
    return (await this.repo.restoreWithheld(trx, commentId, caseId)) !== undefined;
  }

  /** The author and mentioned usernames of a live comment. */
  async mentionsOfComment(commentId: string) {
    const row = await this.repo.findOne(commentId);
    return row ? { authorId: row.author_id, usernames: mentionsOf(row.entities as TextEntity[]) } : undefined;
  }

  async react(userId: string, postId: string, kind: ReactionKind): Promise<void> {
    const post = await this.posts.requireVisible(userId, postId);
    await this.db.primary.transaction().execute(async (trx) => {
      const changed = await this.repo.react(trx, postId, userId, kind);
      if (changed) {
        await enqueue(trx, 'notifications.create', {
          kind: 'reaction',
          userId: post.author_id,
          actorId: userId,
          subjectId: postId,
          data: { reaction: kind },
        });
      }
    });
    await this.onViewerChange(userId);
  }

  async unreact(userId: string, postId: string, kind: ReactionKind): Promise<void> {
    await this.posts.requireVisible(userId, postId);
    await this.repo.unreact(postId, userId, kind);
    await this.onViewerChange(userId);
  }
}
