import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { Visibility } from '../../platform/db/schema-social.ts';

/** A collection as its views need it. */
export interface CollectionRow {
  id: string;
  owner_id: string;
  title: string;
  description: string;
  visibility: Visibility;
  item_count: number;
  created_at: Date;
  updated_at: Date;
}

/** A collection with its owner's public name (owner neither banned nor deactivated). */
export interface OwnedCollectionRow extends CollectionRow {
  username: string;
  display_name: string;
}

export interface ItemRow {
  post_id: string;
  position: number;
  added_at: Date;
}

const COLUMNS = [
  'c.id',
  'c.owner_id',
  'c.title',
  'c.description',
  'c.visibility',
  'c.item_count',
  'c.created_at',
  'c.updated_at',
] as const;

/**
 * SQL for collections and their items. Every item write runs in a transaction that holds the
 * collection row's lock (`lock`), so positions stay 0..n-1 and `item_count` stays exact.
 *
 * Reads users (the users module's) in a join: a collection is shown only while its owner is live,
 * with the owner's names (one query instead of a second call per collection).
 */
export class CollectionsRepository {
  constructor(private readonly db: Db) {}

  async insert(row: {
    id: string;
    owner_id: string;
    title: string;
    description: string;
    visibility: Visibility;
  }): Promise<void> {
    await this.db.insertInto('collections').values(row).execute();
  }

  /** A collection whose owner is active (not banned, not deactivated), with the owner's names. */
  async find(id: string): Promise<OwnedCollectionRow | undefined> {
    return this.db
      .selectFrom('collections as c')
      .innerJoin('users as u', 'u.id', 'c.owner_id')
      .select([...COLUMNS, 'u.username', 'u.display_name'])
      .where('c.id', '=', id)
      .where('u.banned_at', 'is', null)
      .where('u.deactivated_at', 'is', null)
      .executeTakeFirst();
  }

  /** Locks the collection row for the rest of `trx` (every writer takes it first). */
  async lock(trx: Kysely<DB>, id: string): Promise<CollectionRow | undefined> {
    return trx
      .selectFrom('collections as c')
      .select(COLUMNS)
      .where('c.id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  async update(
    trx: Kysely<DB>,
    id: string,
    changes: { title?: string; description?: string; visibility?: Visibility },
  ): Promise<void> {
    await trx
      .updateTable('collections')
      .set({ ...changes, updated_at: sql`now()` })
      .where('id', '=', id)
      .execute();
  }

  async delete(trx: Kysely<DB>, id: string): Promise<void> {
    await trx.deleteFrom('collections').where('id', '=', id).execute();
  }

  /** An owner's collections in the given visibilities, newest first (keyset on collections_owner_idx). */
  async listByOwner(
    ownerId: string,
    visibilities: readonly Visibility[],
    before: string | undefined,
    limit: number,
  ): Promise<CollectionRow[]> {
    let query = this.db
      .selectFrom('collections as c')
      .select(COLUMNS)
      .where('c.owner_id', '=', ownerId)
      .where('c.visibility', 'in', visibilities);
    if (before) query = query.where('c.id', '<', before);
    return query
      .orderBy('c.id', 'desc')
      .limit(limit + 1)
      .execute();
  }

  /** Items after `afterPosition`, in order (on the (collection_id, position) unique index). */
  async itemsAfter(collectionId: string, afterPosition: number, limit: number): Promise<ItemRow[]> {
    return this.db
      .selectFrom('collection_items')
      .select(['post_id', 'position', 'added_at'])
      .where('collection_id', '=', collectionId)
      .where('position', '>', afterPosition)
      .orderBy('position')
      .limit(limit)
      .execute();
  }

  async findItem(trx: Kysely<DB>, collectionId: string, postId: string): Promise<ItemRow | undefined> {
    return trx
      .selectFrom('collection_items')
      .select(['post_id', 'position', 'added_at'])
      .where('collection_id', '=', collectionId)
      .where('post_id', '=', postId)
      .executeTakeFirst();
  }

  /** Every item's post id, in order. */
  async postIds(trx: Kysely<DB>, collectionId: string): Promise<string[]> {
    const rows = await trx
      .selectFrom('collection_items')
      .select('post_id')
      .where('collection_id', '=', collectionId)
      .orderBy('position')
      .execute();
    return rows.map((r) => r.post_id);
  }

  /** Inserts at `position` (≤ item count), moving the items at and after it one place down. */
  async insertItem(
    trx: Kysely<DB>,
    collectionId: string,
    postId: string,
    position: number,
  ): Promise<ItemRow> {
    // (collection_id, position) is unique DEFERRABLE INITIALLY DEFERRED: shifting in place is allowed
    await trx
      .updateTable('collection_items')
      .set({ position: sql`position + 1` })
      .where('collection_id', '=', collectionId)
      .where('position', '>=', position)
      .execute();
    const item = await trx
      .insertInto('collection_items')
      .values({ collection_id: collectionId, post_id: postId, position })
      .returning(['post_id', 'position', 'added_at'])
      .executeTakeFirstOrThrow();
    await this.bump(trx, collectionId, 1);
    return item;
  }

  /** Removes an item and closes the gap; false when the post was not in the collection. */
  async removeItem(trx: Kysely<DB>, collectionId: string, postId: string): Promise<boolean> {
    const removed = await trx
      .deleteFrom('collection_items')
      .where('collection_id', '=', collectionId)
      .where('post_id', '=', postId)
      .returning('position')
      .executeTakeFirst();
    if (!removed) return false;
    await trx
      .updateTable('collection_items')
      .set({ position: sql`position - 1` })
      .where('collection_id', '=', collectionId)
      .where('position', '>', removed.position)
      .execute();
    await this.bump(trx, collectionId, -1);
    return true;
  }

  /** Gives each item the index of its post in `postIds` (which must list exactly the items). */
  async setOrder(trx: Kysely<DB>, collectionId: string, postIds: readonly string[]): Promise<void> {
    await sql`
      UPDATE collection_items AS ci
         SET position = o.ord - 1
        FROM unnest(${postIds}::uuid[]) WITH ORDINALITY AS o(post_id, ord)
       WHERE ci.collection_id = ${collectionId}
         AND ci.post_id = o.post_id
         AND ci.position <> o.ord - 1`.execute(trx);
    await trx
      .updateTable('collections')
      .set({ updated_at: sql`now()` })
      .where('id', '=', collectionId)
      .execute();
  }

  private async bump(trx: Kysely<DB>, collectionId: string, delta: number): Promise<void> {
    await trx
      .updateTable('collections')
      .set({ item_count: sql`item_count + ${delta}`, updated_at: sql`now()` })
      .where('id', '=', collectionId)
      .execute();
  }
}
