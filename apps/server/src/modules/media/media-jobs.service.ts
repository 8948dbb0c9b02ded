import { createHash } from 'node:crypto';
import type { StoredVariant, VariantName } from '../../platform/db/schema-media.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';
import type { Storage } from '../../platform/storage/storage.ts';
import { type ImageProcessor, ImageRejected } from './image-processor.ts';
import type { AttachmentKind, MediaRepository } from './media.repository.ts';
import { IMMUTABLE } from './media-urls.ts';

const UNATTACHED_HOURS = 24;
const SWEEP_BATCH = 100;

/** The worker side of media: processing uploads, deleting media, sweeping abandoned uploads. */
export class MediaJobsService {
  constructor(
    private readonly repo: MediaRepository,
    private readonly storage: Storage,
    private readonly processor: ImageProcessor,
    private readonly metrics: Pick<Metrics, 'mediaProcessing'>,
    private readonly logger: Logger,
  ) {}

  /**
   * Job: re-encodes an upload into its variants, or marks it failed with a reason when the image
   * itself is refused (no retry can help). Storage or database trouble throws, and the job retries.
   */
  async process(mediaId: string): Promise<void> {
    const row = await this.repo.find(mediaId);
    if (row?.status !== 'processing') return;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let image: Awaited<ReturnType<ImageProcessor['process']>>;
    try {
      image = await this.storage.withLocalFile(row.original_key, (path) => this.processor.process(path));
    } catch (err) {
      if (!(err instanceof ImageRejected)) throw err;
      await this.repo.markFailed(mediaId, err.reason);
      await this.storage.delete([row.original_key]);
      this.metrics.mediaProcessing.observe({ outcome: 'failed' }, seconds());
      this.logger.info(
        { component: 'media', media_id: mediaId, reason: err.reason, cause: String(err.cause) },
        'image refused',
      );
      return;
    }
    if (image.frames > 1 && !image.animated) {
      this.logger.info(
        { component: 'media', media_id: mediaId, frames: image.frames },
        'animation beyond the frame or pixel cap: kept as its first frame',
      );
    }
    const variants = {} as Record<VariantName, StoredVariant>;
    for (const [name, variant] of Object.entries(image.variants) as [
      VariantName,
      (typeof image.variants)[VariantName],
    ][]) {
      const key = `${mediaId}/${name}.webp`;
      await this.storage.put(key, variant.data, { contentType: 'image/webp', cacheControl: IMMUTABLE });
      variants[name] = {
        key,
        width: variant.width,
        height: variant.height,
        bytes: variant.data.length,
        etag: createHash('sha256').update(variant.data).digest('base64url').slice(0, 22),
      };
    }
    const updated = await this.repo.markReady(mediaId, {
      width: image.width,
      height: image.height,
      animated: image.animated,
      placeholder: image.placeholder,
      variants,
    });
    // deleted (or swept) while being processed: leave nothing behind
    if (!updated) await this.storage.delete(Object.values(variants).map((v) => v.key));
    this.metrics.mediaProcessing.observe({ outcome: 'ready' }, seconds());
  }

  /** Job: deletes the media of a deleted post or a released message, bytes first. */
  async deleteAttached(kind: AttachmentKind, parentId: string): Promise<void> {
    await this.removeFiles(await this.repo.deleteAttachedTo(kind, parentId));
  }

  /** Account erasure: deletes every medium of the user, rows then bytes (call before deleting the user). */
  async deleteAllOf(userId: string): Promise<void> {
    await this.removeFiles(await this.repo.deleteOwnedBy(userId));
  }

  /** Periodic job: deletes uploads never attached within 24 h, and media whose post or message is gone. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.repo.deleteSweepable(UNATTACHED_HOURS, SWEEP_BATCH);
      await this.removeFiles(batch);
      total += batch.length;
      if (batch.length < SWEEP_BATCH) return total;
    }
  }

  /**
   * Rows go first (so nothing can attach a medium whose bytes are going), then the bytes; a crash
   * in between leaves unreferenced objects, never a reference to a missing one.
   */
  private async removeFiles(
    rows: { original_key: string; variants: Partial<Record<VariantName, StoredVariant>> }[],
  ) {
    if (rows.length === 0) return;
    await this.storage.delete(
      rows.flatMap((r) => [r.original_key, ...Object.values(r.variants).map((v) => v.key)]),
    );
  }
}
