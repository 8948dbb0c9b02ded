import { type Kysely, type Selectable, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type {
  MediaFailure,
  MediaMime,
  MediaTable,
  StoredVariant,
  VariantName,
} from '../../platform/db/schema-media.ts';

export type MediaRow = Selectable<MediaTable>;
export type AttachmentKind = 'post' | 'message';

/** A ready medium as a post or message shows it (aggregated in the post's own query). */
export interface AttachedMediaRow {
  id: string;
  alt: string;
  width: number;
  height: number;
  animated: boolean;
  placeholder: string | null;
  variants: Partial<Record<VariantName, StoredVariant>>;
}

/** What serving a variant needs: the variants, and whether the medium is on a live public post. */
export interface ServableRow {
  id: string;
  status: MediaRow['status'];
  variants: Partial<Record<VariantName, StoredVariant>>;
  public: boolean;
}

/** JSON of a ready medium for an attachment list, ordered by position (SQL fragment). */
export const attachedMediaJson = (alias: string) =>
  sql.raw(`json_build_object('id', ${alias}.id, 'alt', ${alias}.alt, 'width', ${alias}.width,
    'height', ${alias}.height, 'animated', ${alias}.animated, 'placeholder', ${alias}.placeholder,
    'variants', ${alias}.variants)`);

/**
 * SQL for media, post_media and message_media.
 *
 * Reads posts (the posts module's) in a join: a medium attached to a live public post is served
 * without a signed URL, decided in the one query that finds the medium.
 */
export class MediaRepository {
  constructor(private readonly db: Db) {}

  async insert(
    trx: Kysely<DB>,
    row: {
      id: string;
      owner_id: string;
      status: 'uploading' | 'processing';
      mime_type: MediaMime | null;
      file_name: string;
      original_key: string;
      original_bytes: number;
    },
  ): Promise<void> {
    await trx
      .insertInto('media')
      .values({ ...row, stored_bytes: row.original_bytes, variants: '{}' })
      .execute();
  }

  find(id: string, db: Kysely<DB> = this.db): Promise<MediaRow | undefined> {
    return db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Serialises a user's quota checks (transaction-scoped), then returns the bytes they use. */
  async lockedUsage(trx: Kysely<DB>, ownerId: string): Promise<number> {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`media-quota:${ownerId}`}, 0))`.execute(trx);
    return this.usage(ownerId, trx);
  }

  async usage(ownerId: string, db: Kysely<DB> = this.db): Promise<number> {
    const row = await db
      .selectFrom('media')
      .select(sql<string>`coalesce(sum(stored_bytes), 0)`.as('bytes'))
      .where('owner_id', '=', ownerId)
      .executeTakeFirstOrThrow();
    return Number(row.bytes);
  }

  /** Moves an uploading medium to processing once its bytes are known to be an allowed image. */
  async markUploaded(trx: Kysely<DB>, id: string, mime: MediaMime): Promise<boolean> {
    const res = await trx
      .updateTable('media')
      .set({ status: 'processing', mime_type: mime })
      .where('id', '=', id)
      .where('status', '=', 'uploading')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  async markReady(
    id: string,
    done: {
      width: number;
      height: number;
      animated: boolean;
      placeholder: string;
      variants: Record<VariantName, StoredVariant>;
    },
  ): Promise<boolean> {
    const variantBytes = Object.values(done.variants).reduce((sum, v) => sum + v.bytes, 0);
    const res = await this.db
      .updateTable('media')
      .set({
        status: 'ready',
        width: done.width,
        height: done.height,
        animated: done.animated,
        placeholder: done.placeholder,
        variants: JSON.stringify(done.variants),
        stored_bytes: sql`original_bytes + ${variantBytes}`,
        processed_at: sql`now()`,
      })
      .where('id', '=', id)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** A failed medium keeps no bytes (its original is deleted). */
  async markFailed(id: string, reason: MediaFailure): Promise<void> {
    await this.db
      .updateTable('media')
      .set({ status: 'failed', failure_reason: reason, stored_bytes: 0, processed_at: sql`now()` })
      .where('id', '=', id)
      .where('status', 'in', ['uploading', 'processing'])
      .execute();
  }

  async updateAlt(id: string, ownerId: string, alt: string): Promise<boolean> {
    const res = await this.db
      .updateTable('media')
      .set({ alt })
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n;
  }

  /** The ids among `ids` that `ownerId` may attach now (own, ready, unattached), locked. */
  async lockAttachable(trx: Kysely<DB>, ownerId: string, ids: readonly string[]): Promise<string[]> {
    const rows = await trx
      .selectFrom('media')
      .select('id')
      .where('id', 'in', ids)
      .where('owner_id', '=', ownerId)
      .where('status', '=', 'ready')
      .where('attached_kind', 'is', null)
      .forUpdate()
      .execute();
    return rows.map((r) => r.id);
  }

  async attach(trx: Kysely<DB>, kind: AttachmentKind, parentId: string, ids: readonly string[]) {
    await trx
      .updateTable('media')
      .set({ attached_kind: kind, attached_at: sql`now()` })
      .where('id', 'in', ids)
      .execute();
    const rows = ids.map((media_id, position) => ({ media_id, position }));
    if (kind === 'post') {
      await trx
        .insertInto('post_media')
        .values(rows.map((r) => ({ ...r, post_id: parentId })))
        .execute();
    } else {
      await trx
        .insertInto('message_media')
        .values(rows.map((r) => ({ ...r, message_id: parentId })))
        .execute();
    }
  }

  /** Where a medium is attached: the post (with its access facts) or the message. */
  async attachmentOf(mediaId: string) {
    return this.db
      .selectFrom('media as m')
      .leftJoin('post_media as pm', 'pm.media_id', 'm.id')
      .leftJoin('message_media as mm', 'mm.media_id', 'm.id')
      .select(['pm.post_id', 'mm.message_id'])
      .where('m.id', '=', mediaId)
      .executeTakeFirst();
  }

  async findServable(id: string): Promise<ServableRow | undefined> {
    return this.db
      .selectFrom('media as m')
      .select(['m.id', 'm.status', 'm.variants'])
      .select((eb) =>
        eb
          .exists(
            eb
              .selectFrom('post_media as pm')
              .innerJoin('posts as p', 'p.id', 'pm.post_id')
              .select('pm.post_id')
              .whereRef('pm.media_id', '=', 'm.id')
              .where('p.visibility', '=', 'public')
              .where('p.deleted_at', 'is', null),
          )
          .$castTo<boolean>()
          .as('public'),
      )
      .where('m.id', '=', id)
      .executeTakeFirst();
  }

  /** Whether the medium is on a live public post (its URLs need no signature). */
  async isPublic(id: string): Promise<boolean> {
    return (await this.findServable(id))?.public ?? false;
  }

  /** Attachments of messages in one query, in position order. */
  async attachedToMessages(messageIds: readonly string[]): Promise<Map<string, AttachedMediaRow[]>> {
    if (messageIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('message_media as mm')
      .innerJoin('media as m', 'm.id', 'mm.media_id')
      .select([
        'mm.message_id',
        'm.id',
        'm.alt',
        'm.width',
        'm.height',
        'm.animated',
        'm.placeholder',
        'm.variants',
      ])
      .where('mm.message_id', 'in', messageIds)
      .orderBy('mm.message_id')
      .orderBy('mm.position')
      .execute();
    const out = new Map<string, AttachedMediaRow[]>();
    for (const { message_id, ...row } of rows) {
      const list = out.get(message_id) ?? [];
      list.push(row as AttachedMediaRow);
      out.set(message_id, list);
    }
    return out;
  }

  /**
   * Deletes (and returns) up to `limit` media to sweep: never attached and older than
   * `olderThanHours`, or attached to something that no longer exists (a post erased with its
   * author, a message gone without releasing its media). Rows being attached right now are locked
   * by the attaching transaction and skipped.
   */
  async deleteSweepable(olderThanHours: number, limit: number) {
    const victims = this.db
      .selectFrom('media as m')
      .select('m.id')
      .where((eb) =>
        eb.or([
          eb.and([
            eb('m.attached_kind', 'is', null),
            eb('m.created_at', '<', sql<Date>`now() - make_interval(hours => ${olderThanHours})`),
          ]),
          eb.and([
            eb('m.attached_kind', '=', 'post'),
            eb.not(
              eb.exists(
                eb.selectFrom('post_media as pm').select('pm.media_id').whereRef('pm.media_id', '=', 'm.id'),
              ),
            ),
          ]),
          eb.and([
            eb('m.attached_kind', '=', 'message'),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('message_media as mm')
                  .select('mm.media_id')
                  .whereRef('mm.media_id', '=', 'm.id'),
              ),
            ),
          ]),
        ]),
      )
      .orderBy('m.created_at')
      .limit(limit)
      .forUpdate()
      .skipLocked();
    return this.db
      .deleteFrom('media')
      .where('id', 'in', victims)
      .returning(['id', 'original_key', 'variants'])
      .execute();
  }

  /** Deletes (and returns) every medium of a user (account erasure). */
  async deleteOwnedBy(ownerId: string) {
    return this.db
      .deleteFrom('media')
      .where('owner_id', '=', ownerId)
      .returning(['id', 'original_key', 'variants'])
      .execute();
  }

  /** Deletes (and returns) the media of a post or message. */
  async deleteAttachedTo(kind: AttachmentKind, parentId: string) {
    const ids =
      kind === 'post'
        ? this.db.selectFrom('post_media').select('media_id').where('post_id', '=', parentId)
        : this.db.selectFrom('message_media').select('media_id').where('message_id', '=', parentId);
    return this.db
      .deleteFrom('media')
      .where('id', 'in', ids)
      .returning(['id', 'original_key', 'variants'])
      .execute();
  }

  async deleteUnattached(id: string, ownerId: string): Promise<MediaRow | undefined> {
    return this.db
      .deleteFrom('media')
      .where('id', '=', id)
      .where('owner_id', '=', ownerId)
      .where('attached_kind', 'is', null)
      .returningAll()
      .executeTakeFirst();
  }

  async queueDepth(): Promise<number> {
    const row = await this.db
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'processing')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async bytesStored(): Promise<number> {
    const row = await this.db
      .selectFrom('media')
      .select(sql<string>`coalesce(sum(stored_bytes), 0)`.as('bytes'))
      .executeTakeFirstOrThrow();
    return Number(row.bytes);
  }
}
