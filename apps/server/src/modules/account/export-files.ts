import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../platform/errors.ts';

const KEY = /^[a-f0-9]{32}\.json$/;

/**
 * Export archives on local disk under one directory, by server-generated names. (The media issue's
 * storage adapter can take this over for S3; the interface is write, open and delete by key.)
 */
export class ExportFiles {
  constructor(private readonly dir: string) {}

  /** Streams `chunks` into a new file (visible only once complete); returns its key and size. */
  async write(chunks: AsyncIterable<string>): Promise<{ key: string; size: number }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const key = `${randomBytes(16).toString('hex')}.json`;
    const partial = join(this.dir, `${key}.partial`);
    try {
      await pipeline(Readable.from(chunks), createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, join(this.dir, key));
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    return { key, size: (await stat(join(this.dir, key))).size };
  }

  /** A stream of the file; NOT_FOUND when it is gone. */
  async open(key: string): Promise<ReadStream> {
    const path = this.path(key);
    try {
      await stat(path);
    } catch {
      throw new AppError('NOT_FOUND', 'The export file is gone.');
    }
    return createReadStream(path);
  }

  /** Deletes a file; one already gone is fine. */
  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`not an export file key: ${key}`);
    return join(this.dir, key);
  }
}
