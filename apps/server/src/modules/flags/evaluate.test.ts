import { describe, expect, it } from 'vitest';
import { bucketOf, evaluateFlag, type FlagDefinition } from './evaluate.ts';

const flag = (over: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key: 'feed.new-posts-pill',
  enabled: true,
  variants: { on: true, off: false },
  defaultVariant: 'off',
  roleRules: [],
  rollout: [],
  clientVisible: false,
  ...over,
});
const users = Array.from(
  { length: 4000 },
  (_, i) => `0190d2c4-0000-7000-8000-${String(i).padStart(12, '0')}`,
);

describe('evaluateFlag', () => {
  it('rolls out to about the given share of users, and a user keeps their variant as it grows', () => {
    const at = (percent: number) =>
      new Set(
        users.filter(
          (u) => evaluateFlag(flag({ rollout: [{ variant: 'on', percent }] }), { targetingKey: u }).value,
        ),
      );
    const ten = at(10);
    const fifty = at(50);
    expect(ten.size / users.length).toBeGreaterThan(0.08);
    expect(ten.size / users.length).toBeLessThan(0.12);
    expect(fifty.size / users.length).toBeGreaterThan(0.46);
    expect(fifty.size / users.length).toBeLessThan(0.54);
    for (const u of ten) expect(fifty.has(u)).toBe(true);
    expect(at(0).size).toBe(0);
    expect(at(100).size).toBe(users.length);
  });

  it('is stable per user and independent between flags', () => {
    expect(bucketOf('a', users[0]!)).toBe(bucketOf('a', users[0]!));
    const same = users.filter((u) => bucketOf('a', u) < 5000 === bucketOf('b', u) < 5000).length;
    expect(same / users.length).toBeGreaterThan(0.4);
    expect(same / users.length).toBeLessThan(0.6);
  });

  it('the kill switch wins over role rules and the rollout; role rules win over the rollout', () => {
    const f = flag({
      roleRules: [{ roles: ['admin'], variant: 'on' }],
      rollout: [{ variant: 'on', percent: 100 }],
    });
    expect(evaluateFlag({ ...f, enabled: false }, { targetingKey: users[0], role: 'admin' })).toEqual({
      variant: 'off',
      value: false,
      reason: 'DISABLED',
    });
    expect(evaluateFlag(f, { role: 'admin' }).reason).toBe('TARGETING_MATCH');
    expect(
      evaluateFlag(
        { ...f, roleRules: [{ roles: ['user'], variant: 'off' }] },
        { targetingKey: users[0], role: 'user' },
      ).value,
    ).toBe(false);
    expect(evaluateFlag(f, {}).reason).toBe('DEFAULT'); // anonymous: no bucket
  });

  it('splits multi-variant flags cumulatively', () => {
    const f = flag({
      variants: { a: 'A', b: 'B', c: 'C' },
      defaultVariant: 'c',
      rollout: [
        { variant: 'a', percent: 20 },
        { variant: 'b', percent: 30 },
      ],
    });
    const counts = { A: 0, B: 0, C: 0 } as Record<string, number>;
    for (const u of users) counts[evaluateFlag(f, { targetingKey: u }).value as string]! += 1;
    expect(counts.A! / users.length).toBeCloseTo(0.2, 1);
    expect(counts.B! / users.length).toBeCloseTo(0.3, 1);
    expect(counts.C! / users.length).toBeCloseTo(0.5, 1);
  });
});
