import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { limitHeader, policyHeader } from './rate-limit-headers.ts';
import { assertValidPolicy, policyKey, type RoutePolicy } from './rate-limit-policy.ts';

const request = (auth: { userId: string } | null, body?: unknown) =>
  ({ ip: '192.0.2.7', auth, body }) as unknown as FastifyRequest;

const policy = (by: RoutePolicy['by'], name = 'p'): RoutePolicy => ({
  name,
  limit: 10,
  windowMs: 60_000,
  by,
});

describe('rate-limit policies', () => {
  it('keys "user" by the signed-in user, else by the address', () => {
    expect(policyKey(policy('user'), request({ userId: 'u1' }))).toBe('p:u:u1');
    expect(policyKey(policy('user'), request(null))).toBe('p:ip:192.0.2.7');
    expect(policyKey(policy('ip'), request({ userId: 'u1' }))).toBe('p:ip:192.0.2.7');
  });

  it('keys a function policy by a digest of its value, and skips it on undefined', () => {
    const byLogin = policy((r) => (r.body as { login?: string }).login);
    const key = policyKey(byLogin, request(null, { login: 'ada@example.com' }));
    expect(key).toMatch(/^p:k:[\w-]{43}$/);
    expect(key).not.toContain('ada');
    expect(policyKey(byLogin, request(null, {}))).toBeUndefined();
  });

  it('refuses names that cannot appear in the headers and nonsense limits', () => {
    expect(() => assertValidPolicy(policy('ip', 'login-ip'), '/x')).not.toThrow();
    expect(() => assertValidPolicy(policy('ip', 'a"b'), '/x')).toThrow(/name/);
    expect(() => assertValidPolicy({ ...policy('ip'), limit: 0 }, '/x')).toThrow(/limit/);
    expect(() => assertValidPolicy({ ...policy('ip'), windowMs: 10 }, '/x')).toThrow(/windowMs/);
  });

  it('formats the IETF draft headers', () => {
    const outcomes = [
      { policy: { ...policy('user', 'default'), limit: 600 }, count: 1, resetMs: 41_001 },
      { policy: { ...policy('ip', 'login-ip'), limit: 100, windowMs: 900_000 }, count: 101, resetMs: 1 },
    ];
    expect(policyHeader(outcomes)).toBe('"default";q=600;w=60, "login-ip";q=100;w=900');
    expect(limitHeader(outcomes)).toBe('"default";r=599;t=42, "login-ip";r=0;t=1');
  });
});
