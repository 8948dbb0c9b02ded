import { join } from 'node:path';
import type { Platform } from '../../platform/platform.ts';
import { createStorage } from '../../platform/storage/create-storage.ts';
import { observedStorage } from '../../platform/storage/observed-storage.ts';
import { loadSigningSecret } from '../../platform/storage/signing-secret.ts';
import type { Storage } from '../../platform/storage/storage.ts';
import { UrlSigner } from '../../platform/storage/url-signer.ts';
import { ImageProcessor } from './image-processor.ts';
import { MediaRepository } from './media.repository.ts';
import { MediaService, type PostAccess } from './media.service.ts';
import { MediaFilesService } from './media-files.service.ts';
import { MediaJobsService } from './media-jobs.service.ts';
import { MediaUrls } from './media-urls.ts';

const BYTES_STORED_CACHE_MS = 60_000;

/**
 * The media module's services, with the process's one storage client and URL-signing secret (built
 * once, by the composition root, for routes and jobs alike).
 */
export function buildMediaServices(platform: Platform, posts: PostAccess) {
  const { config, metrics } = platform;
  const storage: Storage = observedStorage(createStorage(config), {
    operations: metrics.mediaStorageOperations,
    health: platform.storageHealth,
    logger: platform.logger,
  });
  const signer = loadSigningSecret(
    config.media.signingSecret,
    // tests get a secret per process instead of writing under a data directory
    config.env === 'test' ? undefined : join(config.dataDir, 'keys'),
  ).then((secret) => new UrlSigner(secret));
  // an unreadable key file surfaces on first use; do not let it become an unhandled rejection
  signer.catch(() => {});
  const repo = new MediaRepository(platform.db.primary);
  const urls = new MediaUrls(storage, signer, config.media.urlTtlSeconds);
  const media = new MediaService(
    platform.db,
    repo,
    storage,
    urls,
    posts,
    { maxBytes: config.media.maxBytes, quotaBytes: config.media.quotaBytes },
    metrics,
  );
  const processor = new ImageProcessor({
    maxPixels: config.media.maxPixels,
    maxFrames: config.media.maxFrames,
    concurrency: config.media.processConcurrency,
  });
  const jobs = new MediaJobsService(repo, storage, processor, metrics, platform.logger);
  const files = new MediaFilesService(repo, storage, signer);

  metrics.mediaSources.queueDepth = () => repo.queueDepth();
  // a sum over every medium: cached, so scrapes stay cheap
  let bytes: { value: number; at: number } | undefined;
  metrics.mediaSources.bytesStored = async () => {
    if (!bytes || Date.now() - bytes.at > BYTES_STORED_CACHE_MS) {
      bytes = { value: await repo.bytesStored(), at: Date.now() };
    }
    return bytes.value;
  };
  return { media, files, jobs, storage };
}

export type MediaServices = ReturnType<typeof buildMediaServices>;
