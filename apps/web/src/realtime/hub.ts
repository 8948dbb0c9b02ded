import type { ClientMessage, ServerMessage } from '@kith/contract';
import { electLeader, type Leadership, type LocksLike } from './leader.ts';
import type { ConnectionState } from './socket.ts';

/** What tabs of one user tell each other (one BroadcastChannel per user). */
export type TabMessage =
  | { kind: 'event'; event: ServerMessage }
  | { kind: 'state'; state: ConnectionState }
  | { kind: 'send'; frame: ClientMessage }
  | { kind: 'retry' }
  | { kind: 'hello' };

export interface ChannelLike {
  postMessage(message: TabMessage): void;
  onmessage: ((event: { data: TabMessage }) => void) | null;
  close(): void;
}

/** The socket as the hub drives it (SocketConnection in the browser). */
export interface HubSocket {
  readonly state: ConnectionState;
  start(): void;
  stop(): void;
  send(frame: ClientMessage): boolean;
  retryNow(): void;
  wentOffline(): void;
}

export interface HubDeps {
  locks: LocksLike | undefined;
  channel: ChannelLike | undefined;
  /** Lock name, per user: another account signed in later never shares this socket. */
  lockName: string;
  /** Makes the socket, wired to call back `onEvent` / `onState` of this hub. */
  createSocket(handlers: { onEvent(e: ServerMessage): void; onState(s: ConnectionState): void }): HubSocket;
}

type Listener = (event: ServerMessage) => void;

/**
 * One realtime connection for all of a user's tabs. The leader tab (Web Lock) holds the socket and
 * relays every event to the other tabs over a BroadcastChannel; the other tabs' frames go to the
 * leader the same way. When the leader closes, the lock passes to a waiting tab, which opens a
 * socket and resumes from the positions it holds (every tab saw every event, so each knows them).
 */
export class RealtimeHub {
  private socket: HubSocket | undefined;
  private leadership: Leadership | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<() => void>();
  private current: ConnectionState = 'reconnecting';

  constructor(private readonly deps: HubDeps) {}

  get isLeader(): boolean {
    return this.socket !== undefined;
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    const { channel } = this.deps;
    if (channel) channel.onmessage = (message) => this.fromTab(message.data);
    channel?.postMessage({ kind: 'hello' });
    this.leadership = electLeader(this.deps.locks, this.deps.lockName, () => this.lead());
  }

  stop(): void {
    this.leadership?.release();
    this.leadership = undefined;
    this.socket?.stop();
    this.socket = undefined;
    if (this.deps.channel) {
      this.deps.channel.onmessage = null;
      this.deps.channel.close();
    }
  }

  /** Every event, in every tab, in the order the leader received them. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** For `useSyncExternalStore`. */
  subscribeState = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  getState = (): ConnectionState => this.current;

  /**
   * Sends a frame through the one socket (this tab's, or the leader's). false: not live now, the
   * caller falls back to HTTP. A follower's frame is handed to the leader without confirmation;
   * sends that need one wait for the answering event (ack or error by clientMessageId).
   */
  send(frame: ClientMessage): boolean {
    if (this.current !== 'live') return false;
    if (this.socket) return this.socket.send(frame);
    this.deps.channel?.postMessage({ kind: 'send', frame });
    return this.deps.channel !== undefined;
  }

  /** The browser went offline (every tab hears it; the leader acts). */
  wentOffline(): void {
    this.socket?.wentOffline();
  }

  /** Reconnect now if waiting to (any tab may notice the network coming back). */
  retryNow(): void {
    if (this.socket) this.socket.retryNow();
    else this.deps.channel?.postMessage({ kind: 'retry' });
  }

  private lead() {
    this.socket = this.deps.createSocket({
      onEvent: (event) => {
        this.deps.channel?.postMessage({ kind: 'event', event });
        this.dispatch(event);
      },
      onState: (state) => {
        this.deps.channel?.postMessage({ kind: 'state', state });
        this.setState(state);
      },
    });
    // until this socket is up, the tabs that saw the old leader live must not think they still are
    this.deps.channel?.postMessage({ kind: 'state', state: this.socket.state });
    this.setState(this.socket.state);
    this.socket.start();
  }

  private fromTab(message: TabMessage) {
    switch (message.kind) {
      case 'event':
        if (!this.socket) this.dispatch(message.event);
        return;
      case 'state':
        if (!this.socket) this.setState(message.state);
        return;
      case 'send':
        this.socket?.send(message.frame);
        return;
      case 'retry':
        this.socket?.retryNow();
        return;
      case 'hello':
        if (this.socket) this.deps.channel?.postMessage({ kind: 'state', state: this.socket.state });
        return;
    }
  }

  private dispatch(event: ServerMessage) {
    for (const listener of this.listeners) listener(event);
  }

  private setState(state: ConnectionState) {
    if (state === this.current) return;
    this.current = state;
    for (const listener of this.stateListeners) listener();
  }
}
