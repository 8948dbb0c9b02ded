import { describe, expect, it } from 'vitest';
import { SendBatcher } from './chat.batcher.ts';
import type { SendDraft, SendOutcome } from './chat.repository.ts';

const draft = (conversationId: string, n: number): SendDraft => ({
  id: `m-${n}`,
  conversationId,
  senderId: 'u',
  clientMessageId: `c-${n}`,
  body: `body ${n}`,
});

/** A round trip the test finishes by hand; each outcome names the draft it answers. */
function roundTrips(fail?: (d: SendDraft) => boolean) {
  const calls: { drafts: SendDraft[]; finish: () => void }[] = [];
  const run = (drafts: readonly SendDraft[]) =>
    new Promise<SendOutcome[]>((resolve, reject) => {
      calls.push({
        drafts: [...drafts],
        finish: () =>
          drafts.some((d) => fail?.(d))
            ? reject(new Error('constraint'))
            : resolve(drafts.map((d) => ({ status: 'duplicate', draftId: d.id }) as SendOutcome)),
      });
    });
  return { calls, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SendBatcher', () => {
  it('sends alone at once when idle; what arrives meanwhile goes together, in conversation order', async () => {
    const { calls, run } = roundTrips();
    const batcher = new SendBatcher(run, 100);
    const first = batcher.send(draft('b', 1));
    expect(calls.map((c) => c.drafts.map((d) => d.id))).toEqual([['m-1']]);
    const later = [draft('b', 2), draft('a', 3), draft('b', 4), draft('a', 5)].map((d) => batcher.send(d));
    await tick();
    expect(calls).toHaveLength(1); // nothing waits on a timer, but nothing overtakes the round trip
    calls[0]!.finish();
    await first;
    await tick();
    // conversation order, each conversation in arrival order
    expect(calls[1]!.drafts.map((d) => d.id)).toEqual(['m-3', 'm-5', 'm-2', 'm-4']);
    calls[1]!.finish();
    // each caller gets the outcome of its own draft
    expect((await Promise.all(later)).map((o) => (o as { draftId?: string }).draftId)).toEqual([
      'm-2',
      'm-3',
      'm-4',
      'm-5',
    ]);
  });

  it('carries at most `max` sends per round trip', async () => {
    const { calls, run } = roundTrips();
    const batcher = new SendBatcher(run, 2);
    const all = [1, 2, 3, 4, 5].map((n) => batcher.send(draft('a', n)));
    for (let i = 0; i < 3; i++) {
      await tick();
      calls[i]!.finish();
    }
    await Promise.all(all);
    expect(calls.map((c) => c.drafts.length)).toEqual([1, 2, 2]);
  });

  it('retries a failed round trip one send at a time: only the send at fault fails', async () => {
    const { calls, run } = roundTrips((d) => d.id === 'm-3');
    const batcher = new SendBatcher(run, 100);
    const first = batcher.send(draft('a', 1));
    const rest = Promise.allSettled([2, 3, 4].map((n) => batcher.send(draft('a', n))));
    calls[0]!.finish();
    await first;
    for (let i = 1; i <= 4; i++) {
      await tick();
      calls[i]!.finish();
    }
    expect((await rest).map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls.map((c) => c.drafts.map((d) => d.id))).toEqual([
      ['m-1'],
      ['m-2', 'm-3', 'm-4'],
      ['m-2'],
      ['m-3'],
      ['m-4'],
    ]);
  });
});
