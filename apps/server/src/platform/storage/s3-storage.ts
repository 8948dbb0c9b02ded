import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../../config.ts';
import {
  assertStorageKey,
  type ObjectInfo,
  type PutOptions,
  type SignedGetOptions,
  type Storage,
} from './storage.ts';
import { storageFailure } from './storage-errors.ts';

type S3Config = NonNullable<Config['s3']>;

/** A store that does not accept a connection by then is unreachable (the SDK's default is none). */
const CONNECT_TIMEOUT_MS = 3_000;
/** A socket that carries nothing for this long is given up (a hung store must not hold uploads forever). */
const IDLE_TIMEOUT_MS = 15_000;

const isMissing = (err: unknown) =>
  err instanceof S3ServiceException &&
  (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);

/**
 * Objects in an S3 bucket. A stream of unknown length is spooled to a temporary file first, so
 * that the upload has a Content-Length and no more than a socket buffer is ever held in memory.
 */
export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(config: S3Config) {
    this.bucket = config.bucket;
    this.client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      // checksums only where S3 requires them: the default (aws-chunked bodies with trailing
      // CRCs) is not understood by every S3-compatible store
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: IDLE_TIMEOUT_MS },
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.accessKeyId && config.secretAccessKey
        ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
        : {}),
    });
  }

  /**
   * A failure of the store (or of the local spool) is thrown as a StorageError, one of the body
   * (MEDIA_TOO_LARGE…) as it is. S3 keeps no part of a failed PUT, but an S3-compatible store may
   * (s3rver leaves the bytes it wrote before its disk filled): the key is deleted, best effort.
   */
  async put(key: string, body: Readable | Buffer, options: PutOptions): Promise<{ size: number }> {
    assertStorageKey(key);
    const send = async (Body: Readable | Buffer, ContentLength: number) => {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body,
            ContentLength,
            ContentType: options.contentType,
            ...(options.cacheControl ? { CacheControl: options.cacheControl } : {}),
          }),
        );
      } catch (err) {
        // a store that answered (any HTTP status) may have kept a part; one that did not answer is
        // not asked again
        const answered = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (answered !== undefined) await this.delete([key]).catch(() => {});
        throw storageFailure(err, 'put');
      }
    };
    if (Buffer.isBuffer(body)) {
      await send(body, body.length);
      return { size: body.length };
    }
    const dir = await mkdtemp(join(tmpdir(), 'kith-s3-')).catch((err) => {
      throw storageFailure(err, 'put');
    });
    try {
      const file = join(dir, 'spool');
      // which side failed first: pipeline() then destroys both streams with that same error
      let failed: 'body' | 'spool' | undefined;
      body.once('error', () => {
        failed ??= 'body';
      });
      const spool = createWriteStream(file, { mode: 0o600 });
      spool.once('error', () => {
        failed ??= 'spool';
      });
      await pipeline(body, spool).catch((err) => {
        throw failed === 'spool' ? storageFailure(err, 'put') : err;
      });
      const { size } = await stat(file);
      await send(createReadStream(file), size);
      return { size };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async read(key: string, range?: { start: number; end: number }) {
    assertStorageKey(key);
    try {
      const res = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return {
        size: res.ContentLength ?? 0,
        contentType: res.ContentType ?? 'application/octet-stream',
        body: res.Body as Readable,
      };
    } catch (err) {
      if (isMissing(err) || (err as { name?: string }).name === 'InvalidRange') return undefined;
      throw storageFailure(err, 'read');
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertStorageKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: res.ContentLength ?? 0, contentType: res.ContentType ?? 'application/octet-stream' };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storageFailure(err, 'head');
    }
  }

  async withLocalFile<T>(key: string, fn: (path: string) => Promise<T>): Promise<T> {
    const object = await this.read(key);
    if (!object) throw new Error(`storage object missing: ${key}`);
    const dir = await mkdtemp(join(tmpdir(), 'kith-s3-'));
    try {
      const file = join(dir, 'object');
      // the download cut short, or the local disk full: either way a failure of storage
      await pipeline(object.body, createWriteStream(file, { mode: 0o600 })).catch((err) => {
        throw storageFailure(err, 'read');
      });
      return await fn(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertStorageKey(key);
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      await this.client
        .send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        )
        .catch((err) => {
          throw storageFailure(err, 'delete');
        });
    }
  }

  async presignPut(key: string, options: { size: number; contentType: string; expiresIn: number }) {
    assertStorageKey(key);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ContentLength: options.size,
      ContentType: options.contentType,
    });
    // Content-Length and Content-Type are signed: S3 refuses a body of any other size.
    const url = await getSignedUrl(this.client, command, {
      expiresIn: options.expiresIn,
      signableHeaders: new Set(['content-length', 'content-type']),
    });
    return { url, headers: { 'Content-Type': options.contentType, 'Content-Length': String(options.size) } };
  }

  async presignGet(key: string, options: SignedGetOptions): Promise<string> {
    assertStorageKey(key);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: options.contentType,
      ResponseContentDisposition: options.contentDisposition,
      ResponseCacheControl: options.cacheControl,
    });
    return getSignedUrl(this.client, command, {
      expiresIn: options.expiresIn,
      ...(options.signedAt ? { signingDate: options.signedAt } : {}),
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
