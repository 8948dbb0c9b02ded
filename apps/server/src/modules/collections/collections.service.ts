import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { Database } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { Visibility } from '../../platform/db/schema-social.ts';
import { AppError } from '../../platform/errors.ts';
import { cursorPart, decodeCursor, encodeCursor, INT4_MAX } from '../../platform/http/cursor.ts';
import { visibleText } from '../../platform/http/text.ts';
import type { FriendsService } from '../friends/friends.service.ts';
import { presentPost } from '../posts/posts.schema.ts';
import type { PostsService } from '../posts/posts.service.ts';
import type { CollectionRow, CollectionsRepository, OwnedCollectionRow } from './collections.repository.ts';
import {
  type CollectionItemView,
  type CollectionView,
  presentCollection,
  presentItem,
} from './collections.schema.ts';

/** What collections need from the posts module. */
export type CollectionPosts = Pick<PostsService, 'requireVisible' | 'hydrate' | 'visibleTo'>;
/** What collections need from the friends module. */
export type CollectionFriends = Pick<FriendsService, 'areFriends' | 'isBlockedEitherWay' | 'audienceOf'>;

export interface NewCollectionInput {
  title: string;
  description?: string | undefined;
  visibility?: Visibility | undefined;
}

export type CollectionChangesInput = Partial<NewCollectionInput>;

const notFound = () => new AppError('NOT_FOUND', 'No such collection.');

const ownerOf = (row: OwnedCollectionRow) => ({
  id: row.owner_id,
  username: row.username,
  displayName: row.display_name,
});

/**
 * Collections: curated, ordered lists of posts. Every write locks the collection row first, so
 * concurrent edits of one collection run one after the other and positions stay 0..n-1.
 */
export class CollectionsService {
  constructor(
    private readonly db: Database,
    private readonly repo: CollectionsRepository,
    private readonly posts: CollectionPosts,
    private readonly friends: CollectionFriends,
    private readonly maxItems: number,
  ) {}

  async create(ownerId: string, input: NewCollectionInput): Promise<CollectionView> {
    const id = uuidv7();
    await this.repo.insert({
      id,
      owner_id: ownerId,
      title: visibleText(input.title, '/title'),
      description: input.description ?? '',
      visibility: input.visibility ?? 'friends',
    });
    return this.view(id);
  }

  /** A collection the viewer may see, with a page of its items in order (cursor by position). */
  async get(viewerId: string, id: string, cursor: string | undefined, limit: number) {
    const row = await this.requireReadable(viewerId, id);
    const list = `collection:${id}`;
    // positions are an `integer` column, never negative
    const after = cursor ? decodeCursor(list, cursor, [cursorPart.int(0, INT4_MAX)])[0] : -1;
    const page = await this.itemsPage(row, viewerId, after, limit);
    const last = page.items[page.items.length - 1];
    return {
      ...presentCollection(row, ownerOf(row)),
      items: page.items,
      ...(page.more && last ? { nextCursor: encodeCursor(list, [last.position]) } : {}),
    };
  }

  async update(ownerId: string, id: string, changes: CollectionChangesInput): Promise<CollectionView> {
    const values = {
      ...(changes.title !== undefined ? { title: visibleText(changes.title, '/title') } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.visibility !== undefined ? { visibility: changes.visibility } : {}),
    };
    await this.writeLocked(ownerId, id, (trx) => this.repo.update(trx, id, values));
    return this.view(id);
  }

  async delete(ownerId: string, id: string): Promise<void> {
    await this.writeLocked(ownerId, id, (trx) => this.repo.delete(trx, id));
  }

  /**
   * Adds a post the owner can see, at `position` (the items from there on move down) or at the end.
   */
  async addItem(
    ownerId: string,
    id: string,
    postId: string,
    position: number | undefined,
  ): Promise<CollectionItemView> {
    await this.posts.requireVisible(ownerId, postId);
    const item = await this.writeLocked(ownerId, id, async (trx, row) => {
      if (await this.repo.findItem(trx, id, postId)) throw new AppError('ALREADY_IN_COLLECTION');
      if (row.item_count >= this.maxItems) {
        throw new AppError('COLLECTION_FULL', undefined, { maxItems: this.maxItems });
      }
      const at = position ?? row.item_count;
      if (at > row.item_count) {
        throw new AppError('POSITION_OUT_OF_RANGE', undefined, { itemCount: row.item_count });
      }
      return this.repo.insertItem(trx, id, postId, at);
    });
    const post = (await this.posts.hydrate([postId], ownerId)).get(postId);
    return presentItem(item, post ? presentPost(post) : null);
  }

  /** Removes a post from the collection; the items after it move up. */
  async removeItem(ownerId: string, id: string, postId: string): Promise<void> {
    await this.writeLocked(ownerId, id, async (trx) => {
      if (!(await this.repo.removeItem(trx, id, postId))) {
        throw new AppError('NOT_FOUND', 'This post is not in the collection.');
      }
    });
  }

  /** Sets a new order: `postIds` must list exactly the posts now in the collection, each once. */
  async reorder(ownerId: string, id: string, postIds: readonly string[]): Promise<void> {
    await this.writeLocked(ownerId, id, async (trx) => {
      const current = new Set(await this.repo.postIds(trx, id));
      const permutation =
        postIds.length === current.size &&
        new Set(postIds).size === postIds.length &&
        postIds.every((p) => current.has(p));
      if (!permutation) throw new AppError('ORDER_MISMATCH', undefined, { itemCount: current.size });
      await this.repo.setOrder(trx, id, postIds);
    });
  }

  /** A user's collections the viewer may see, newest first: all for the owner, public (+ friends for friends). */
  async listByUser(viewerId: string, username: string, cursor: string | undefined, limit: number) {
    const { owner, visibilities } = await this.friends.audienceOf(viewerId, username);
    const list = `user-collections:${owner.id}`;
    const before = cursor ? decodeCursor(list, cursor, [cursorPart.uuid])[0] : undefined;
    const rows = await this.repo.listByOwner(owner.id, visibilities, before, limit);
    const items = rows.slice(0, limit).map((row) => presentCollection(row, owner));
    const last = items[items.length - 1];
    return { items, ...(rows.length > limit && last ? { nextCursor: encodeCursor(list, [last.id]) } : {}) };
  }

  /** The collection, or 404 when it does not exist or the viewer may not see it. */
  private async requireReadable(viewerId: string, id: string): Promise<OwnedCollectionRow> {
    const row = await this.repo.find(id);
    if (!row) throw notFound();
    if (row.owner_id === viewerId) return row;
    if (row.visibility === 'private' || (await this.friends.isBlockedEitherWay(viewerId, row.owner_id))) {
      throw notFound();
    }
    if (row.visibility === 'friends' && !(await this.friends.areFriends(viewerId, row.owner_id))) {
      throw notFound();
    }
    return row;
  }

  /** Runs `write` in a transaction holding the collection's row lock; 404 unless the caller owns it. */
  private writeLocked<T>(
    ownerId: string,
    id: string,
    write: (trx: Kysely<DB>, row: CollectionRow) => Promise<T>,
  ): Promise<T> {
    return this.db.primary.transaction().execute(async (trx) => {
      const row = await this.repo.lock(trx, id);
      if (!row || row.owner_id !== ownerId) throw notFound();
      return write(trx, row);
    });
  }

  private async view(id: string): Promise<CollectionView> {
    const row = await this.repo.find(id);
    if (!row) throw notFound();
    return presentCollection(row, ownerOf(row));
  }

  /**
   * Up to `limit` items after `after` that the viewer may see. The owner gets every slot (a post
   * they cannot see any more comes as null, so they can remove it); others only the visible posts,
   * reading on past hidden ones until the page is full (a collection is capped, so this ends soon).
   */
  private async itemsPage(row: CollectionRow, viewerId: string, after: number, limit: number) {
    const isOwner = row.owner_id === viewerId;
    const shown: CollectionItemView[] = [];
    let position = after;
    for (;;) {
      const batch = await this.repo.itemsAfter(row.id, position, limit + 1);
      const posts = await this.posts.hydrate(
        batch.map((i) => i.post_id),
        viewerId,
      );
      const visibleIds = await this.posts.visibleTo(viewerId, [...posts.values()]);
      for (const item of batch) {
        const post = posts.get(item.post_id);
        const visible = post && visibleIds.has(post.id) ? presentPost(post) : null;
        if (visible || isOwner) shown.push(presentItem(item, visible));
        if (shown.length > limit) break;
      }
      const lastRead = batch[batch.length - 1];
      if (shown.length > limit || batch.length <= limit || !lastRead) break;
      position = lastRead.position;
    }
    return { items: shown.slice(0, limit), more: shown.length > limit };
  }
}
