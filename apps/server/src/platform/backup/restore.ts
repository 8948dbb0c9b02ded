import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { readMigrations } from '../db/migrate.ts';
import type { Logger } from '../observability/logger.ts';
import type { Storage } from '../storage/storage.ts';
import { type BackupTarget, hashing } from './backup-target.ts';
import { type BackupManifest, DUMP_FILE, MANIFEST_FILE, mediaFile, parseManifest } from './manifest.ts';
import { findPgTools, spawnPg } from './pg-tools.ts';

export class RestoreError extends Error {
  override name = 'RestoreError';
}

export interface RestoreOptions {
  target: BackupTarget;
  name: string;
  /** The database to restore into (direct connection). */
  databaseUrl: string;
  storage: Storage;
  /** Replace what the database and the media store hold instead of refusing. */
  force?: boolean;
  pgBinDir?: string | undefined;
  logger: Logger;
}

export async function readManifest(target: BackupTarget, name: string): Promise<BackupManifest> {
  const chunks: Buffer[] = [];
  for await (const chunk of await target.read(name, MANIFEST_FILE)) chunks.push(chunk as Buffer);
  return parseManifest(Buffer.concat(chunks).toString('utf8'));
}

/** The backup's schema must be one this code knows (older is fine: migrations run at the next start). */
async function checkSchema(manifest: BackupManifest): Promise<void> {
  const files = await readMigrations();
  const newest = files.at(-1);
  const known = files.find((f) => f.version === manifest.schema.version);
  if (!known || known.name !== manifest.schema.name) {
    throw new RestoreError(
      `the backup's schema is at migration ${manifest.schema.version}_${manifest.schema.name}, which this code does not have (its newest is ${newest ? `${newest.version}_${newest.name}` : 'none'}): restore with the Kith release that made the backup, or a newer one`,
    );
  }
}

/**
 * Restores backup `name` into an empty database and media store (or, with `force`, replaces their
 * contents): checks the schema version and every checksum on the way.
 */
export async function restoreBackup(options: RestoreOptions): Promise<BackupManifest> {
  const { target, name, databaseUrl, storage, logger } = options;
  const manifest = await readManifest(target, name);
  await checkSchema(manifest);

  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'kith-restore' });
  await client.connect();
  const work = await mkdtemp(join(tmpdir(), 'kith-restore-'));
  try {
    const { rows: v } = await client.query<{ num: string }>(
      `SELECT current_setting('server_version_num') AS num`,
    );
    const serverMajor = Math.floor(Number(v[0]!.num) / 10_000);
    const dumpMajor = Number(/^(\d+)/.exec(manifest.database.serverVersion)?.[1] ?? 0);
    const tools = await findPgTools(Math.max(serverMajor, dumpMajor), options.pgBinDir);

    const { rows: t } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_tables WHERE schemaname IN ('public', 'graphile_worker')`,
    );
    const occupied = Number(t[0]!.n);
    const present: string[] = [];
    for (const object of manifest.media.objects) {
      if (await storage.head(object.key)) present.push(object.key);
      if (present.length >= 3) break;
    }
    if (!options.force && (occupied > 0 || present.length > 0)) {
      throw new RestoreError(
        [
          occupied > 0 ? `the target database is not empty (${occupied} tables)` : undefined,
          present.length > 0 ? `the media store already holds ${present.join(', ')}` : undefined,
        ]
          .filter(Boolean)
          .join('; ') +
          ': restore into an empty database and store, or pass --force to replace their contents',
      );
    }

    // the dump is fetched and checked before anything in the target changes
    const dumpPath = join(work, DUMP_FILE);
    const h = hashing();
    await pipeline(await target.read(name, DUMP_FILE), h, createWriteStream(dumpPath));
    const got = h.result();
    if (got.sha256 !== manifest.database.sha256 || got.bytes !== manifest.database.bytes) {
      throw new RestoreError(
        `${DUMP_FILE} does not match its checksum in the manifest: the backup is damaged`,
      );
    }

    if (occupied > 0) {
      logger.warn({ tables: occupied }, 'replacing the contents of the target database (--force)');
      await client.query('DROP SCHEMA IF EXISTS graphile_worker CASCADE');
      await client.query('DROP SCHEMA public CASCADE');
      await client.query('CREATE SCHEMA public');
    }
    const database = new URL(databaseUrl).pathname.slice(1);
    await spawnPg(
      tools.pgRestore,
      [
        '--no-owner',
        '--no-privileges',
        '--exit-on-error',
        '--single-transaction',
        `--dbname=${database}`,
        dumpPath,
      ],
      databaseUrl,
    ).done;

    for (const object of manifest.media.objects) {
      const check = hashing();
      const body = (await target.read(name, mediaFile(object.key))).pipe(check);
      await storage.put(object.key, body, { contentType: object.contentType });
      const written = check.result();
      if (written.sha256 !== object.sha256) {
        await storage.delete([object.key]);
        throw new RestoreError(
          `media object ${object.key} does not match its checksum: the backup is damaged`,
        );
      }
    }
    logger.info(
      { backup: name, schema: manifest.schema, media: manifest.media.objects.length },
      'backup restored',
    );
    return manifest;
  } finally {
    await client.end().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}
