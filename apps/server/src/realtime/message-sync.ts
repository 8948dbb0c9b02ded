import type { ChatMessage } from '@kith/contract';
import type { Metrics } from '../platform/observability/metrics.ts';
import type { Connection } from './connection.ts';
import type { ChatPort } from './ports.ts';

interface ConversationState {
  /** The highest seq this socket holds (delivered, or held by the client per its resume). */
  seq: number;
  /** Live messages that arrived while a replay ran, or past a gap, by seq. */
  buffer: Map<number, ChatMessage>;
  running: Promise<number> | undefined;
  /** Something arrived during the running replay that it must look at again. */
  again: boolean;
}

/** Rounds of one catch-up before giving up until the next event (a gap that will not close). */
const MAX_ROUNDS = 20;
/** Live messages held for one conversation while its replay waits on a slow reader, at most. */
const MAX_BUFFERED = 2000;

/**
 * Delivers `message.new` to one socket exactly once and in seq order per conversation, whether it
 * comes live from the broker, from a resume, or from a catch-up (a gap, degraded-mode polling).
 *
 * Live messages for a conversation being replayed are buffered; after the replay, those at or below
 * the last replayed seq are dropped and the rest delivered in order. A live message past a gap (one
 * lost by the broker) starts a catch-up from Postgres, which is the truth: seqs are gapless there.
 */
export class MessageSync {
  private readonly conversations = new Map<string, ConversationState>();
  /** Live messages held until the baseline is known; undefined once it is. */
  private early: ChatMessage[] | undefined = [];
  private readonly initialized: Promise<void>;
  private markInitialized!: () => void;

  constructor(
    private readonly conn: Connection,
    private readonly chat: ChatPort,
    private readonly batch: number,
    private readonly metrics: Metrics['realtime'],
  ) {
    this.initialized = new Promise((resolve) => {
      this.markInitialized = resolve;
    });
  }

  /**
   * Takes each conversation's current last seq as what this socket starts from (a client that holds
   * less says so with `resume`); a conversation joined later is delivered from its first message.
   */
  async init(): Promise<void> {
    try {
      for (const { conversationId, lastSeq } of await this.chat.conversationsOf(this.conn.userId)) {
        if (!this.conversations.has(conversationId)) this.state(conversationId).seq = lastSeq;
      }
    } finally {
      const early = this.early ?? [];
      this.early = undefined;
      this.markInitialized();
      for (const message of early) this.live(message);
    }
  }

  /** The seq this socket holds in a conversation (undefined: not seen yet). */
  position(conversationId: string): number | undefined {
    return this.conversations.get(conversationId)?.seq;
  }

  /** A `message.new` from the broker; `json` is the event already serialized for all sockets. */
  live(message: ChatMessage, json?: string): void {
    if (this.early) {
      this.early.push(message);
      return;
    }
    const state = this.state(message.conversationId);
    if (state.running) {
      if (message.seq > state.seq) state.buffer.set(message.seq, message);
      if (state.buffer.size > MAX_BUFFERED) this.conn.close(1013, 'too far behind');
      return;
    }
    if (message.seq <= state.seq) return; // delivered already
    if (message.seq === state.seq + 1) {
      this.deliver(state, message, json);
      return;
    }
    state.buffer.set(message.seq, message);
    void this.catchUp(message.conversationId).catch(() => {});
  }

  /**
   * Replays from `positions` (conversation → last seq the client holds) and then from the buffers,
   * in order. Resolves with the number of messages replayed and the unknown conversation ids.
   */
  async resume(positions: Record<string, number>): Promise<{ replayed: number; unknown: string[] }> {
    await this.initialized;
    for (const [id, seq] of Object.entries(positions)) {
      const state = this.state(id);
      state.seq = seq;
      state.buffer.clear();
    }
    return this.replay(Object.keys(positions));
  }

  /** Catches up on the conversations whose last seq (from Postgres) is past what this socket holds. */
  async poll(lastSeqs: readonly { conversationId: string; lastSeq: number }[]): Promise<number> {
    await this.initialized;
    const behind = lastSeqs
      .filter(({ conversationId, lastSeq }) => lastSeq > (this.conversations.get(conversationId)?.seq ?? 0))
      .map(({ conversationId }) => conversationId);
    if (behind.length === 0) return 0;
    return (await this.replay(behind)).replayed;
  }

  /** One bulk read for `ids`, then per-conversation catch-up where more remain or live ones wait. */
  private async replay(ids: readonly string[]): Promise<{ replayed: number; unknown: string[] }> {
    const states = ids.map((id) => [id, this.state(id)] as const);
    let finish!: (n: number) => void;
    const bulk = new Promise<number>((resolve) => {
      finish = resolve;
    });
    // catch-ups already running keep their conversation; the others wait for this bulk read
    const mine = states.filter(([, s]) => !s.running);
    for (const [, s] of mine) s.running = bulk;
    let replayed = 0;
    let unknown: string[] = [];
    const followUps: string[] = [];
    try {
      const positions = Object.fromEntries(mine.map(([id, s]) => [id, s.seq]));
      const missed = await this.chat.missedSince(this.conn.userId, positions, this.batch);
      unknown = missed.unknown;
      for (const conv of missed.conversations) {
        const state = this.state(conv.conversationId);
        for (const message of conv.messages) {
          if (message.seq > state.seq) {
            this.deliver(state, message);
            replayed += 1;
            await this.conn.drain();
          }
        }
        if (conv.hasMore) state.again = true;
      }
    } finally {
      finish(replayed);
      for (const [id, s] of mine) {
        s.running = undefined;
        if (s.again || s.buffer.size > 0) followUps.push(id);
        if (unknown.includes(id)) {
          s.buffer.clear();
          this.conversations.delete(id);
        }
      }
    }
    const more = await Promise.all(followUps.map((id) => this.catchUp(id)));
    replayed += more.reduce((a, b) => a + b, 0);
    // conversations another catch-up was already replaying: wait for it
    await Promise.all(states.filter(([, s]) => s.running).map(([, s]) => s.running));
    this.metrics.replaySize.observe(replayed);
    return { replayed, unknown };
  }

  private catchUp(conversationId: string): Promise<number> {
    const state = this.state(conversationId);
    if (state.running) {
      state.again = true;
      return state.running;
    }
    state.running = this.catchUpLoop(conversationId, state).finally(() => {
      state.running = undefined;
    });
    return state.running;
  }

  private async catchUpLoop(conversationId: string, state: ConversationState): Promise<number> {
    let replayed = 0;
    for (let round = 0; round < MAX_ROUNDS && this.conn.open; round++) {
      state.again = false;
      const missed = await this.chat.missedSince(
        this.conn.userId,
        { [conversationId]: state.seq },
        this.batch,
      );
      const conv = missed.conversations[0];
      if (!conv) {
        state.buffer.clear(); // no longer a member
        break;
      }
      for (const message of conv.messages) {
        if (message.seq > state.seq) {
          this.deliver(state, message);
          replayed += 1;
          await this.conn.drain();
        }
      }
      if (conv.hasMore) continue;
      this.drain(state);
      if (state.buffer.size === 0 && !state.again) break;
    }
    return replayed;
  }

  /** Delivers the buffered messages that follow on from `state.seq`, drops those already held. */
  private drain(state: ConversationState) {
    for (const seq of state.buffer.keys()) if (seq <= state.seq) state.buffer.delete(seq);
    for (let next = state.buffer.get(state.seq + 1); next; next = state.buffer.get(state.seq + 1)) {
      state.buffer.delete(next.seq);
      this.deliver(state, next);
    }
  }

  private deliver(state: ConversationState, message: ChatMessage, json?: string) {
    state.seq = message.seq;
    this.conn.sendJson(json ?? JSON.stringify({ type: 'message.new', message }), 'message.new');
  }

  private state(conversationId: string): ConversationState {
    let state = this.conversations.get(conversationId);
    if (!state) {
      state = { seq: 0, buffer: new Map(), running: undefined, again: false };
      this.conversations.set(conversationId, state);
    }
    return state;
  }
}
