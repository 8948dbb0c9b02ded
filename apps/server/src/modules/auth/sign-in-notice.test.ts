import { describe, expect, it } from 'vitest';
import { coarseNetwork, deviceFamily } from './sign-in-notice.ts';
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, totpStep } from './totp.ts';

describe('the device of a sign-in', () => {
  it('keeps the /24 of an IPv4 address (also IPv4-mapped) and the /48 of an IPv6 one', () => {
    expect(coarseNetwork('203.0.113.77')).toBe('203.0.113.0/24');
    expect(coarseNetwork('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
    expect(coarseNetwork('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(coarseNetwork('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(coarseNetwork('::1')).toBe('0:0:0::/48');
    expect(coarseNetwork('not an address')).toBe('');
  });

  it('names the browser and OS family, without versions', () => {
    expect(deviceFamily('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(
      'Firefox on Linux',
    );
    expect(
      deviceFamily(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Mobile Safari on iOS');
    expect(deviceFamily('')).toBe('Unknown browser');
  });
});

describe('TOTP and recovery codes', () => {
  it('accepts a code of this step or one either side, and says which step it was', async () => {
    const { TOTP, Secret } = await import('otpauth');
    const secret = newTotpSecret();
    const now = 1_700_000_000_000;
    const at = (ms: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: ms });
    const step = Math.floor(now / 30_000);
    expect(totpStep(secret, at(now), now)).toBe(step);
    expect(totpStep(secret, at(now + 30_000), now)).toBe(step + 1);
    expect(totpStep(secret, at(now - 30_000), now)).toBe(step - 1);
    expect(totpStep(secret, at(now + 90_000), now)).toBeUndefined();
    expect(totpStep(secret, '12345', now)).toBeUndefined();
  });

  it('makes ten distinct codes whose hash ignores case, dashes and spaces', () => {
    const codes = newRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    const [first] = codes as [string];
    expect(hashRecoveryCode(first.toUpperCase().replaceAll('-', ' '))).toEqual(hashRecoveryCode(first));
    expect(hashRecoveryCode(codes[1]!)).not.toEqual(hashRecoveryCode(first));
  });
});
