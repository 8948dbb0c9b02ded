import type { Kysely } from 'kysely';
import type { Cache } from '../../platform/cache/cache.ts';
import type { DB } from '../../platform/db/schema.ts';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.ts';
import type { PostView } from '../posts/posts.schema.ts';
import type { FeedRepository } from './feed.repository.ts';

export interface FeedPage {
  items: PostView[];
  nextCursor?: string;
}

export interface FeedOptions {
  inactiveDays: number;
  cacheTtlSeconds: number;
  /** Page size whose first page is cached. */
  defaultLimit: number;
}

/** How the feed learns a post's author, visibility and liveness (the posts module answers). */
export interface PostFacts {
  findMeta(postId: string): Promise<{ author_id: string; visibility: string } | undefined>;
  presentMany(ids: readonly string[], viewerId: string): Promise<PostView[]>;
}

const BACKFILL_DAYS = 30;
const BACKFILL_PER_AUTHOR = 50;

const cacheKey = (userId: string) => `feed:v1:${userId}:first`;

/**
 * The home feed, built by fan-out on write: durable entries in Postgres, the first page cached
 * briefly and dropped whenever an entry arrives or leaves.
 */
export class FeedService {
  constructor(
    private readonly repo: FeedRepository,
    private readonly cache: Cache,
    private readonly posts: PostFacts,
    private readonly options: FeedOptions,
  ) {}

  /** The author sees their own post at once (same transaction as the post). */
  addOwn(trx: Kysely<DB>, postId: string, authorId: string): Promise<void> {
    return this.repo.insertOwn(trx, postId, authorId);
  }

  removePost(trx: Kysely<DB>, postId: string): Promise<string[]> {
    return this.repo.removePost(trx, postId);
  }

  async invalidate(userIds: readonly string[]): Promise<void> {
    if (userIds.length > 0) await this.cache.delete(...userIds.map(cacheKey));
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
    const ids = await this.repo.pageIds(viewerId, before, limit);
    const pageIds = ids.slice(0, limit);
    const items = await this.posts.presentMany(pageIds, viewerId);
    const last = pageIds[pageIds.length - 1];
    const page: FeedPage = {
      items,
      ...(ids.length > limit && last ? { nextCursor: encodeCursor('feed', [last]) } : {}),
    };
    if (cacheable) await this.cache.set(cacheKey(viewerId), page, this.options.cacheTtlSeconds);
    return JSON.stringify(page);
  }

  /** Job: deliver a new post to the author's recently active friends. */
  async fanOut(postId: string): Promise<number> {
    const meta = await this.posts.findMeta(postId);
    if (!meta || meta.visibility === 'private') return 0;
    const readers = await this.repo.fanOut(postId, meta.author_id, this.options.inactiveDays);
    await this.invalidate(readers);
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
