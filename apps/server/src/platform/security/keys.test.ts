import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeyRing, publicJwk } from './keys.ts';

const dir = await mkdtemp(join(tmpdir(), 'kith-keys-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadKeyRing', () => {
  it('generates a key once under the data directory (0600) and reuses it', async () => {
    const first = await loadKeyRing({
      signingKey: undefined,
      verifyKeys: undefined,
      generateIn: join(dir, 'keys'),
    });
    const file = join(dir, 'keys', 'jwt-signing-key.pem');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadKeyRing({
      signingKey: undefined,
      verifyKeys: undefined,
      generateIn: join(dir, 'keys'),
    });
    expect(second.kid).toBe(first.kid);
    expect(second.refreshSecret.equals(first.refreshSecret)).toBe(true);
  });

  it('accepts PKCS#8 PEM and JWK, with the same kid for the same key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    const fromPem = await loadKeyRing({ signingKey: pem, verifyKeys: undefined, generateIn: undefined });
    const fromJwk = await loadKeyRing({ signingKey: jwk, verifyKeys: undefined, generateIn: undefined });
    expect(fromJwk.kid).toBe(fromPem.kid);
    expect(fromPem.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('keeps older public keys for verification', async () => {
    const old = await loadKeyRing({ signingKey: undefined, verifyKeys: undefined, generateIn: undefined });
    const ring = await loadKeyRing({
      signingKey: undefined,
      verifyKeys: JSON.stringify([publicJwk(old)]),
      generateIn: undefined,
    });
    expect([...ring.verifyKeys.keys()].sort()).toEqual([old.kid, ring.kid].sort());
  });

  it('refuses keys that are not Ed25519 or not keys, with the variable named', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    }) as string;
    await expect(
      loadKeyRing({ signingKey: rsa, verifyKeys: undefined, generateIn: undefined }),
    ).rejects.toThrow(/JWT_SIGNING_KEY: must be an Ed25519/);
    await expect(
      loadKeyRing({ signingKey: 'nonsense', verifyKeys: undefined, generateIn: undefined }),
    ).rejects.toThrow(/JWT_SIGNING_KEY/);
    await expect(
      loadKeyRing({ signingKey: undefined, verifyKeys: '{}', generateIn: undefined }),
    ).rejects.toThrow(/JWT_VERIFY_KEYS/);
    await expect(
      loadKeyRing({ signingKey: undefined, verifyKeys: '[{"kty":"RSA"}]', generateIn: undefined }),
    ).rejects.toThrow(/JWT_VERIFY_KEYS\[0\]/);
  });
});
