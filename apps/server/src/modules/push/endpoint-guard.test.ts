import { describe, expect, it } from 'vitest';
import { checkEndpoint, guardedLookup, isInternalAddress } from './endpoint-guard.ts';
import { heldRunAt, jitteredBackoffMs, retryDelayMs } from './push-delivery.ts';

describe('push endpoint guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.31.255.255', true],
    ['192.168.0.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::127.0.0.1', true],
    ['::7f00:1', true],
    ['::8.8.8.8', true],
    ['::ffff:7f00:1', true],
    ['::ffff:a00:1', true],
    ['fec0::1', true],
    ['feff::1', true],
    ['2002:7f00:1::', true],
    ['2002:7f00:0001::1', true],
    ['2002:a01:203::', true],
    ['2002:c0a8:101:1::1', true],
    ['2002::1', true],
    ['2002:7f00::', true],
    ['2001:0:4136:e378::1', true],
    ['64:ff9b:1::a00:1', true],
    ['not an address', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['2606:4700::1111', false],
    ['2002:808:808::1', false],
    ['2002:0808:0808:1:2:3:4:5', false],
    ['::ffff:8.8.8.8', false],
    ['2001:4860:4860::8888', false],
  ])('%s internal: %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
  });

  it('refuses names that resolve inward when connecting (DNS rebinding)', async () => {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      guardedLookup('localhost', {}, (e) => resolve(e)),
    );
    expect(err?.code).toBe('PUSH_ENDPOINT_INTERNAL');
  });

  it.each([
    'https://[::127.0.0.1]/push',
    'https://[::ffff:127.0.0.1]/push',
    'https://[::ffff:7f00:1]/push',
    'https://[fec0::1]/push',
    'https://[2002:7f00:1::]/push',
    'https://[2002:a9fe:a9fe::]/push',
  ])('refuses %s (an internal address in IPv6 form)', (endpoint) => {
    expect(() => checkEndpoint(endpoint, false)).toThrow(/internal/);
  });

  it('lets internal endpoints through only when told to (tests)', () => {
    expect(() => checkEndpoint('https://localhost:9/x', false)).toThrow(/internal/);
    expect(checkEndpoint('https://localhost:9/x', true).port).toBe('9');
    expect(() => checkEndpoint('http://localhost:9/x', true)).toThrow(/https/);
  });
});

describe('push retry delay', () => {
  it('honours Retry-After in seconds or as a date, else backs off exponentially', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(retryDelayMs(1, '120', now)).toBe(120_000);
    expect(retryDelayMs(1, 'Tue, 01 Dec 2026 12:05:00 GMT', now)).toBe(300_000);
    expect(retryDelayMs(1, undefined, now)).toBe(30_000);
    expect(retryDelayMs(3, undefined, now)).toBe(120_000);
    expect(retryDelayMs(20, undefined, now)).toBe(3_600_000);
    expect(retryDelayMs(2, 'garbage', now)).toBe(60_000);
    expect(retryDelayMs(1, String(10 * 24 * 3600), now)).toBe(24 * 3600_000);
  });

  it('spreads held pushes over a window after the pause as long as the pause (at least 30 s)', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const hold = new Date(now + 120_000);
    expect(heldRunAt(hold, now, () => 0).getTime()).toBe(hold.getTime());
    expect(heldRunAt(hold, now, () => 0.5).getTime()).toBe(hold.getTime() + 60_000);
    expect(heldRunAt(hold, now, () => 0.999).getTime()).toBe(hold.getTime() + 119_880);
    // a pause nearly over still spreads over the first backoff step
    expect(heldRunAt(new Date(now + 1), now, () => 0.5).getTime()).toBe(now + 1 + 15_000);
  });

  it('jitters its own backoff in full (anywhere from now to the step)', () => {
    expect(jitteredBackoffMs(30_000, () => 0)).toBe(0);
    expect(jitteredBackoffMs(30_000, () => 0.5)).toBe(15_000);
    expect(jitteredBackoffMs(30_000, () => 0.999)).toBe(29_970);
  });
});
