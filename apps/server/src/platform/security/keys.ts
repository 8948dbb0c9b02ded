import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';

/** The signing key, the keys still accepted for verification, and secrets derived from the signing key. */
export interface KeyRing {
  /** RFC 7638 thumbprint of the current public key. */
  kid: string;
  privateKey: KeyObject;
  /** Public keys by kid: the current one and older ones still valid during rotation. */
  verifyKeys: ReadonlyMap<string, KeyObject>;
  /** HKDF-derived secret for deterministic refresh-token successors. */
  refreshSecret: Buffer;
}

export interface KeyOptions {
  /** PKCS#8 PEM or a private JWK as JSON; when absent, see `generateIn`. */
  signingKey: string | undefined;
  /** JSON array of public JWKs (with kid) of earlier signing keys. */
  verifyKeys: string | undefined;
  /** Directory to keep a generated key in (dev/embedded); undefined: an in-memory key (tests). */
  generateIn: string | undefined;
}

const KEY_FILE = 'jwt-signing-key.pem';

function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' })
      : createPrivateKey({ key: trimmed, format: 'pem' });
  } catch (err) {
    throw new Error(`JWT_SIGNING_KEY: not a PKCS#8 PEM or private JWK (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`JWT_SIGNING_KEY: must be an Ed25519 key (got ${key.asymmetricKeyType})`);
  }
  return key;
}

async function publicKid(key: KeyObject): Promise<string> {
  const { kty, crv, x } = key.export({ format: 'jwk' });
  return calculateJwkThumbprint({ kty: kty!, crv: crv!, x: x! }, 'sha256');
}

async function parseVerifyKeys(text: string | undefined): Promise<Map<string, KeyObject>> {
  const out = new Map<string, KeyObject>();
  if (!text) return out;
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new Error('JWT_VERIFY_KEYS: not valid JSON');
  }
  if (!Array.isArray(list)) throw new Error('JWT_VERIFY_KEYS: must be a JSON array of public JWKs');
  for (const [i, jwk] of list.entries()) {
    const { kty, crv, x, kid } = (jwk ?? {}) as Record<string, unknown>;
    if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string') {
      throw new Error(`JWT_VERIFY_KEYS[${i}]: must be an Ed25519 public JWK (kty OKP, crv Ed25519, x)`);
    }
    const key = createPublicKey({ key: { kty, crv, x }, format: 'jwk' });
    out.set(typeof kid === 'string' && kid ? kid : await publicKid(key), key);
  }
  return out;
}

/** Reads the key kept in `dir`, or creates it (0600) on first use; two starts at once keep one key. */
async function keptKey(dir: string): Promise<KeyObject> {
  const file = join(dir, KEY_FILE);
  try {
    return parsePrivateKey(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  try {
    await writeFile(file, pem, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return privateKey;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parsePrivateKey(await readFile(file, 'utf8'));
  }
}

/** Loads (or in development generates) the JWT keys. Throws a clear error for a malformed key. */
export async function loadKeyRing(options: KeyOptions): Promise<KeyRing> {
  let privateKey: KeyObject;
  if (options.signingKey) privateKey = parsePrivateKey(options.signingKey);
  else if (options.generateIn) privateKey = await keptKey(options.generateIn);
  else privateKey = generateKeyPairSync('ed25519').privateKey;

  const publicKey = createPublicKey(privateKey);
  const kid = await publicKid(publicKey);
  const verifyKeys = await parseVerifyKeys(options.verifyKeys);
  verifyKeys.set(kid, publicKey);
  const material = privateKey.export({ format: 'der', type: 'pkcs8' });
  const refreshSecret = Buffer.from(hkdfSync('sha256', material, 'kith', 'refresh-token-successor', 32));
  return { kid, privateKey, verifyKeys, refreshSecret };
}

/** The public JWK of a key ring's current key, as another instance's JWT_VERIFY_KEYS entry. */
export function publicJwk(ring: KeyRing): JsonWebKey & { kid: string } {
  const { kty, crv, x } = createPublicKey(ring.privateKey).export({ format: 'jwk' });
  return { kty, crv, x, kid: ring.kid };
}
