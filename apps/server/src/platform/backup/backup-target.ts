import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Config } from '../../config.ts';
import { BACKUP_NAME, MANIFEST_FILE } from './manifest.ts';

/** Bytes and SHA-256 of what went through. */
export interface Written {
  bytes: number;
  sha256: string;
}

/** One backup being written: files go to a temporary place until `commit()`. */
export interface BackupWriter {
  write(file: string, body: Readable): Promise<Written>;
  /** Makes the backup visible (the manifest must have been written); returns its location. */
  commit(): Promise<string>;
  abort(): Promise<void>;
}

/** Where backups live: a directory or an S3 prefix. */
export interface BackupTarget {
  readonly kind: 'disk' | 's3';
  /** The location string of backup `name` (what `npm run restore -- --from` takes). */
  locationOf(name: string): string;
  begin(name: string): Promise<BackupWriter>;
  /** Complete backups (with a manifest), oldest first. */
  list(): Promise<string[]>;
  read(name: string, file: string): Promise<Readable>;
  remove(name: string): Promise<void>;
  close(): void;
}

/** A stream that hashes and counts what passes through it. */
export function hashing(): Transform & { result(): Written } {
  const hash = createHash('sha256');
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { result(): Written };
  t.result = () => ({ bytes, sha256: hash.digest('hex') });
  return t;
}

/** SHA-256 and size of a whole stream. */
export async function digest(body: Readable): Promise<Written> {
  const h = hashing();
  await pipeline(body, h, new PassThrough().resume());
  return h.result();
}

class DiskTarget implements BackupTarget {
  readonly kind = 'disk';
  constructor(private readonly dir: string) {}

  locationOf(name: string) {
    return join(this.dir, name);
  }

  async begin(name: string): Promise<BackupWriter> {
    const partial = join(this.dir, `.partial-${name}`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const final = this.locationOf(name);
    return {
      async write(file, body) {
        const path = join(partial, file);
        await mkdir(dirname(path), { recursive: true });
        const h = hashing();
        await pipeline(body, h, createWriteStream(path, { flags: 'wx' }));
        return h.result();
      },
      async commit() {
        await stat(join(partial, MANIFEST_FILE));
        await rename(partial, final);
        return final;
      },
      async abort() {
        await rm(partial, { recursive: true, force: true });
      },
    };
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const complete: string[] = [];
    for (const name of entries.filter((e) => BACKUP_NAME.test(e)).sort()) {
      if (
        await stat(join(this.dir, name, MANIFEST_FILE)).then(
          () => true,
          () => false,
        )
      )
        complete.push(name);
    }
    return complete;
  }

  async read(name: string, file: string): Promise<Readable> {
    const path = join(this.dir, name, file);
    await stat(path);
    return createReadStream(path);
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  close() {}
}

class S3Target implements BackupTarget {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(
    private readonly bucket: string,
    private readonly prefix: string,
    s3: NonNullable<Config['s3']> | undefined,
  ) {
    this.client = new S3Client({
      region: s3?.region ?? 'us-east-1',
      ...(s3?.endpoint ? { endpoint: s3.endpoint } : {}),
      forcePathStyle: s3?.forcePathStyle ?? false,
      ...(s3?.accessKeyId && s3.secretAccessKey
        ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }
        : {}),
    });
  }

  private key(name: string, file = '') {
    return `${this.prefix ? `${this.prefix}/` : ''}${name}/${file}`;
  }

  locationOf(name: string) {
    return `s3://${this.bucket}/${this.key(name).replace(/\/$/, '')}`;
  }

  async begin(name: string): Promise<BackupWriter> {
    // S3 has no rename: objects go under the backup's prefix and the manifest, written last, is
    // what makes it complete (list() and restore ignore a prefix without one).
    const spool = await mkdtemp(join(tmpdir(), 'kith-backup-'));
    return {
      write: async (file, body) => {
        const path = join(spool, 'part');
        const h = hashing();
        await pipeline(body, h, createWriteStream(path));
        const result = h.result();
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(name, file),
            Body: createReadStream(path),
            ContentLength: result.bytes,
            ChecksumSHA256: Buffer.from(result.sha256, 'hex').toString('base64'),
          }),
        );
        await rm(path, { force: true });
        return result;
      },
      commit: async () => {
        await rm(spool, { recursive: true, force: true });
        await this.client.send(
          new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name, MANIFEST_FILE) }),
        );
        return this.locationOf(name);
      },
      abort: async () => {
        await rm(spool, { recursive: true, force: true });
        await this.remove(name);
      },
    };
  }

  async list(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix ? `${this.prefix}/` : '',
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice(this.prefix ? this.prefix.length + 1 : 0).replace(/\/$/, '');
        if (name && BACKUP_NAME.test(name)) names.push(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const complete: string[] = [];
    for (const name of names.sort()) {
      const head = await this.client
        .send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name, MANIFEST_FILE) }))
        .then(
          () => true,
          () => false,
        );
      if (head) complete.push(name);
    }
    return complete;
  }

  async read(name: string, file: string): Promise<Readable> {
    const res = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: this.key(name, file) }),
    );
    return res.Body as Readable;
  }

  async remove(name: string): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(name), ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0)
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  close() {
    this.client.destroy();
  }
}

/**
 * The target named by BACKUP_TARGET (a directory, or s3://bucket/prefix using the S3_* settings);
 * DATA_DIR/backups when unset.
 */
export function createBackupTarget(config: Pick<Config, 'backup' | 's3' | 'dataDir'>): BackupTarget {
  const target = config.backup.target ?? join(config.dataDir, 'backups');
  return targetAt(target, config.s3);
}

function targetAt(base: string, s3: Config['s3']): BackupTarget {
  if (base.startsWith('s3://')) {
    const [bucket, ...rest] = base.slice('s3://'.length).split('/');
    if (!bucket) throw new Error(`backup target ${base}: no bucket`);
    return new S3Target(bucket, rest.filter(Boolean).join('/'), s3);
  }
  return new DiskTarget(resolve(base));
}

/** Splits a backup's location (as printed by `npm run backup`) into its target and name. */
export function openLocation(location: string, s3: Config['s3']): { target: BackupTarget; name: string } {
  const trimmed = location.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  const name = trimmed.slice(cut + 1);
  if (!BACKUP_NAME.test(name))
    throw new Error(`${location} is not a backup location (…/kith-YYYYMMDDTHHMMSSZ)`);
  return { target: targetAt(trimmed.slice(0, cut) || '/', s3), name };
}
