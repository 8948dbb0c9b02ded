import type { ChatMessage } from '@kith/contract';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../platform/observability/metrics.ts';
import type { Connection } from './connection.ts';
import { MessageSync } from './message-sync.ts';
import type { ChatPort } from './ports.ts';

const message = (conversationId: string, seq: number): ChatMessage => ({
  id: `${conversationId}-${seq}`,
  conversationId,
  seq,
  senderId: 'u2',
  clientMessageId: `c${seq}`,
  body: `message ${seq}`,
  media: [],
  createdAt: new Date(0).toISOString(),
  editedAt: null,
  deleted: false,
});

/** Postgres as the truth: every conversation's messages, by seq from 1. */
function store(conversations: Record<string, number>) {
  const messages = new Map(
    Object.entries(conversations).map(([id, last]) => [
      id,
      Array.from({ length: last }, (_, i) => message(id, i + 1)),
    ]),
  );
  const chat: ChatPort = {
    async send() {
      throw new Error('not used');
    },
    async missedSince(_userId, positions, limit) {
      const known = Object.keys(positions).filter((id) => messages.has(id));
      return {
        conversations: known.map((id) => {
          const after = messages.get(id)!.filter((m) => m.seq > positions[id]!);
          return {
            conversationId: id,
            lastSeq: messages.get(id)!.length,
            messages: after.slice(0, limit),
            hasMore: after.length > limit,
          };
        }),
        unknown: Object.keys(positions).filter((id) => !messages.has(id)),
      };
    },
    async conversationsOf() {
      return [...messages].map(([conversationId, list]) => ({ conversationId, lastSeq: list.length }));
    },
    async markRead() {},
    async typing() {
      return [];
    },
  };
  /** Commits the next message of `id` and returns it (as the broker would carry it). */
  const commit = (id: string) => {
    const list = messages.get(id)!;
    const next = message(id, list.length + 1);
    list.push(next);
    return next;
  };
  return { chat, commit };
}

/** A socket that records the seqs of the `message.new` frames written to it. */
function socket() {
  const seqs: string[] = [];
  const conn = {
    userId: 'u1',
    open: true,
    sendFrame(frame: Buffer | string) {
      const { message: m } = JSON.parse(frame.toString()) as { message: ChatMessage };
      seqs.push(`${m.conversationId}:${m.seq}`);
      return true;
    },
    drain: async () => {},
    close() {
      conn.open = false;
    },
  };
  return { conn: conn as unknown as Connection, seqs };
}

const metrics = () => createMetrics().realtime;

describe('MessageSync', () => {
  it('delivers live messages once and in order from the position read at start', async () => {
    const { chat, commit } = store({ a: 3 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, chat, 100, metrics());
    const early = commit('a'); // published before the baseline is known: held, then delivered
    sync.live(early);
    await sync.init();
    const next = commit('a');
    sync.live(next);
    sync.live(next); // the broker said it twice
    sync.live(early);
    expect(seqs).toEqual(['a:5']);
    expect(sync.position('a')).toBe(5);
  });

  it('catches up from the store past a gap, then delivers what was held, in order', async () => {
    const { chat, commit } = store({ a: 1 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, chat, 2, metrics());
    await sync.init();
    commit('a'); // 2 and 3: lost by the broker
    commit('a');
    sync.live(commit('a'));
    sync.live(commit('a'));
    await vi.waitFor(() => expect(seqs).toEqual(['a:2', 'a:3', 'a:4', 'a:5']));
  });

  it('resumes from the client’s positions with live messages arriving meanwhile, no gap and no duplicate', async () => {
    const { chat, commit } = store({ a: 5, b: 2 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, chat, 2, metrics());
    await sync.init();
    const resumed = sync.resume({ a: 1, b: 2, gone: 0 });
    sync.live(commit('a')); // 6, during the replay
    sync.live(commit('b')); // 3
    const { replayed, unknown } = await resumed;
    expect(unknown).toEqual(['gone']);
    expect(seqs.filter((s) => s.startsWith('a:'))).toEqual(['a:2', 'a:3', 'a:4', 'a:5', 'a:6']);
    expect(seqs.filter((s) => s.startsWith('b:'))).toEqual(['b:3']);
    expect(replayed).toBeGreaterThanOrEqual(4);
    expect(sync.position('gone')).toBeUndefined();
  });

  it('delivers a conversation joined after the start from its first message', async () => {
    const { chat } = store({});
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, chat, 100, metrics());
    await sync.init();
    sync.live(message('new', 1));
    expect(seqs).toEqual(['new:1']);
  });
});
