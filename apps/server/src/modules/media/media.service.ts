import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { Database } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { MediaMime, VariantName } from '../../platform/db/schema-media.ts';
import { AppError } from '../../platform/errors.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { Storage } from '../../platform/storage/storage.ts';
import { StorageError } from '../../platform/storage/storage-errors.ts';
import { sanitizeFileName } from './file-name.ts';
import type { AttachedMediaRow, AttachmentKind, MediaRepository, MediaRow } from './media.repository.ts';
import type { MediaAttachmentView, MediaView } from './media.schema.ts';
import type { MediaUrls } from './media-urls.ts';
import { guardedUpload, SNIFF_BYTES, sniffImage } from './sniff.ts';

const VARIANTS: readonly VariantName[] = ['thumb', 'large'];
const DIRECT_UPLOAD_TTL_SECONDS = 15 * 60;

/** Who may see what a medium is attached to (the posts and chat modules answer). */
export interface PostAccess {
  canSeePost(viewerId: string, postId: string): Promise<boolean>;
}
export interface MessageAccess {
  canSeeMessage(viewerId: string, messageId: string): Promise<boolean>;
}

/** An upload streamed into storage, not yet recorded: commit or discard it. */
export interface ReceivedUpload {
  id: string;
  key: string;
  size: number;
  mime: MediaMime;
  fileName: string;
}

export interface MediaLimits {
  maxBytes: number;
  quotaBytes: number;
}

/**
 * Media: uploads (streamed through Kith, or direct to S3), their views and signed URLs, and
 * attaching them to posts and messages. Processing and deletion are jobs (media-jobs.service.ts).
 */
export class MediaService {
  /** Set by the chat module so that conversation members can see a message's media. */
  messages: MessageAccess | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: MediaRepository,
    private readonly storage: Storage,
    private readonly urls: MediaUrls,
    private readonly posts: PostAccess,
    private readonly limits: MediaLimits,
    private readonly metrics: Pick<Metrics, 'mediaUploads'>,
  ) {}

  /** Refuses an upload before its body is read when the owner's quota is already full. */
  async assertRoom(ownerId: string, size = 0): Promise<void> {
    if ((await this.repo.usage(ownerId)) + size > this.limits.quotaBytes) {
      throw new AppError('MEDIA_QUOTA_EXCEEDED');
    }
  }

  /**
   * Streams one file into storage under a new server-generated key, checking its size and its
   * type (from the bytes) on the way; the caller then commits or discards it.
   */
  async receive(file: {
    stream: AsyncIterable<Buffer>;
    fileName: string | undefined;
  }): Promise<ReceivedUpload> {
    const id = uuidv7();
    const key = `${id}/original`;
    let mime: MediaMime | undefined;
    const body = guardedUpload(file.stream, this.limits.maxBytes, (type) => {
      mime = type;
    });
    const { size } = await this.storage.put(key, body, { contentType: 'application/octet-stream' });
    if (!mime) throw new Error('upload stored without a sniffed type');
    return { id, key, size, mime, fileName: sanitizeFileName(file.fileName) };
  }

  /** Records a received upload and queues its processing (within the owner's quota). */
  async commit(ownerId: string, upload: ReceivedUpload): Promise<{ id: string; status: 'processing' }> {
    try {
      await this.db.primary.transaction().execute(async (trx) => {
        if ((await this.repo.lockedUsage(trx, ownerId)) + upload.size > this.limits.quotaBytes) {
          throw new AppError('MEDIA_QUOTA_EXCEEDED');
        }
        await this.repo.insert(trx, {
          id: upload.id,
          owner_id: ownerId,
          status: 'processing',
          mime_type: upload.mime,
          file_name: upload.fileName,
          original_key: upload.key,
          original_bytes: upload.size,
        });
        await enqueue(trx, 'media.process', { mediaId: upload.id });
      });
    } catch (err) {
      await this.discard(upload);
      throw err;
    }
    this.metrics.mediaUploads.inc({ outcome: 'accepted' });
    return { id: upload.id, status: 'processing' };
  }

  async discard(upload: Pick<ReceivedUpload, 'key'>): Promise<void> {
    await this.storage.delete([upload.key]);
  }

  /** Counts a refused upload by the reason it was refused. */
  countRefusal(err: unknown): void {
    if (err instanceof StorageError) {
      this.metrics.mediaUploads.inc({ outcome: `storage_${err.kind}` });
      return;
    }
    const code = err instanceof AppError ? err.code : undefined;
    const outcome =
      code === 'MEDIA_TOO_LARGE' || code === 'TOO_MANY_PARTS'
        ? 'too_large'
        : code === 'UNSUPPORTED_IMAGE'
          ? 'unsupported'
          : code === 'MEDIA_QUOTA_EXCEEDED'
            ? 'quota'
            : code
              ? 'invalid'
              : 'error';
    this.metrics.mediaUploads.inc({ outcome });
  }

  /** Scaled shape: a presigned PUT straight to S3 for exactly `size` bytes; then `complete`. */
  async createDirectUpload(ownerId: string, input: { size: number; fileName?: string | undefined }) {
    if (!this.storage.presignPut) throw new AppError('DIRECT_UPLOAD_UNAVAILABLE');
    if (input.size > this.limits.maxBytes) {
      throw new AppError('MEDIA_TOO_LARGE', `The file is larger than ${this.limits.maxBytes} bytes.`);
    }
    const id = uuidv7();
    const key = `${id}/original`;
    await this.db.primary.transaction().execute(async (trx) => {
      // the declared size is reserved against the quota until the upload completes or is swept
      if ((await this.repo.lockedUsage(trx, ownerId)) + input.size > this.limits.quotaBytes) {
        throw new AppError('MEDIA_QUOTA_EXCEEDED');
      }
      await this.repo.insert(trx, {
        id,
        owner_id: ownerId,
        status: 'uploading',
        mime_type: null,
        file_name: sanitizeFileName(input.fileName),
        original_key: key,
        original_bytes: input.size,
      });
    });
    const expiresAt = new Date(Date.now() + DIRECT_UPLOAD_TTL_SECONDS * 1000);
    const signed = await this.storage.presignPut(key, {
      size: input.size,
      contentType: 'application/octet-stream',
      expiresIn: DIRECT_UPLOAD_TTL_SECONDS,
    });
    return {
      id,
      status: 'uploading' as const,
      upload: {
        method: 'PUT' as const,
        url: signed.url,
        headers: signed.headers,
        expiresAt: expiresAt.toISOString(),
      },
    };
  }

  /** The client says its direct upload is done: check the object's size and bytes, then process it. */
  async complete(ownerId: string, id: string): Promise<{ id: string; status: 'processing' }> {
    const row = await this.repo.find(id);
    if (!row || row.owner_id !== ownerId) throw new AppError('NOT_FOUND', 'No such upload.');
    if (row.status === 'processing' || row.status === 'ready') return { id, status: 'processing' };
    if (row.status !== 'uploading') throw new AppError('CONFLICT', 'This upload has failed.');
    const info = await this.storage.head(row.original_key);
    if (!info || info.size !== Number(row.original_bytes)) throw new AppError('UPLOAD_INCOMPLETE');
    const head = await this.storage.read(row.original_key, { start: 0, end: SNIFF_BYTES - 1 });
    const chunks: Buffer[] = [];
    for await (const chunk of head?.body ?? []) chunks.push(chunk as Buffer);
    const mime = await sniffImage(Buffer.concat(chunks));
    if (!mime) {
      await this.storage.delete([row.original_key]);
      await this.repo.markFailed(id, 'unsupported');
      this.metrics.mediaUploads.inc({ outcome: 'unsupported' });
      throw new AppError('UNSUPPORTED_IMAGE');
    }
    await this.db.primary.transaction().execute(async (trx) => {
      if (await this.repo.markUploaded(trx, id, mime)) await enqueue(trx, 'media.process', { mediaId: id });
    });
    this.metrics.mediaUploads.inc({ outcome: 'accepted' });
    return { id, status: 'processing' };
  }

  /** A medium: its owner sees it in any state; others only through a post or message they can see. */
  async get(viewerId: string, id: string): Promise<MediaView> {
    const row = await this.repo.find(id);
    const isOwner = row?.owner_id === viewerId;
    if (!row || (!isOwner && !(await this.canSeeAttached(viewerId, row)))) {
      throw new AppError('NOT_FOUND', 'No such media.');
    }
    return this.present(row, isOwner);
  }

  async updateAlt(ownerId: string, id: string, alt: string): Promise<MediaView> {
    if (!(await this.repo.updateAlt(id, ownerId, alt))) throw new AppError('NOT_FOUND', 'No such media.');
    return this.get(ownerId, id);
  }

  /** Deletes one of the owner's uploads that is attached nowhere (attached ones go with their post). */
  async delete(ownerId: string, id: string): Promise<void> {
    const row = await this.repo.deleteUnattached(id, ownerId);
    if (!row) {
      const existing = await this.repo.find(id);
      if (existing?.owner_id === ownerId)
        throw new AppError('CONFLICT', 'Delete the post or message instead.');
      throw new AppError('NOT_FOUND', 'No such media.');
    }
    await this.storage.delete([row.original_key, ...Object.values(row.variants).map((v) => v.key)]);
  }

  /**
   * In the post's creating transaction: attaches the author's own ready, unattached media in order.
   * MEDIA_NOT_ATTACHABLE (400) when any id is not one of those (another user's included).
   */
  attachToPost(trx: Kysely<DB>, ownerId: string, postId: string, mediaIds: readonly string[]): Promise<void> {
    return this.attach(trx, 'post', ownerId, postId, mediaIds);
  }

  /** The same for a chat message, in the message's creating transaction. */
  claimForMessage(
    trx: Kysely<DB>,
    senderId: string,
    messageId: string,
    mediaIds: readonly string[],
  ): Promise<void> {
    return this.attach(trx, 'message', senderId, messageId, mediaIds);
  }

  /** In the post's deleting transaction: its media are deleted by a job once it commits. */
  releaseForPost(trx: Kysely<DB>, postId: string): Promise<void> {
    return enqueue(trx, 'media.delete-attached', { kind: 'post', parentId: postId });
  }

  /** In the message's deleting transaction: the same for a message. */
  releaseForMessage(trx: Kysely<DB>, messageId: string): Promise<void> {
    return enqueue(trx, 'media.delete-attached', { kind: 'message', parentId: messageId });
  }

  /** Attachments as a post shows them: immutable URLs on a public post, signed ones otherwise. */
  async presentAttachments(
    rows: readonly AttachedMediaRow[],
    isPublic: boolean,
  ): Promise<MediaAttachmentView[]> {
    return Promise.all(rows.map((row) => this.presentAttachment(row, isPublic)));
  }

  /** Attachments of chat messages (always signed URLs), in one query; messages without any are absent. */
  async attachmentsOfMessages(messageIds: readonly string[]): Promise<Map<string, MediaAttachmentView[]>> {
    const rows = await this.repo.attachedToMessages(messageIds);
    const out = new Map<string, MediaAttachmentView[]>();
    for (const [messageId, list] of rows) out.set(messageId, await this.presentAttachments(list, false));
    return out;
  }

  private async attach(
    trx: Kysely<DB>,
    kind: AttachmentKind,
    ownerId: string,
    parentId: string,
    mediaIds: readonly string[],
  ): Promise<void> {
    if (mediaIds.length === 0) return;
    const attachable = new Set(await this.repo.lockAttachable(trx, ownerId, mediaIds));
    const refused = mediaIds.filter((id) => !attachable.has(id));
    if (refused.length > 0 || new Set(mediaIds).size !== mediaIds.length) {
      throw new AppError('MEDIA_NOT_ATTACHABLE', undefined, { mediaIds: refused });
    }
    await this.repo.attach(trx, kind, parentId, mediaIds);
  }

  private async canSeeAttached(viewerId: string, row: MediaRow): Promise<boolean> {
    if (row.status !== 'ready' || !row.attached_kind) return false;
    const at = await this.repo.attachmentOf(row.id);
    if (at?.post_id) return this.posts.canSeePost(viewerId, at.post_id);
    if (at?.message_id && this.messages) return this.messages.canSeeMessage(viewerId, at.message_id);
    return false;
  }

  private async present(row: MediaRow, isOwner: boolean): Promise<MediaView> {
    const ready = row.status === 'ready' && row.width !== null && row.height !== null;
    const attachment = ready
      ? await this.presentAttachment(
          {
            id: row.id,
            alt: row.alt,
            width: row.width!,
            height: row.height!,
            animated: row.animated,
            placeholder: row.placeholder,
            variants: row.variants,
          },
          row.attached_kind === 'post' && (await this.repo.isPublic(row.id)),
        )
      : undefined;
    return {
      id: row.id,
      status: row.status,
      failureReason: row.failure_reason,
      mimeType: row.mime_type,
      fileName: isOwner ? row.file_name : '',
      alt: row.alt,
      width: row.width,
      height: row.height,
      animated: row.animated,
      placeholder: row.placeholder,
      variants: attachment?.variants ?? null,
      urlsExpireAt: attachment?.urlsExpireAt ?? null,
      attached: row.attached_kind !== null,
      createdAt: row.created_at.toISOString(),
    };
  }

  private async presentAttachment(row: AttachedMediaRow, isPublic: boolean): Promise<MediaAttachmentView> {
    let expires: number | undefined;
    const variants = {} as MediaAttachmentView['variants'];
    for (const name of VARIANTS) {
      const stored = row.variants[name];
      if (!stored) throw new Error(`media ${row.id} is ready without its ${name} variant`);
      const signed = await this.urls.variant(row.id, name, stored, isPublic);
      if (signed.expires !== undefined) expires = Math.min(expires ?? signed.expires, signed.expires);
      variants[name] = { url: signed.url, width: stored.width, height: stored.height };
    }
    return {
      id: row.id,
      alt: row.alt,
      width: row.width,
      height: row.height,
      animated: row.animated,
      placeholder: row.placeholder,
      variants,
      urlsExpireAt: expires === undefined ? null : new Date(expires * 1000).toISOString(),
    };
  }
}
