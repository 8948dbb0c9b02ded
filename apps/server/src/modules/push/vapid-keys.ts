import { createECDH, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import webpush from 'web-push';
import type { Config } from '../../config.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const FILE = 'web-push-vapid.json';

/**
 * The public key (base64url, uncompressed P-256 point) of a VAPID private key, or undefined when it
 * is not a valid P-256 private key: a pair whose halves differ signs JWTs push services refuse
 * for subscriptions made with the public one, so it is refused at start (config.ts).
 */
export function vapidPublicKeyOf(privateKey: string): string | undefined {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(privateKey, 'base64url'));
    return ecdh.getPublicKey().toString('base64url');
  } catch {
    return undefined;
  }
}

/**
 * The VAPID key pair: WEB_PUSH_VAPID_* when given; otherwise, outside production, one generated
 * once and kept (0600) under DATA_DIR so that `npm start` has Web Push with no configuration.
 * Production without the variables: undefined (Web Push off) — instances must share one pair,
 * since a subscription is bound to the public key it was made with.
 */
export async function loadVapidKeys(config: Pick<Config, 'push' | 'isProduction' | 'dataDir'>) {
  if (config.push.vapid) return config.push.vapid;
  if (config.isProduction) return undefined;
  const file = join(config.dataDir, FILE);
  const read = async () => JSON.parse(await readFile(file, 'utf8')) as VapidKeys;
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = webpush.generateVAPIDKeys();
  // written aside, then linked into place: a process starting at the same moment reads either no
  // file or a whole one, and the first link wins
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(aside, JSON.stringify(keys), { mode: 0o600, flag: 'wx' });
  try {
    await chmod(aside, 0o600);
    await link(aside, file);
    return keys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return read();
  } finally {
    await unlink(aside);
  }
}
