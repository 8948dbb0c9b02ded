import type { ChatMessage } from '@kith/contract';
import type { Metrics } from '../platform/observability/metrics.ts';
import type { Connection } from './connection.ts';
import type { ChatPort } from './ports.ts';

/** A conversation being replayed or caught up, or holding live messages past a gap. */
interface Busy {
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
 *
 * An idle socket holds only its position (a seq) in each conversation; the state of a replay or a
 * catch-up exists only while one runs.
 */
export class MessageSync {
  /** The highest seq this socket holds per conversation (delivered, or held by the client per its resume). */
  private positions: Map<string, number> | undefined = undefined;
  private busy: Map<string, Busy> | undefined = undefined;
  /** Live messages held until the baseline is known (init); none once it is. */
  private early: ChatMessage[] | undefined = undefined;
  private ready = false;
  /** Callers waiting for the baseline (only before it is known). */
  private waiting: (() => void)[] | undefined = undefined;

  constructor(
    private readonly conn: Connection,
    private readonly chat: ChatPort,
    private readonly batch: number,
    private readonly metrics: Metrics['realtime'],
  ) {}

  /**
   * Takes each conversation's current last seq as what this socket starts from (a client that holds
   * less says so with `resume`); a conversation joined later is delivered from its first message.
   */
  async init(): Promise<void> {
    try {
      for (const { conversationId, lastSeq } of await this.chat.conversationsOf(this.conn.userId)) {
        if (this.position(conversationId) === undefined) this.setPosition(conversationId, lastSeq);
      }
    } finally {
      const early = this.early ?? [];
      const waiting = this.waiting ?? [];
      this.early = undefined;
      this.waiting = undefined;
      this.ready = true;
      for (const wake of waiting) wake();
      for (const message of early) this.live(message);
    }
  }

  /** The seq this socket holds in a conversation (undefined: not seen yet). */
  position(conversationId: string): number | undefined {
    return this.positions?.get(conversationId);
  }

  /**
   * A `message.new` from the broker; `frame` is the event already serialized for all sockets.
   * Returns true when it was sent to the socket now (not held, not a duplicate).
   */
  live(message: ChatMessage, frame?: Buffer | string): boolean {
    if (!this.ready) {
      this.early ??= [];
      this.early.push(message);
      return false;
    }
    const id = message.conversationId;
    const seq = this.position(id) ?? 0;
    const busy = this.busy?.get(id);
    if (busy?.running) {
      if (message.seq > seq) busy.buffer.set(message.seq, message);
      if (busy.buffer.size > MAX_BUFFERED) this.conn.close(1013, 'too far behind');
      return false;
    }
    if (message.seq <= seq) return false; // delivered already
    if (message.seq === seq + 1) return this.deliver(id, message, frame, false);
    this.busyOf(id).buffer.set(message.seq, message);
    void this.catchUp(id).catch(() => {});
    return false;
  }

  /**
   * Replays from `positions` (conversation → last seq the client holds) and then from the buffers,
   * in order. Resolves with the number of messages replayed and the unknown conversation ids.
   */
  resume(positions: Record<string, number>): Promise<{ replayed: number; unknown: string[] }> {
    if (!this.ready) return this.whenReady().then(() => this.resume(positions));
    // synchronously up to the replay's first read: a live message from now on is held by it
    for (const [id, seq] of Object.entries(positions)) {
      this.setPosition(id, seq);
      this.busy?.get(id)?.buffer.clear();
    }
    return this.replay(Object.keys(positions));
  }

  /** Catches up on the conversations whose last seq (from Postgres) is past what this socket holds. */
  async poll(lastSeqs: readonly { conversationId: string; lastSeq: number }[]): Promise<number> {
    if (!this.ready) await this.whenReady();
    const behind = lastSeqs
      .filter(({ conversationId, lastSeq }) => lastSeq > (this.position(conversationId) ?? 0))
      .map(({ conversationId }) => conversationId);
    if (behind.length === 0) return 0;
    return (await this.replay(behind)).replayed;
  }

  /** One bulk read for `ids`, then per-conversation catch-up where more remain or live ones wait. */
  private async replay(ids: readonly string[]): Promise<{ replayed: number; unknown: string[] }> {
    const states = ids.map((id) => [id, this.busyOf(id)] as const);
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
      const positions = Object.fromEntries(mine.map(([id]) => [id, this.position(id) ?? 0]));
      const missed = await this.chat.missedSince(this.conn.userId, positions, this.batch);
      unknown = missed.unknown;
      for (const conv of missed.conversations) {
        const id = conv.conversationId;
        for (const message of conv.messages) {
          if (message.seq > (this.position(id) ?? 0)) {
            this.deliver(id, message, undefined, true);
            replayed += 1;
            await this.conn.drain();
          }
        }
        if (conv.hasMore) this.busyOf(id).again = true;
      }
    } finally {
      finish(replayed);
      for (const [id, s] of mine) {
        s.running = undefined;
        if (s.again || s.buffer.size > 0) followUps.push(id);
        if (unknown.includes(id)) {
          s.buffer.clear();
          this.positions?.delete(id);
          this.busy?.delete(id);
        } else this.settle(id);
      }
    }
    const more = await Promise.all(followUps.map((id) => this.catchUp(id)));
    replayed += more.reduce((a, b) => a + b, 0);
    // conversations another catch-up was already replaying: wait for it
    await Promise.all(states.filter(([, s]) => s.running).map(([, s]) => s.running));
    this.metrics.replaySize.observe(replayed);
    return { replayed, unknown };
  }

  private catchUp(id: string): Promise<number> {
    const busy = this.busyOf(id);
    if (busy.running) {
      busy.again = true;
      return busy.running;
    }
    const running = this.catchUpLoop(id, busy).finally(() => {
      busy.running = undefined;
      this.settle(id);
    });
    busy.running = running;
    return running;
  }

  private async catchUpLoop(id: string, busy: Busy): Promise<number> {
    let replayed = 0;
    for (let round = 0; round < MAX_ROUNDS && this.conn.open; round++) {
      busy.again = false;
      const missed = await this.chat.missedSince(
        this.conn.userId,
        { [id]: this.position(id) ?? 0 },
        this.batch,
      );
      const conv = missed.conversations[0];
      if (!conv) {
        busy.buffer.clear(); // no longer a member
        break;
      }
      for (const message of conv.messages) {
        if (message.seq > (this.position(id) ?? 0)) {
          this.deliver(id, message, undefined, true);
          replayed += 1;
          await this.conn.drain();
        }
      }
      if (conv.hasMore) continue;
      this.drainBuffer(id, busy);
      if (busy.buffer.size === 0 && !busy.again) break;
    }
    return replayed;
  }

  /** Delivers the buffered messages that follow on from the position, drops those already held. */
  private drainBuffer(id: string, busy: Busy) {
    const { buffer } = busy;
    const held = this.position(id) ?? 0;
    for (const seq of buffer.keys()) if (seq <= held) buffer.delete(seq);
    for (
      let next = buffer.get((this.position(id) ?? 0) + 1);
      next;
      next = buffer.get((this.position(id) ?? 0) + 1)
    ) {
      buffer.delete(next.seq);
      this.deliver(id, next, undefined, false);
    }
  }

  /** Sends one message and moves the position; replayed ones are `paced` (the replay waits in drain()). */
  private deliver(id: string, message: ChatMessage, frame: Buffer | string | undefined, paced: boolean) {
    this.setPosition(id, message.seq);
    const sent = this.conn.sendFrame(frame ?? JSON.stringify({ type: 'message.new', message }), false, paced);
    // live deliveries are counted by the gateway, once per event for all its sockets
    if (sent && frame === undefined) this.metrics.messagesOut.inc({ type: 'message.new' });
    return sent;
  }

  private setPosition(id: string, seq: number) {
    this.positions ??= new Map();
    this.positions.set(id, seq);
  }

  private busyOf(id: string): Busy {
    this.busy ??= new Map();
    let busy = this.busy.get(id);
    if (!busy) {
      busy = { buffer: new Map(), running: undefined, again: false };
      this.busy.set(id, busy);
    }
    return busy;
  }

  /** Forgets a conversation's busy state once nothing runs, waits or is held for it. */
  private settle(id: string) {
    const busy = this.busy?.get(id);
    if (busy && !busy.running && !busy.again && busy.buffer.size === 0) this.busy!.delete(id);
    if (this.busy?.size === 0) this.busy = undefined;
  }

  private whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting ??= [];
      this.waiting.push(resolve);
    });
  }
}
