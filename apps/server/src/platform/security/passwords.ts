import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';
import type { Config } from '../../config.ts';

/**
 * The 10,000 most common passwords (frequency-ranked, from @zxcvbn-ts/language-common; see
 * common-passwords.NOTICE), compared case-insensitively.
 */
const COMMON = new Set(
  readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean),
);

// Algorithm.Argon2id: a const enum, which isolatedModules cannot read
const ARGON2ID = 2 as Algorithm;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export function isCommonPassword(password: string): boolean {
  return COMMON.has(password.toLowerCase());
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the same work as `verify` on a hash nobody has: unknown logins take as long as known ones. */
  verifyDummy(password: string): Promise<void>;
}

/** argon2id with the configured costs (OWASP minimum: m=19 MiB, t=2, p=1). */
export function createPasswordHasher(params: Config['argon2']): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params };
  // Hashing runs on libuv's threads; leave a core to the event loop so logins never starve requests.
  const limit = pLimit(Math.max(1, availableParallelism() - 1));
  // hashed at once with the current costs, so the dummy work matches real accounts from the first login
  const dummy = hash('kith-dummy-password-nobody-has', options);
  dummy.catch(() => {});
  return {
    hash: (password) => limit(() => hash(password, options)),
    async verify(passwordHash, password) {
      try {
        return await limit(() => verify(passwordHash, password));
      } catch {
        return false; // a malformed stored hash never matches
      }
    },
    async verifyDummy(password) {
      const dummyHash = await dummy;
      await limit(() => verify(dummyHash, password)).catch(() => false);
    },
  };
}
