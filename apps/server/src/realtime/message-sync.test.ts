import type { ChatMessage } from '@kith/contract';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics, type Metrics } from '../platform/observability/metrics.ts';
import type { Connection } from './connection.ts';
import { MessageSync, type SyncDeps } from './message-sync.ts';
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
  /** When set, missedSince fails with it (Postgres in trouble). */
  let failure: Error | undefined;
  const chat: ChatPort = {
    async send() {
      throw new Error('not used');
    },
    async missedSince(_userId, positions, limit) {
      if (failure) throw failure;
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
  return {
    chat,
    commit,
    failWith(err: Error | undefined) {
      failure = err;
    },
  };
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

/** The shared deps of a gateway's syncs, with a logger that records its warnings. */
function deps(
  chat: ChatPort,
  batch: number,
): SyncDeps & { warnings: unknown[][]; metrics: Metrics['realtime'] } {
  const warnings: unknown[][] = [];
  return {
    chat,
    batch,
    metrics: createMetrics().realtime,
    logger: { warn: (...args: unknown[]) => void warnings.push(args) } as SyncDeps['logger'],
    warnings,
  };
}

const only = (seqs: string[], id: string) => seqs.filter((s) => s.startsWith(`${id}:`));
const range = (id: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${id}:${from + i}`);

describe('MessageSync', () => {
  it('delivers live messages once and in order from the position read at start', async () => {
    const { chat, commit } = store({ a: 3 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, deps(chat, 100));
    const early = commit('a'); // published before the baseline is known: held, then delivered
    sync.live(early);
    await sync.init(0);
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
    const sync = new MessageSync(conn, deps(chat, 2));
    await sync.init(0);
    commit('a'); // 2 and 3: lost by the broker
    commit('a');
    sync.live(commit('a'));
    sync.live(commit('a'));
    await vi.waitFor(() => expect(seqs).toEqual(['a:2', 'a:3', 'a:4', 'a:5']));
  });

  it('resumes from the client’s positions with live messages arriving meanwhile, no gap and no duplicate', async () => {
    const { chat, commit } = store({ a: 5, b: 2 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, deps(chat, 2));
    await sync.init(60_000);
    const resumed = sync.resume({ a: 1, b: 2, gone: 0 });
    sync.live(commit('a')); // 6, during the replay
    sync.live(commit('b')); // 3
    const { replayed, unknown } = await resumed;
    expect(unknown).toEqual(['gone']);
    expect(only(seqs, 'a')).toEqual(range('a', 2, 6));
    expect(only(seqs, 'b')).toEqual(['b:3']);
    expect(replayed).toBeGreaterThanOrEqual(4);
    expect(sync.position('gone')).toBeUndefined();
  });

  it('holds a live message that arrives before the resume: the replay comes first, then it, once (issue 15)', async () => {
    const { chat, commit } = store({ a: 9, b: 4 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, deps(chat, 2));
    await sync.init(60_000);
    sync.live(commit('a')); // 10, before the client's resume is read
    sync.live(commit('b')); // 5, in a conversation the resume will not name
    expect(seqs).toEqual([]);
    sync.clientFrame('resume'); // received: the hold lasts until it runs
    await sync.resume({ a: 6 });
    expect(only(seqs, 'a')).toEqual(range('a', 7, 10));
    expect(only(seqs, 'b')).toEqual(['b:5']); // from the baseline, once the hold is over
    sync.live(commit('a'));
    expect(only(seqs, 'a')).toEqual(range('a', 7, 11));
  });

  it('ends the hold on another frame first, or at the deadline, and delivers what was held in order', async () => {
    const { chat, commit } = store({ a: 2 });
    const first = socket();
    const talking = new MessageSync(first.conn, deps(chat, 10));
    await talking.init(60_000);
    talking.live(commit('a')); // 3
    expect(first.seqs).toEqual([]);
    talking.clientFrame('ping');
    expect(talking.holding).toBe(false);
    expect(first.seqs).toEqual(['a:3']);

    const second = socket();
    const silent = new MessageSync(second.conn, deps(chat, 10));
    await silent.init(20);
    silent.live(commit('a')); // 4
    expect(second.seqs).toEqual([]);
    await vi.waitFor(() => expect(second.seqs).toEqual(['a:4']));
  });

  it('a late resume replays only the gap below what this socket sent, never a seq twice', async () => {
    const { chat, commit } = store({ a: 9 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, deps(chat, 2));
    await sync.init(0); // no hold: live from the baseline
    sync.live(commit('a')); // 10
    sync.live(commit('a')); // 11
    const { replayed } = await sync.resume({ a: 4 });
    expect(replayed).toBe(5);
    expect(seqs).toEqual(['a:10', 'a:11', ...range('a', 5, 9)]);
    expect(sync.position('a')).toBe(11);
    await sync.resume({ a: 2 }); // lower again: only 3 and 4 are new to this socket
    await sync.resume({ a: 11 });
    sync.live(commit('a'));
    expect(seqs).toEqual(['a:10', 'a:11', ...range('a', 5, 9), 'a:3', 'a:4', 'a:12']);
  });

  it('a resume waits for a catch-up in flight instead of replaying under it', async () => {
    const { chat, commit } = store({ a: 3 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, deps(chat, 1));
    await sync.init(0);
    commit('a'); // 4: lost by the broker
    sync.live(commit('a')); // 5: starts a catch-up
    await sync.resume({ a: 1 });
    expect(seqs).toEqual(['a:4', 'a:5', 'a:2', 'a:3']);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('logs and counts a catch-up that fails, and retries it on the next event', async () => {
    const { chat, commit, failWith } = store({ a: 1 });
    const { conn, seqs } = socket();
    const shared = deps(chat, 10);
    const sync = new MessageSync(conn, shared);
    await sync.init(0);
    failWith(new Error('connection terminated'));
    commit('a'); // 2: lost by the broker
    sync.live(commit('a')); // 3: past a gap, and the catch-up fails
    await vi.waitFor(async () => {
      const counter = await shared.metrics.catchUpErrors.get();
      expect(counter.values[0]?.value).toBe(1);
    });
    expect(shared.warnings).toHaveLength(1);
    expect(shared.warnings[0]![0]).toMatchObject({ conversation_id: 'a', user_id: 'u1' });
    expect((shared.warnings[0]![0] as { err: Error }).err.message).toBe('connection terminated');
    expect(seqs).toEqual([]);
    failWith(undefined);
    sync.live(commit('a')); // 4: the next event catches up from 1
    await vi.waitFor(() => expect(seqs).toEqual(range('a', 2, 4)));
  });

  it('degraded-mode polling waits for the hold to end, then catches up in order', async () => {
    const { chat, commit } = store({ a: 2 });
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, deps(chat, 10));
    await sync.init(60_000);
    commit('a'); // 3 and 4: the broker is down, nothing comes live
    commit('a');
    const lastSeqs = await chat.conversationsOf('u1');
    expect(await sync.poll(lastSeqs)).toBe(0);
    expect(seqs).toEqual([]);
    sync.clientFrame('ping');
    expect(await sync.poll(lastSeqs)).toBe(2);
    expect(seqs).toEqual(['a:3', 'a:4']);
  });

  it('delivers a conversation joined after the start from its first message', async () => {
    const { chat } = store({});
    const { conn, seqs } = socket();
    const sync = new MessageSync(conn, deps(chat, 100));
    await sync.init(0);
    sync.live(message('new', 1));
    expect(seqs).toEqual(['new:1']);
  });
});
