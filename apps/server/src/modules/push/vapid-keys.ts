import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import webpush from 'web-push';
import type { Config } from '../../config.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const FILE = 'web-push-vapid.json';

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
  try {
    await writeFile(file, JSON.stringify(keys), { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return keys;
  } catch (err) {
    // another process started at the same moment and wrote it first: use theirs
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return read();
  }
}
