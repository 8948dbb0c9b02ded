import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { type ConfigError, loadConfig } from '../../config.ts';
import { loadVapidKeys, vapidPublicKeyOf } from './vapid-keys.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const config = async (over: {
  isProduction?: boolean;
  vapid?: { publicKey: string; privateKey: string };
}) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kith-vapid-'));
  dirs.push(dataDir);
  return {
    dataDir,
    isProduction: over.isProduction ?? false,
    push: { vapid: over.vapid, subject: 'mailto:a@b.c', allowPrivateEndpoints: false, caFile: undefined },
  };
};

describe('VAPID keys', () => {
  it('are generated once under DATA_DIR (0600) outside production, and the same pair is read back', async () => {
    const c = await config({});
    const first = await loadVapidKeys(c);
    expect(first?.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(first?.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(c.dataDir, 'web-push-vapid.json'))).mode & 0o777).toBe(0o600);
    expect(await loadVapidKeys(c)).toEqual(first);
    // two processes starting at once get one pair
    const c2 = await config({});
    const [a, b] = await Promise.all([loadVapidKeys(c2), loadVapidKeys(c2)]);
    expect(a).toEqual(b);
  });

  it('are the configured pair when given, and none in production without one (Web Push off)', async () => {
    const given = { publicKey: `B${'A'.repeat(86)}`, privateKey: 'A'.repeat(43) };
    expect(await loadVapidKeys(await config({ vapid: given }))).toBe(given);
    expect(await loadVapidKeys(await config({ isProduction: true }))).toBeUndefined();
  });
});

describe('VAPID key pair check', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ NODE_ENV: 'test', ...env });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  const mismatch =
    'WEB_PUSH_VAPID_PUBLIC_KEY and WEB_PUSH_VAPID_PRIVATE_KEY: not one key pair (the public key is not the private key’s)';

  it('derives the public key from the private one', () => {
    const pair = webpush.generateVAPIDKeys();
    expect(vapidPublicKeyOf(pair.privateKey)).toBe(pair.publicKey);
    expect(vapidPublicKeyOf('A'.repeat(43))).toBeUndefined(); // zero is no P-256 private key
  });

  it('refuses to start with halves of two pairs, and starts with one pair', () => {
    const [a, b] = [webpush.generateVAPIDKeys(), webpush.generateVAPIDKeys()];
    expect(
      problems({ WEB_PUSH_VAPID_PUBLIC_KEY: a.publicKey, WEB_PUSH_VAPID_PRIVATE_KEY: b.privateKey }),
    ).toEqual([mismatch]);
    expect(
      problems({
        WEB_PUSH_VAPID_PUBLIC_KEY: `B${'A'.repeat(86)}`,
        WEB_PUSH_VAPID_PRIVATE_KEY: 'A'.repeat(43),
      }),
    ).toEqual([mismatch]);
    const ok = loadConfig({
      NODE_ENV: 'test',
      WEB_PUSH_VAPID_PUBLIC_KEY: a.publicKey,
      WEB_PUSH_VAPID_PRIVATE_KEY: a.privateKey,
    });
    expect(ok.push.vapid).toEqual({ publicKey: a.publicKey, privateKey: a.privateKey });
  });
});
