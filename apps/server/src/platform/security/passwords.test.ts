import { describe, expect, it } from 'vitest';
import { createPasswordHasher, isCommonPassword } from './passwords.ts';

describe('passwords', () => {
  it('knows the most common passwords, whatever their case', () => {
    for (const p of ['123456', 'password', 'qwertyuiop', 'Password123', 'BASKETBALL'])
      expect(isCommonPassword(p)).toBe(true);
    expect(isCommonPassword('correct horse battery staple')).toBe(false);
  });

  it('hashes with argon2id at the configured costs and verifies', async () => {
    const hasher = createPasswordHasher({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'Correct horse battery staple')).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
    await expect(hasher.verifyDummy('anything')).resolves.toBeUndefined();
  });
});
