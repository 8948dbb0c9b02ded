import { describe, expect, it } from 'vitest';
import { slope, stepSearch, verifyChat } from './verify.ts';

const stored = (ids: string[]) => ids.map((clientMessageId, i) => ({ seq: i + 1, clientMessageId }));

describe('verifyChat', () => {
  it('passes when every acknowledged message is stored once and every copy is whole', () => {
    const v = verifyChat(new Map([['c', stored(['a', 'b', 'c'])]]), new Set(['a', 'b']), [
      { member: 'x', conversationId: 'c', seqs: [1, 2, 3] },
      { member: 'y', conversationId: 'c', seqs: [1, 2, 3] },
    ]);
    expect(v).toMatchObject({ lost: 0, duplicated: 0, gaps: 0, stored: 3 });
  });

  it('counts a lost acknowledged message, a message stored twice, a seq received twice and a hole', () => {
    const v = verifyChat(new Map([['c', stored(['a', 'b', 'b'])]]), new Set(['a', 'z']), [
      { member: 'x', conversationId: 'c', seqs: [1, 2, 2, 3] },
      { member: 'y', conversationId: 'c', seqs: [1, 3] },
    ]);
    expect(v).toMatchObject({ lost: 1, duplicated: 2, gaps: 1 });
    expect(v.problems).toContain('z acknowledged but not stored');
    expect(v.problems).toContain('y never got seq 2 of c');
  });
});

describe('stepSearch', () => {
  it('steps up until a miss, then bisects once', async () => {
    const { best, probes } = await stepSearch(10, async (rate) => rate <= 25, { factor: 1.5, refine: 1 });
    expect(probes.map((p) => p.rate)).toEqual([10, 15, 23, 35, 29]);
    expect(best).toBe(23);
  });
});

describe('slope', () => {
  it('fits a straight line', () => {
    expect(slope([0, 1, 2, 3], [5, 7, 9, 11])).toEqual({ perUnit: 2, r2: 1 });
  });
});
