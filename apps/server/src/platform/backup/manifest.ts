/** What a backup holds, written last (as `manifest.json`): a backup without one is incomplete. */
export interface BackupManifest {
  format: 'kith-backup/1';
  name: string;
  createdAt: string;
  /** The newest migration applied to the database dumped. */
  schema: { version: number; name: string };
  database: { file: string; bytes: number; sha256: string; serverVersion: string };
  /** Per table of the `public` schema, in the dump's snapshot. */
  tables: Record<string, TableChecksum>;
  media: {
    storage: 'disk' | 's3';
    bytes: number;
    objects: MediaObject[];
    /** Keys the database names that the store did not have when the backup ran. */
    missing: string[];
  };
}

export interface TableChecksum {
  rows: number;
  /** md5 over the sorted md5s of every row's text form (order-independent). */
  checksum: string;
}

export interface MediaObject {
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

export const MANIFEST_FILE = 'manifest.json';
export const DUMP_FILE = 'database.dump';
export const mediaFile = (key: string) => `media/${key}`;

/** Backup names sort by time: kith-20261201T033000Z. */
export const backupName = (at: Date) =>
  `kith-${at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '')}`;

export const BACKUP_NAME = /^kith-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The time a backup name encodes; undefined for anything else. */
export function backupTime(name: string): Date | undefined {
  const m = BACKUP_NAME.exec(name);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function parseManifest(text: string): BackupManifest {
  const manifest = JSON.parse(text) as BackupManifest;
  if (manifest.format !== 'kith-backup/1')
    throw new Error(`not a Kith backup manifest (format ${manifest.format})`);
  return manifest;
}
