import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'media-signing-secret';

/**
 * MEDIA_SIGNING_SECRET when given; otherwise one generated once and kept (0600) under `keepIn`
 * (development, embedded shape), or a per-process one when `keepIn` is undefined (tests).
 * Production requires the variable (config refuses to start without it).
 */
export async function loadSigningSecret(
  given: string | undefined,
  keepIn: string | undefined,
): Promise<Buffer> {
  if (given) return Buffer.from(given, 'utf8');
  if (!keepIn) return randomBytes(32);
  const file = join(keepIn, FILE);
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(keepIn, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  try {
    await writeFile(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return secret;
  } catch (err) {
    // another process started at the same moment and wrote it first: use theirs
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  }
}
