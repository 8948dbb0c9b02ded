import type { ChatMessage } from '@kith/contract';
import type { Logger } from '../platform/observability/logger.ts';
import type { Metrics } from '../platform/observability/metrics.ts';
import type { Connection } from './connection.ts';
import type { ChatPort } from './ports.ts';

/** What every socket's MessageSync shares (one object per gateway, so a socket holds one reference). */
export interface SyncDeps {
  chat: ChatPort;
  /** Messages read per query when replaying or catching up. */
  batch: number;
  metrics: Metrics['realtime'];
  logger: Pick<Logger, 'warn'>;
}

/** A conversation being replayed or caught up, or holding live messages (past a gap, or held). */
interface Busy {
  /** Live messages that arrived while a replay ran, past a gap, or during the hold, by seq. */
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
 * - **Hold.** From the baseline (each conversation's last seq when the socket opened) until the
 *   client says where it stands, live messages are held, not sent: a `resume` then replays from the
 *   client's positions and the held messages follow, in order, with nothing twice. A client that
 *   sends another frame first, or nothing within the hold's deadline, is not resuming: the held
 *   messages follow from the baseline.
 * - **Never twice.** The socket remembers, per conversation, where its own deliveries began (the
 *   floor): a `resume` that comes after live delivery has begun (a late one) replays only the gap
 *   below the floor, and never a seq this socket has already sent. That gap is the one case where
 *   an older seq follows a newer one.
 * - **Gaps.** Live messages for a conversation being replayed are buffered; after the replay, those
 *   at or below the last replayed seq are dropped and the rest delivered in order. A live message
 *   past a gap (one lost by the broker) starts a catch-up from Postgres, which is the truth: seqs
 *   are gapless there. A catch-up that fails is logged and counted; the next event retries it.
 *
 * An idle socket holds its position (a seq) in each conversation and the floor of those it has
 * delivered to; the state of a replay or a catch-up exists only while one runs.
 */
export class MessageSync {
  /** The highest seq this socket holds per conversation (delivered, or held by the client per its resume). */
  private positions: Map<string, number> | undefined = undefined;
  /** Per conversation this socket delivered to: the position before its first delivery (it sent (floor, position]). */
  private floors: Map<string, number> | undefined = undefined;
  private busy: Map<string, Busy> | undefined = undefined;
  /** Live messages held until the baseline is known (init); none once it is. */
  private early: ChatMessage[] | undefined = undefined;
  private ready = false;
  /** Live messages are held until the client says where it stands (see the class comment). */
  private held = true;
  /** A `resume` frame has been received: hold, with no deadline, until it runs. */
  private resumeComing = false;
  private holdTimer: NodeJS.Timeout | undefined = undefined;
  /** Callers waiting for the baseline (only before it is known). */
  private waiting: (() => void)[] | undefined = undefined;

  constructor(
    private readonly conn: Connection,
    private readonly deps: SyncDeps,
  ) {}

  /**
   * Takes each conversation's current last seq as what this socket starts from (a client that holds
   * less says so with `resume`); a conversation joined later is delivered from its first message.
   * Live messages are then held for up to `holdMs` (0: not at all) unless a resume is coming.
   */
  async init(holdMs: number): Promise<void> {
    try {
      for (const { conversationId, lastSeq } of await this.deps.chat.conversationsOf(this.conn.userId)) {
        if (this.position(conversationId) === undefined) this.setPosition(conversationId, lastSeq);
      }
    } finally {
      const early = this.early ?? [];
      const waiting = this.waiting ?? [];
      this.early = undefined;
      this.waiting = undefined;
      this.ready = true;
      if (this.held && !this.resumeComing) {
        if (holdMs > 0) this.holdTimer = setTimeout(() => this.release(), holdMs).unref();
        else this.held = false;
      }
      for (const wake of waiting) wake();
      for (const message of early) this.live(message);
    }
  }

  /** The seq this socket holds in a conversation (undefined: not seen yet). */
  position(conversationId: string): number | undefined {
    return this.positions?.get(conversationId);
  }

  /** Whether live messages are still held for the client's resume. */
  get holding(): boolean {
    return this.held;
  }

  /** A valid frame from the client (in the order received): a `resume` keeps the hold until it runs, anything else first ends it. */
  clientFrame(type: string): void {
    if (!this.held || this.resumeComing) return;
    if (type !== 'resume') {
      this.release();
      return;
    }
    this.resumeComing = true;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  /** Ends the hold: what was held follows from the baseline, in order (a gap is caught up first). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.resumeComing = false;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    for (const [id, busy] of this.busy ?? []) {
      if (busy.running) continue; // its replay merges the buffer when it is done
      this.drainBuffer(id, busy);
      if (busy.buffer.size > 0) this.startCatchUp(id);
      else this.settle(id);
    }
  }

  /** The socket closed: nothing is held for it any more. */
  close(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
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
    if (message.seq <= seq) return false; // delivered already, or held by the client
    if (this.held || this.busy?.get(id)?.running) {
      const { buffer } = this.busyOf(id);
      buffer.set(message.seq, message);
      if (buffer.size > MAX_BUFFERED) this.conn.close(1013, 'too far behind');
      return false;
    }
    if (message.seq === seq + 1) return this.deliver(id, message, frame, false);
    this.busyOf(id).buffer.set(message.seq, message);
    this.startCatchUp(id);
    return false;
  }

  /**
   * Replays from `positions` (conversation → last seq the client holds) and then from the buffers,
   * in order; ends the hold. Where this socket has already delivered messages of a conversation,
   * only the gap below them is replayed. Resolves with the number of messages replayed and the
   * unknown conversation ids.
   */
  async resume(positions: Record<string, number>): Promise<{ replayed: number; unknown: string[] }> {
    if (!this.ready) await this.whenReady();
    const ids = Object.keys(positions);
    // a catch-up in flight finishes first, so that what it sent is known when choosing below
    for (let running = this.runningFor(ids); running.length > 0; running = this.runningFor(ids)) {
      await Promise.allSettled(running);
    }
    // synchronous from here up to the replay's first read: a live message is held by it
    const gaps: { id: string; after: number; upTo: number }[] = [];
    for (const id of ids) {
      const holds = positions[id]!;
      const floor = this.floors?.get(id);
      if (floor === undefined) {
        this.setPosition(id, holds); // nothing sent here yet: replay from the client's position, in order
        continue;
      }
      if (holds < floor) {
        gaps.push({ id, after: holds, upTo: floor });
        this.floors!.set(id, holds);
      }
      if (holds > (this.position(id) ?? 0)) this.setPosition(id, holds);
    }
    const replaying = this.replay(ids);
    this.resumeComing = false;
    this.release(); // the conversations not named: from the baseline
    const [result, filled] = await Promise.all([
      replaying,
      Promise.all(gaps.map((gap) => this.fillGap(gap))),
    ]);
    return { replayed: result.replayed + filled.reduce((a, b) => a + b, 0), unknown: result.unknown };
  }

  /** Catches up on the conversations whose last seq (from Postgres) is past what this socket holds. */
  async poll(lastSeqs: readonly { conversationId: string; lastSeq: number }[]): Promise<number> {
    if (!this.ready) await this.whenReady();
    if (this.held) return 0; // the resume (or the end of the hold) decides where this socket starts
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
      const missed = await this.deps.chat.missedSince(this.conn.userId, positions, this.deps.batch);
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
        if (unknown.includes(id)) {
          s.buffer.clear();
          this.positions?.delete(id);
          this.floors?.delete(id);
          this.busy?.delete(id);
          continue;
        }
        // what was held follows on from the replay without another read, unless a gap remains
        if (!s.again && !this.held) this.drainBuffer(id, s);
        if (s.again || s.buffer.size > 0) followUps.push(id);
        else this.settle(id);
      }
    }
    const more = await Promise.all(followUps.map((id) => this.catchUp(id)));
    replayed += more.reduce((a, b) => a + b, 0);
    // conversations another catch-up was already replaying: wait for it
    await Promise.all(states.filter(([, s]) => s.running).map(([, s]) => s.running));
    this.deps.metrics.replaySize.observe(replayed);
    return { replayed, unknown };
  }

  /** Sends the messages in (after, upTo] of a conversation, which this socket has not sent: the gap of a late resume. */
  private async fillGap({ id, after, upTo }: { id: string; after: number; upTo: number }): Promise<number> {
    let sent = 0;
    for (let from = after; from < upTo && this.conn.open; ) {
      const missed = await this.deps.chat.missedSince(this.conn.userId, { [id]: from }, this.deps.batch);
      const conv = missed.conversations[0];
      if (!conv) break;
      const page = conv.messages.filter((m) => m.seq > from && m.seq <= upTo);
      for (const message of page) {
        this.send(message, undefined, true);
        sent += 1;
        await this.conn.drain();
      }
      if (page.length === 0 || page.length < conv.messages.length || !conv.hasMore) break;
      from = page.at(-1)!.seq;
    }
    return sent;
  }

  /** Starts a catch-up nobody waits for (a live message past a gap, the end of the hold): a failure is logged and counted. */
  private startCatchUp(id: string) {
    this.catchUp(id).catch((err: unknown) => {
      this.deps.metrics.catchUpErrors.inc();
      this.deps.logger.warn(
        { err, conversation_id: id, user_id: this.conn.userId },
        'realtime catch-up failed; the next event retries it',
      );
    });
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
      const missed = await this.deps.chat.missedSince(
        this.conn.userId,
        { [id]: this.position(id) ?? 0 },
        this.deps.batch,
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

  /** Sends the next message of a conversation and moves the position (and notes the floor on the first one). */
  private deliver(id: string, message: ChatMessage, frame: Buffer | string | undefined, paced: boolean) {
    if (!this.floors?.has(id)) {
      this.floors ??= new Map();
      this.floors.set(id, this.position(id) ?? 0);
    }
    this.setPosition(id, message.seq);
    return this.send(message, frame, paced);
  }

  /** Writes one `message.new`; replayed ones are `paced` (the replay waits in drain()). */
  private send(message: ChatMessage, frame: Buffer | string | undefined, paced: boolean) {
    const sent = this.conn.sendFrame(frame ?? JSON.stringify({ type: 'message.new', message }), false, paced);
    // live deliveries are counted by the gateway, once per event for all its sockets
    if (sent && frame === undefined) this.deps.metrics.messagesOut.inc({ type: 'message.new' });
    return sent;
  }

  private setPosition(id: string, seq: number) {
    this.positions ??= new Map();
    this.positions.set(id, seq);
  }

  private runningFor(ids: readonly string[]): Promise<number>[] {
    const running: Promise<number>[] = [];
    if (!this.busy) return running;
    for (const id of ids) {
      const promise = this.busy.get(id)?.running;
      if (promise) running.push(promise);
    }
    return running;
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
