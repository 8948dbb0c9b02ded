import type { Socket } from 'node:net';
import type { ServerMessage } from '@kith/contract';
import type { WebSocket } from 'ws';
import type { Metrics } from '../platform/observability/metrics.ts';
import type { MessageSync } from './message-sync.ts';

export interface ConnectionLimits {
  sendBufferSoftBytes: number;
  sendBufferHardBytes: number;
  maxMessagesPer10s: number;
}

/** How long a closing socket may take to flush its close frame before it is cut. */
const CLOSE_GRACE_MS = 2_000;
const RATE_WINDOW_MS = 10_000;
/** Every event is JSON: a text frame, also when it is handed to ws as a Buffer (ws would send binary). */
const TEXT = { binary: false } as const;

/** Largest send buffer seen by any connection of this process (for the high-water gauge). */
let highWater = 0;

/** Connections whose TCP socket is corked until the current burst of events has been handed out. */
const corked: Connection[] = [];

function uncorkAll() {
  for (const conn of corked.splice(0)) conn.uncork();
}

/**
 * One authenticated socket: sends with back-pressure rules (droppable events go first, a reader
 * that falls too far behind is cut with 1013), counts the client's message rate, remembers the
 * close code it chose for the metrics.
 *
 * Kept small: an idle connection holds only these fields (tens of thousands live per instance);
 * anything needed only while busy (waiters, the client-message queue) is created on demand.
 */
export class Connection {
  /** ms since the epoch of the unanswered ping, if one is out. */
  pingSentAt: number | undefined = undefined;
  lastPingAt = Date.now();
  status: 'online' | 'away' = 'online';
  /** The close code the server chose (undefined when the client closed or the socket broke). */
  closeCode: number | undefined = undefined;
  /** Client messages are handled one at a time, in order: the tail of that chain while one runs. */
  queue: Promise<void> | undefined = undefined;
  /** The acks of pipelined sends, in order: the tail of that chain while one is outstanding. */
  sends: Promise<void> | undefined = undefined;
  /** Exactly-once, in-order delivery of `message.new` (set by the gateway on accept). */
  sync!: MessageSync;
  private windowStart = Date.now();
  private windowCount = 0;
  /** Replays waiting for the send buffer to go back under the soft limit (only while one waits). */
  private drainWaiters: (() => void)[] | undefined = undefined;
  /** ws calls this once a paced frame is handed to the kernel: wakes replays waiting for room. */
  private onSent: (() => void) | undefined = undefined;

  /** Frames are gathered until the end of this turn of the event loop (see cork). */
  private corked = false;

  constructor(
    readonly socket: WebSocket,
    /** The upgraded TCP socket under `socket`. */
    private readonly tcp: Socket,
    readonly userId: string,
    readonly sessionId: string,
    private readonly limits: ConnectionLimits,
    private readonly metrics: Metrics['realtime'],
  ) {}

  get open(): boolean {
    return this.socket.readyState === 1 && this.closeCode === undefined;
  }

  /** Serializes and sends one event to this socket alone; see sendFrame. */
  send(message: ServerMessage, droppable = false): boolean {
    const sent = this.sendFrame(JSON.stringify(message), droppable);
    if (sent) this.metrics.messagesOut.inc({ type: message.type });
    else if (droppable && this.open) this.metrics.dropped.inc({ type: message.type });
    return sent;
  }

  /**
   * Sends an already serialized event (serialized once for all its sockets: a Buffer is written as
   * is). Returns false when it was not sent: socket closing, dropped past the soft limit (a
   * droppable event), or the socket cut past the hard one. The caller counts it in the metrics.
   * `paced`: a replay that will wait in drain() for room after this frame.
   */
  sendFrame(frame: Buffer | string, droppable = false, paced = false): boolean {
    if (!this.open) return false;
    const socket = this.socket;
    const buffered = socket.bufferedAmount;
    if (buffered > this.limits.sendBufferHardBytes) {
      this.close(1013, 'send buffer overflow');
      return false;
    }
    if (droppable && buffered > this.limits.sendBufferSoftBytes) return false;
    if (!this.corked) this.cork();
    // Only frames a replay paces itself on (or sent while one waits) need ws to call back once written.
    if (paced || this.drainWaiters !== undefined) {
      this.onSent ??= () => this.wakeIfRoom();
      socket.send(frame, TEXT, this.onSent);
    } else {
      socket.send(frame, TEXT);
    }
    const after = socket.bufferedAmount;
    if (after > highWater) {
      highWater = after;
      this.metrics.sendBufferHighWater.set(after);
    }
    return true;
  }

  /**
   * Resolves once the send buffer is back under the soft limit (or the socket is closing): a replay
   * waits here between messages (each sent `paced`), so a long replay to a reader that keeps up is
   * paced, not cut.
   */
  drain(): Promise<void> {
    if (!this.open || this.socket.bufferedAmount <= this.limits.sendBufferSoftBytes) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters ??= [];
      this.drainWaiters.push(resolve);
    });
  }

  /** Counts one client message; false once the connection is past its rate (the caller closes it). */
  countMessage(now = Date.now()): boolean {
    if (now - this.windowStart >= RATE_WINDOW_MS) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount += 1;
    return this.windowCount <= this.limits.maxMessagesPer10s;
  }

  /** Runs `task` (which handles its own errors) after the acks of the pipelined sends before it. */
  afterSends(task: () => Promise<void>): void {
    this.chain('sends', task);
  }

  /** Runs `task` (which handles its own errors) after the client messages before it, in order. */
  enqueue(task: () => Promise<void>): void {
    this.chain('queue', task);
  }

  /** Appends `task` to a chain; the chain is dropped once idle (an idle connection holds no promise). */
  private chain(key: 'queue' | 'sends', task: () => Promise<void>): void {
    const tail = (this[key] ?? Promise.resolve()).then(task);
    this[key] = tail;
    void tail.finally(() => {
      if (this[key] === tail) this[key] = undefined;
    });
  }

  /** Closes with `code` once; a peer that does not complete the closing handshake is cut after a grace. */
  close(code: number, reason: string): void {
    if (this.closeCode !== undefined) return;
    this.closeCode = code;
    this.releaseWaiters();
    const state = this.socket.readyState;
    if (state === this.socket.CLOSED) return;
    if (state === this.socket.OPEN) this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  /** Cuts the socket at once (no closing handshake): a peer that stopped answering pings. */
  terminate(code: number): void {
    this.closeCode ??= code;
    this.releaseWaiters();
    this.socket.terminate();
  }

  /** The socket closed (either side): nothing waits for room any more. */
  releaseWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = undefined;
    for (const wake of waiters ?? []) wake();
  }

  /**
   * Holds the socket's writes until the microtasks queued now have run: the events of one read from
   * the broker (each handed out in a microtask) reach a socket in one write instead of one per
   * event, so a busy gateway makes fewer system calls. Nothing waits for a later turn of the loop.
   */
  private cork() {
    this.corked = true;
    this.tcp.cork();
    if (corked.push(this) === 1) queueMicrotask(uncorkAll);
  }

  /** Writes what was gathered since cork() (one write for all of it). */
  uncork(): void {
    this.corked = false;
    this.tcp.uncork();
  }

  private wakeIfRoom() {
    if (this.drainWaiters !== undefined && this.socket.bufferedAmount <= this.limits.sendBufferSoftBytes) {
      this.releaseWaiters();
    }
  }
}
