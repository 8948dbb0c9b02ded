import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertStorageKey, type ObjectInfo, type PutOptions, type Storage } from './storage.ts';
import { storageFailure } from './storage-errors.ts';

/**
 * Objects as files under one root directory (`DATA_DIR/media`). The content type is not kept
 * beside the file: every key ends in the extension of what the server wrote there.
 */
export class DiskStorage implements Storage {
  readonly kind = 'disk' as const;
  constructor(private readonly root: string) {}

  /**
   * Written to a `.partial` file renamed into place once complete: a failure (the disk full, or the
   * client's bytes refused) removes it, so no reader ever sees half an object. A failure of the
   * disk is thrown as a StorageError; one of the body (MEDIA_TOO_LARGE…) as it is.
   */
  async put(key: string, body: Readable | Buffer, _options: PutOptions): Promise<{ size: number }> {
    const path = this.path(key);
    const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    // Which side failed first: pipeline() then destroys every stream with that same error.
    let failed: 'body' | 'disk' | undefined;
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    source.once('error', () => {
      failed ??= 'body';
    });
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((err) => {
        failed ??= 'disk';
        throw err;
      });
      const file = createWriteStream(partial, { mode: 0o600 });
      file.once('error', () => {
        failed ??= 'disk';
      });
      await pipeline(source, count, file);
      await rename(partial, path).catch((err) => {
        failed ??= 'disk';
        throw err;
      });
    } catch (err) {
      await rm(partial, { force: true }).catch(() => {});
      await rmdir(dirname(path)).catch(() => {});
      throw failed === 'disk' ? storageFailure(err, 'put') : err;
    }
    return { size };
  }

  async read(key: string, range?: { start: number; end: number }) {
    const info = await this.head(key);
    if (!info) return undefined;
    return { ...info, body: createReadStream(this.path(key), range) as Readable };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.path(key));
      return { size: info.size, contentType: contentTypeOf(key) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storageFailure(err, 'head');
    }
  }

  async withLocalFile<T>(key: string, fn: (path: string) => Promise<T>): Promise<T> {
    return fn(this.path(key));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      await rm(this.path(key), { force: true }).catch((err) => {
        throw storageFailure(err, 'delete');
      });
      if (key.includes('/')) dirs.add(dirname(this.path(key)));
    }
    // a medium's directory goes with its last file
    for (const dir of dirs) await rmdir(dir).catch(() => {});
  }

  async close(): Promise<void> {}

  private path(key: string): string {
    assertStorageKey(key);
    return join(this.root, key);
  }
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.webp')) return 'image/webp';
  return 'application/octet-stream';
}
