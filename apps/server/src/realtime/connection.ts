import type { ServerMessage, ServerMessageType } from '@kith/contract';
import type { WebSocket } from 'ws';
import type { Metrics } from '../platform/observability/metrics.ts';

export interface ConnectionLimits {
  sendBufferSoftBytes: number;
  sendBufferHardBytes: number;
  maxMessagesPer10s: number;
}

/** How long a closing socket may take to flush its close frame before it is cut. */
const CLOSE_GRACE_MS = 2_000;
const RATE_WINDOW_MS = 10_000;

let nextId = 1;
/** Largest send buffer seen by any connection of this process (for the high-water gauge). */
let highWater = 0;

/**
 * One authenticated socket: sends with back-pressure rules (droppable events go first, a reader
 * that falls too far behind is cut with 1013), counts the client's message rate, remembers the
 * close code it chose for the metrics.
 */
export class Connection {
  readonly id = nextId++;
  readonly openedAt = Date.now();
  /** ms since the epoch of the unanswered ping, if one is out. */
  pingSentAt: number | undefined;
  lastPingAt = Date.now();
  status: 'online' | 'away' = 'online';
  /** The close code the server chose (undefined when the client closed or the socket broke). */
  closeCode: number | undefined;
  /** Client messages are handled one at a time, in order. */
  queue: Promise<void> = Promise.resolve();
  private windowStart = Date.now();
  private windowCount = 0;
  private drainWaiters: (() => void)[] = [];
  /** Called by ws once each frame is handed to the kernel: wakes replays waiting for room. */
  private readonly onSent = () => {
    if (this.drainWaiters.length > 0 && this.socket.bufferedAmount <= this.limits.sendBufferSoftBytes) {
      for (const wake of this.drainWaiters.splice(0)) wake();
    }
  };

  constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    readonly sessionId: string,
    private readonly limits: ConnectionLimits,
    private readonly metrics: Metrics['realtime'],
  ) {}

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN && this.closeCode === undefined;
  }

  /** Serializes and sends; see sendJson. */
  send(message: ServerMessage, droppable = false): boolean {
    return this.sendJson(JSON.stringify(message), message.type, droppable);
  }

  /**
   * Sends an already serialized event (serialized once for all its sockets). Returns false when it
   * was not sent: socket closing, dropped past the soft limit, or the socket cut past the hard one.
   */
  sendJson(json: string, type: ServerMessageType, droppable = false): boolean {
    if (!this.open) return false;
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.limits.sendBufferHardBytes) {
      this.close(1013, 'send buffer overflow');
      return false;
    }
    if (droppable && buffered > this.limits.sendBufferSoftBytes) {
      this.metrics.dropped.inc({ type });
      return false;
    }
    this.socket.send(json, this.onSent);
    this.metrics.messagesOut.inc({ type });
    const after = this.socket.bufferedAmount;
    if (after > highWater) {
      highWater = after;
      this.metrics.sendBufferHighWater.set(after);
    }
    return true;
  }

  /**
   * Resolves once the send buffer is back under the soft limit (or the socket is closing): a replay
   * waits here between messages, so a long replay to a reader that keeps up is paced, not cut.
   */
  drain(): Promise<void> {
    if (!this.open || this.socket.bufferedAmount <= this.limits.sendBufferSoftBytes) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
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
    for (const wake of this.drainWaiters.splice(0)) wake();
  }
}
