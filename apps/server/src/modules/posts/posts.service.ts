import { uuidv7 } from 'uuidv7';
import type { Database, Db } from '../../platform/db/database.ts';
import type { UserRole } from '../../platform/db/schema.ts';
import type { Visibility } from '../../platform/db/schema-social.ts';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import { cursorPart, decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import { visibleText } from '../../platform/http/text.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { AuditService, RequestMeta } from '../audit/audit.service.ts';
import type { FeedService } from '../feed/feed.service.ts';
import type { FriendsService, UserDirectory } from '../friends/friends.service.ts';
import type { MediaService } from '../media/media.service.ts';
import { hashtagsOf, mentionsOf, parseEntities, type TextEntity, withoutMentionsOf } from './entities.ts';
import type { PostRow, PostsRepository } from './posts.repository.ts';
import { type PostView, presentPost } from './posts.schema.ts';

const STAFF: readonly UserRole[] = ['moderator', 'admin'];
const TRENDING_SIZE = 20;

/** Records staff actions in the audit log. */
export type StaffAudit = Pick<AuditService, 'record'>;
/** What posts need from media: attaching in the post's transaction, releasing, presenting. */
export type PostMedia = Pick<MediaService, 'attachToPost' | 'releaseForPost' | 'presentAttachments'>;

/** Posts: writing, reading with visibility rules, and the pages built from them. */
export class PostsService {
  constructor(
    private readonly db: Database,
    private readonly repo: PostsRepository,
    private readonly friends: FriendsService,
    private readonly users: UserDirectory,
    private readonly feed: FeedService,
    private readonly audit: StaffAudit,
    private readonly media: PostMedia,
  ) {}

  /** Whether `viewerId` may see a post: author, or not blocked and public/friends-with-friendship. */
  async canSee(viewerId: string, post: { author_id: string; visibility: Visibility }): Promise<boolean> {
    if (post.author_id === viewerId) return true;
    if (post.visibility === 'private') return false;
    if (await this.friends.isBlockedEitherWay(viewerId, post.author_id)) return false;
    return post.visibility === 'public' || this.friends.areFriends(viewerId, post.author_id);
  }

  /** Of `posts`, the ids the viewer may see, decided for the whole page in a constant number of queries. */
  async visibleTo(
    viewerId: string,
    posts: readonly { id: string; author_id: string; visibility: Visibility }[],
  ) {
    const { blocked, friends } = await this.friends.relationsWith(
      viewerId,
      posts.map((p) => p.author_id),
    );
    return new Set(
      posts
        .filter(
          (p) =>
            p.author_id === viewerId ||
            (!blocked.has(p.author_id) &&
              (p.visibility === 'public' || (p.visibility === 'friends' && friends.has(p.author_id)))),
        )
        .map((p) => p.id),
    );
  }

  /** The live post's access facts, or 404 when it does not exist or the viewer may not see it. */
  async requireVisible(viewerId: string, postId: string) {
    const meta = await this.repo.findMeta(postId);
    if (!meta || !(await this.canSee(viewerId, meta))) throw new AppError('NOT_FOUND', 'No such post.');
    return meta;
  }

  async create(
    authorId: string,
    input: { text: string; visibility?: Visibility; mediaIds?: string[] },
  ): Promise<PostView> {
    const id = uuidv7();
    const visibility = input.visibility ?? 'friends';
    const text = visibleText(input.text, '/text');
    const entities = await this.entitiesOf(authorId, text);
    await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.insert(
        trx,
        { id, author_id: authorId, text, visibility, entities },
        hashtagsOf(entities),
      );
      await this.media.attachToPost(trx, authorId, id, input.mediaIds ?? []);
      await this.feed.addOwn(trx, id, authorId);
      if (visibility !== 'private') await enqueue(trx, 'feed.fan-out', { postId: id });
      if (mentionsOf(entities).length > 0) await enqueue(trx, 'notifications.mentions', { postId: id });
    });
    await this.feed.invalidate([authorId]);
    return this.getVisible(authorId, id);
  }

  async get(viewerId: string, postId: string): Promise<PostView> {
    await this.requireVisible(viewerId, postId);
    return this.getVisible(viewerId, postId);
  }

  async updateText(viewer: AuthContext, postId: string, newText: string): Promise<PostView> {
    const text = visibleText(newText, '/text');
    const meta = await this.requireVisible(viewer.userId, postId);
    if (meta.author_id !== viewer.userId) throw new AppError('NOT_FOUND', 'No such post.');
    const entities = await this.entitiesOf(viewer.userId, text);
    await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.updateText(trx, postId, text, entities);
      await this.repo.replaceTags(trx, postId, hashtagsOf(entities), meta.visibility === 'public');
    });
    await this.feed.invalidate([viewer.userId]);
    return this.getVisible(viewer.userId, postId);
  }

  /** The author deletes a post; staff may remove anyone's post (audited). */
  async delete(viewer: AuthContext, postId: string, meta: RequestMeta): Promise<void> {
    const post = await this.repo.findMeta(postId);
    const isStaff = STAFF.includes(viewer.role);
    if (!post || (post.author_id !== viewer.userId && !isStaff)) {
      throw new AppError('NOT_FOUND', 'No such post.');
    }
    const readers = await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.softDelete(trx, postId);
      await this.media.releaseForPost(trx, postId);
      if (post.author_id !== viewer.userId) {
        await this.audit.record(
          {
            action: 'moderation.post_remove',
            actorId: viewer.userId,
            target: { type: 'post', id: postId },
            meta,
            details: { authorId: post.author_id },
          },
          trx,
        );
      }
      return this.feed.removePost(trx, postId);
    });
    await this.feed.invalidate(readers);
  }

  /**
   * Staff remove a post by a report case's decision: gone for everyone as a delete is (audited,
   * out of every feed), but marked with the case and its media kept, so overturning the decision
   * on appeal can bring it back. False when it was gone already.
   */
  async removeByDecision(actor: AuthContext, postId: string, caseId: string, meta: RequestMeta) {
    const post = await this.repo.findMeta(postId);
    if (!post) return false;
    const readers = await this.db.primary.transaction().execute(async (trx) => {
      if (!(await this.repo.withhold(trx, postId, caseId))) return undefined;
      await this.audit.record(
        {
          action: 'moderation.post_remove',
          actorId: actor.userId,
          target: { type: 'post', id: postId },
          meta,
          details: { authorId: post.author_id, caseId },
        },
        trx,
      );
      return this.feed.removePost(trx, postId);
    });
    if (readers) await this.feed.invalidate(readers);
    return readers !== undefined;
  }

  /**
   * Brings back the post a report case removed (the decision was overturned): its tags, its place
   * in its author's feed, and fan-out to friends again (a feed orders by post id, so it returns to
   * where it was). Runs in the decision's transaction `trx`, so a decision that fails restores
   * nothing; answers what to do once it has committed, or undefined when the case removed nothing
   * (or the author deleted it first).
   */
  async restoreRemoved(trx: Db, postId: string, caseId: string): Promise<(() => Promise<void>) | undefined> {
    const row = await this.repo.restoreWithheld(trx, postId, caseId);
    if (!row) return undefined;
    const entities = row.entities as TextEntity[];
    await this.repo.replaceTags(trx, postId, hashtagsOf(entities), row.visibility === 'public');
    await this.feed.addOwn(trx, postId, row.author_id);
    if (row.visibility !== 'private') await enqueue(trx, 'feed.fan-out', { postId });
    return () => this.feed.invalidate([row.author_id]);
  }

  /** A user's posts the viewer may see, newest first. */
  async listByUser(viewerId: string, username: string, cursor: string | undefined, limit: number) {
    const { owner, visibilities } = await this.friends.audienceOf(viewerId, username);
    const list = `user-posts:${owner.id}`;
    const before = cursor ? decodeCursor(list, cursor, [cursorPart.uuid])[0] : undefined;
    const ids = await this.repo.idsByAuthor(owner.id, visibilities, before, limit);
    return this.pageOf(list, ids, limit, viewerId);
  }

  async listByTag(viewerId: string, tag: string, cursor: string | undefined, limit: number) {
    const normalized = tag.normalize('NFKC').toLowerCase();
    const list = `tag:${normalized}`;
    const before = cursor ? decodeCursor(list, cursor, [cursorPart.uuid])[0] : undefined;
    const ids = await this.repo.idsByTag(normalized, viewerId, before, limit);
    return this.pageOf(list, ids, limit, viewerId);
  }

  /** Posts by id in the given order, presented for the viewer (ids must already be visible). */
  async presentMany(ids: readonly string[], viewerId: string): Promise<PostView[]> {
    const rows = await this.hydrate(ids, viewerId);
    return ids.flatMap((id) => {
      const row = rows.get(id);
      return row ? [presentPost(row)] : [];
    });
  }

  /**
   * Job: notify every active user a post (or one of its comments) mentions who can see the post.
   * `mentions` lists the source's author and mentioned usernames.
   */
  async notifyMentions(
    postId: string,
    source: { authorId: string; usernames: string[] } | undefined,
    notify: (userId: string, actorId: string) => Promise<void>,
  ): Promise<void> {
    const meta = await this.repo.findMeta(postId);
    if (!meta || !source) return;
    for (const username of source.usernames) {
      const user = await this.users.findActiveByUsername(username);
      if (user && user.id !== source.authorId && (await this.canSee(user.id, meta)))
        await notify(user.id, source.authorId);
    }
  }

  /**
   * The entities of a text its author writes (a post or a comment): hashtags as parseEntities caps
   * them, and mentions except of accounts blocked either way with the author — those stay plain
   * text, so they are neither a link nor notified. Decided when the text is written (as Mastodon
   * does): a block made later does not rewrite texts already published.
   */
  async entitiesOf(authorId: string, text: string): Promise<TextEntity[]> {
    const entities = parseEntities(text);
    const blocked = await this.repo.blockedWith(authorId, mentionsOf(entities));
    return blocked.size > 0 ? withoutMentionsOf(entities, blocked) : entities;
  }

  /** The author and mentioned usernames of a live post. */
  async mentionsOfPost(postId: string) {
    const row = await this.repo.entitiesOf(postId);
    return row ? { authorId: row.author_id, usernames: mentionsOf(row.entities as TextEntity[]) } : undefined;
  }

  /** Job: recompute trending tags. */
  computeTrending(): Promise<void> {
    return this.repo.computeTrending(TRENDING_SIZE);
  }

  async trendingView() {
    const rows = await this.repo.trending();
    return {
      items: rows.map((r) => ({ tag: r.tag, uses: r.uses })),
      computedAt: rows[0]?.computed_at.toISOString() ?? null,
    };
  }

  findMeta(postId: string) {
    return this.repo.findMeta(postId);
  }

  /** Rows for other modules that present posts themselves (collections). */
  async hydrate(ids: readonly string[], viewerId: string): Promise<Map<string, PostRow>> {
    const records = await this.repo.hydrate(ids, viewerId);
    const rows = new Map<string, PostRow>();
    for (const [id, record] of records) {
      const media = await this.media.presentAttachments(record.media, record.visibility === 'public');
      rows.set(id, { ...record, media });
    }
    return rows;
  }

  private async pageOf(list: string, ids: string[], limit: number, viewerId: string) {
    const pageIds = ids.slice(0, limit);
    const items = await this.presentMany(pageIds, viewerId);
    const last = pageIds[pageIds.length - 1];
    return { items, ...(ids.length > limit && last ? { nextCursor: encodeCursor(list, [last]) } : {}) };
  }

  private async getVisible(viewerId: string, postId: string): Promise<PostView> {
    const [post] = await this.presentMany([postId], viewerId);
    if (!post) throw new AppError('NOT_FOUND', 'No such post.');
    return post;
  }
}
