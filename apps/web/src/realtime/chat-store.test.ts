import type { ChatMessage } from '@kith/contract';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatStore, TYPING_SHOWN_MS } from './chat-store.ts';

const C1 = '01900000-0000-7000-8000-000000000001';
const C2 = '01900000-0000-7000-8000-000000000002';
const U = '01900000-0000-7000-8000-0000000000aa';
const msg = (conversationId: string, seq: number, senderId: string | null = null): ChatMessage => ({
  id: `01900000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
  conversationId,
  seq,
  senderId,
  clientMessageId: `c-${seq}`,
  body: `m${seq}`,
  media: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  editedAt: null,
  deleted: false,
});

afterEach(() => vi.useRealTimers());

describe('ChatStore', () => {
  it('resumes from what it holds without a gap, per conversation; a list position only fills the unknown', () => {
    const store = new ChatStore();
    store.knowPosition(C2, 40); // from the conversation list: never opened here
    store.addMessages(C1, [msg(C1, 1), msg(C1, 2), msg(C1, 3)]);
    store.apply({ type: 'message.new', message: msg(C1, 4) });
    store.apply({ type: 'message.new', message: msg(C2, 41) });
    store.knowPosition(C1, 2); // a stale list does not move it back
    expect(store.resumePositions()).toEqual({ [C1]: 4, [C2]: 41 });
    // a replay after the reconnect overlaps: nothing twice, still in order
    store.apply({ type: 'message.new', message: msg(C1, 4) });
    store.apply({ type: 'message.new', message: msg(C1, 5) });
    expect(
      store
        .log(C1)
        .list()
        .map((m) => m.seq),
    ).toEqual([1, 2, 3, 4, 5]);
  });

  it('typing shows for a while, and stops when that person’s message arrives', () => {
    vi.useFakeTimers();
    let now = 1_000;
    const store = new ChatStore(() => now);
    store.apply({ type: 'typing', conversationId: C1, userId: U });
    expect(store.typingIn(C1)).toEqual([U]);
    store.apply({ type: 'message.new', message: msg(C1, 1, U) });
    expect(store.typingIn(C1)).toEqual([]);
    store.apply({ type: 'typing', conversationId: C1, userId: U });
    const version = store.version;
    now += TYPING_SHOWN_MS + 1;
    vi.advanceTimersByTime(TYPING_SHOWN_MS + 1000);
    expect(store.typingIn(C1)).toEqual([]);
    expect(store.version).toBeGreaterThan(version); // screens re-render to drop it
  });

  it('keeps presence and the other members’ read markers (never moving back)', () => {
    const store = new ChatStore();
    expect(store.presenceOf(U)).toBe('offline');
    store.apply({ type: 'presence', userId: U, status: 'online' });
    expect(store.presenceOf(U)).toBe('online');
    store.apply({ type: 'member.read', conversationId: C1, userId: U, lastReadSeq: 5 });
    store.setRead(C1, U, 3); // an older member list read later
    expect(store.readsIn(C1).get(U)).toBe(5);
    store.reset();
    expect([store.presenceOf(U), store.readsIn(C1).size, store.log(C1).size]).toEqual(['offline', 0, 0]);
  });
});
