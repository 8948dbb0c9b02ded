import type { Kysely } from 'kysely';
import type { Cache } from '../../platform/cache/cache.ts';
import type { DB } from '../../platform/db/schema.ts';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import type { PostRecord } from '../posts/posts.repository.ts';
import { type PostView, presentPost } from '../posts/posts.schema.ts';
import type { FanOutReader, FeedRepository } from './feed.repository.ts';

export interface FeedPage {
  items: PostView[];
  nextCursor?: string;
}

export interface FeedOptions {
  inactiveDays: number;
  cacheTtlSeconds: number;
  /** Page size whose first page is cached. */
  defaultLimit: number;
  /**
   * Told which readers' feeds just changed, before their cached page is dropped: pages are read
   * from a replica, and a page cached from one that has not replayed the change would hide it
   * until the cache expires. `Database.router.noteWrites` keeps their reads on the primary until
   * a replica has it.
   */
  noteChanged?: (userIds: readonly string[]) => Promise<void>;
}

/** How the feed learns a post's author, visibility and liveness (the posts module answers). */
export interface PostFacts {
  findMeta(postId: string): Promise<{ author_id: string; visibility: string } | undefined>;
  presentMany(ids: readonly string[], viewerId: string): Promise<PostView[]>;
}

const BACKFILL_DAYS = 30;
const BACKFILL_PER_AUTHOR = 50;

const cacheKey = (userId: string) => `feed:v1:${userId}:first`;

/** Told after fan-out put a post by `authorId` into the feeds of `readers` (committed). */
export type FanOutListener = (readers: readonly FanOutReader[], authorId: string) => void | Promise<void>;

/**
 * The home feed, built by fan-out on write: durable entries in Postgres, the first page cached
 * briefly and dropped whenever an entry arrives or leaves.
 */
export class FeedService {
  private fanOutListener: FanOutListener | undefined;

  constructor(
    private readonly repo: FeedRepository,
    private readonly cache: Cache,
    private readonly posts: PostFacts,
    private readonly options: FeedOptions,
  ) {}

  /**
   * Who hears of fan-out (the realtime `feed.new` notifier). Set by the composition root once the
   * services it needs (feature flags) exist, which are built after the feed.
   */
  onFanOut(listener: FanOutListener): void {
    this.fanOutListener = listener;
  }

  /** The author sees their own post at once (same transaction as the post). */
  addOwn(trx: Kysely<DB>, postId: string, authorId: string): Promise<void> {
    return this.repo.insertOwn(trx, postId, authorId);
  }

  removePost(trx: Kysely<DB>, postId: string): Promise<string[]> {
    return this.repo.removePost(trx, postId);
  }

  async invalidate(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.options.noteChanged?.(userIds);
    await this.cache.delete(...userIds.map(cacheKey));
  }

  /**
   * A page of the feed as JSON text. The first page is cached as the text itself, so a cache hit
   * costs one cache read: no query, no parse, no serialization.
   */
  async page(viewerId: string, cursor: string | undefined, limit: number): Promise<string> {
    const cacheable =
      cursor === undefined && limit === this.options.defaultLimit && this.options.cacheTtlSeconds > 0;
    if (cacheable) {
      const cached = await this.cache.getJson(cacheKey(viewerId));
      if (cached !== undefined) return cached;
    }
    const before = cursor ? String(decodeCursor('feed', cursor, ['uuid'])[0]) : undefined;
    // one more than a page says whether there is a next one
    const rows = await this.repo.page(viewerId, before, limit + 1);
    const pageRows = rows.slice(0, limit);
    const last = pageRows[pageRows.length - 1];
    const page: FeedPage = {
      items: await this.present(pageRows, viewerId),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor('feed', [last.id]) } : {}),
    };
    if (cacheable) await this.cache.set(cacheKey(viewerId), page, this.options.cacheTtlSeconds);
    return JSON.stringify(page);
  }

  /**
   * The page's posts as the posts module presents them. Media need their URLs (signed unless
   * public) from the media service, which the posts module reaches: a page with media is presented
   * there (one more query); a page without any, the common case, needs nothing more.
   */
  private present(rows: readonly PostRecord[], viewerId: string): Promise<PostView[]> | PostView[] {
    if (rows.some((row) => row.media.length > 0))
      return this.posts.presentMany(
        rows.map((row) => row.id),
        viewerId,
      );
    return rows.map((row) => presentPost({ ...row, media: [] }));
  }

  /** Job: deliver a new post to the author's recently active friends. */
  async fanOut(postId: string): Promise<number> {
    const meta = await this.posts.findMeta(postId);
    if (!meta || meta.visibility === 'private') return 0;
    const readers = await this.repo.fanOut(postId, meta.author_id, this.options.inactiveDays);
    await this.invalidate(readers.map((r) => r.id));
    if (readers.length > 0) await this.fanOutListener?.(readers, meta.author_id);
    return readers.length;
  }

  /** Job: unfriend or block took an author out of a reader's feed. */
  async removeAuthor(userId: string, authorId: string): Promise<void> {
    await this.repo.removeAuthor(userId, authorId);
    await this.invalidate([userId]);
  }

  /** Job: a new friendship brings the friend's recent posts into the reader's feed. */
  async backfill(userId: string, authorId: string): Promise<void> {
    await this.repo.copyRecent(userId, [authorId], BACKFILL_DAYS, BACKFILL_PER_AUTHOR);
    await this.invalidate([userId]);
  }

  /** Job: a user back after a long absence missed fan-out; rebuild from friends' recent posts. */
  async rebuild(userId: string, friendIds: readonly string[]): Promise<void> {
    await this.repo.copyRecent(
      userId,
      [userId, ...friendIds],
      this.options.inactiveDays,
      BACKFILL_PER_AUTHOR,
    );
    await this.invalidate([userId]);
  }
}
