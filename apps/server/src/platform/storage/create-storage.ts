import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { DiskStorage } from './disk-storage.ts';
import { S3Storage } from './s3-storage.ts';
import type { Storage } from './storage.ts';

/** S3 when S3_BUCKET is set, otherwise files under DATA_DIR/media. Nothing is created until used. */
export function createStorage(config: Pick<Config, 's3' | 'dataDir'>): Storage {
  return config.s3 ? new S3Storage(config.s3) : new DiskStorage(join(config.dataDir, 'media'));
}
