import type { ClientMessage, ServerMessage } from '@kith/contract';
import { attemptsToCap, type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

/** What a person sees: the socket is up, being re-established, or the network is gone. */
export type ConnectionState = 'live' | 'reconnecting' | 'offline';

/** The little of the browser's WebSocket used here (a fake one in unit tests). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface SocketDeps {
  /** A fresh single-use ticket (one per connection); throws when the server cannot be reached. */
  ticket(): Promise<string>;
  /** Opens the socket for a ticket (`new WebSocket(url, 'kith.v1')` in the browser). */
  open(ticket: string): SocketLike;
  /** conversation id → the last seq held, sent as the first frame of every connection. */
  positions(): Record<string, number>;
  onEvent(event: ServerMessage): void;
  onState(state: ConnectionState): void;
  /** Whether the browser believes it is online (navigator.onLine). */
  online(): boolean;
  backoff?: BackoffOptions;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const OPEN = 1;
/** Until the server's hello says otherwise. */
const DEFAULT_HEARTBEAT_MS = 25_000;
/** Closed by us because nothing came for two heartbeats (never sent by the server). */
export const WATCHDOG_CLOSE = 4000;

/**
 * One WebSocket to the realtime gateway, kept up: a ticket fetched per connection, `resume` with
 * the positions held as the first frame (the server holds live messages until it reads it), an
 * application ping every heartbeat and a watchdog that reconnects when nothing at all arrived for
 * two heartbeats, and reconnects spaced by exponential backoff with full jitter (at the cap's pace
 * while the browser is offline). `retryNow()` skips the wait (the network came back, the tab
 * became visible).
 */
export class SocketConnection {
  private socket: SocketLike | undefined;
  private attempt = 0;
  private retryTimer: unknown;
  private pingTimer: unknown;
  private watchdog: unknown;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private stopped = true;
  private connecting = false;
  private current: ConnectionState = 'reconnecting';
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly deps: SocketDeps) {
    this.setTimer = deps.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = deps.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer(this.retryTimer);
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'bye');
    }
  }

  /** Sends a frame now; false when the socket is not open (the caller falls back to HTTP). */
  send(frame: ClientMessage): boolean {
    if (this.current !== 'live' || this.socket?.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Reconnects at once if waiting to (the network came back, the tab is visible again). */
  retryNow(): void {
    if (this.stopped || this.socket || this.connecting) return;
    // back from offline: should the server not answer yet, the backoff starts over from short waits
    if (this.current === 'offline' && this.deps.online()) this.attempt = 0;
    this.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    void this.connect();
  }

  /**
   * The browser says it went offline: say so now rather than after the watchdog, drop the socket
   * (it cannot carry anything) and wait for `online` (retryNow) or the backoff.
   */
  wentOffline(): void {
    if (this.stopped) return;
    const socket = this.socket;
    if (socket) {
      this.socket = undefined;
      this.stopHeartbeat();
      socket.onclose = null;
      socket.close(1000, 'offline');
    }
    if (!this.connecting) this.retryLater(true);
    this.setState('offline');
  }

  private setState(state: ConnectionState) {
    if (state === this.current) return;
    this.current = state;
    this.deps.onState(state);
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    let ticket: string;
    try {
      ticket = await this.deps.ticket();
    } catch {
      this.connecting = false;
      if (!this.stopped) this.retryLater(true);
      return;
    }
    this.connecting = false;
    if (this.stopped) return;
    const socket = this.deps.open(ticket);
    this.socket = socket;
    socket.onopen = () => {
      // the first frame: the server holds live messages until it has read where we stand
      socket.send(JSON.stringify({ type: 'resume', conversations: this.deps.positions() }));
      this.armWatchdog();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.armWatchdog();
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return;
      }
      if (message.type === 'hello') {
        this.heartbeatMs = message.heartbeatMs > 0 ? message.heartbeatMs : DEFAULT_HEARTBEAT_MS;
        this.attempt = 0;
        this.startHeartbeat();
        this.setState('live');
      }
      this.deps.onEvent(message);
    };
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.stopHeartbeat();
      if (!this.stopped) this.retryLater(false);
    };
  }

  private retryLater(unreachable: boolean) {
    const offline = !this.deps.online();
    this.setState(unreachable && offline ? 'offline' : 'reconnecting');
    const backoff = this.deps.backoff ?? DEFAULT_BACKOFF;
    // offline, a ticket cannot come: the network's return (retryNow) is what to wait for, and the
    // timer only covers a browser wrong about being offline — at the cap's pace, not a short one
    const attempt = offline ? Math.max(this.attempt, attemptsToCap(backoff)) : this.attempt;
    this.attempt = attempt + 1;
    const delay = backoffDelay(attempt, backoff);
    this.clearTimer(this.retryTimer);
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private startHeartbeat() {
    this.clearTimer(this.pingTimer);
    const tick = () => {
      if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify({ type: 'ping' }));
      this.pingTimer = this.setTimer(tick, this.heartbeatMs);
    };
    this.pingTimer = this.setTimer(tick, this.heartbeatMs);
  }

  /** Nothing for two heartbeats (not even our ping's pong): the socket is dead, whatever it says. */
  private armWatchdog() {
    this.clearTimer(this.watchdog);
    const socket = this.socket;
    this.watchdog = this.setTimer(() => {
      if (this.socket !== socket || !socket) return;
      this.socket = undefined;
      this.stopHeartbeat();
      socket.onclose = null;
      socket.close(WATCHDOG_CLOSE, 'no traffic');
      if (!this.stopped) this.retryLater(false);
    }, 2 * this.heartbeatMs);
  }

  private stopHeartbeat() {
    this.clearTimer(this.pingTimer);
    this.clearTimer(this.watchdog);
    this.pingTimer = undefined;
    this.watchdog = undefined;
  }
}
