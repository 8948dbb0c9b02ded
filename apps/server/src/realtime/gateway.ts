import type { Socket } from 'node:net';
import { type ChatMessage, REALTIME_PROTOCOL } from '@kith/contract';
import { type Span, SpanKind } from '@opentelemetry/api';
import { type RawData, WebSocket } from 'ws';
import type { Config } from '../config.ts';
import { SESSION_REVOKED_CHANNEL, USER_CHANGED_CHANNEL } from '../modules/auth/session-cache.ts';
import { userChannel } from '../modules/notifications/notifications.service.ts';
import type { Broker, Delivery } from '../platform/broker/broker.ts';
import type { Logger } from '../platform/observability/logger.ts';
import type { Metrics } from '../platform/observability/metrics.ts';
import { contextFrom, linksTo, tracer, tracingActive } from '../platform/observability/trace-context.ts';
import { ClientMessages } from './client-messages.ts';
import { Connection } from './connection.ts';
import { DegradedPoller } from './degraded.ts';
import { MessageSync, type SyncDeps } from './message-sync.ts';
import type { ChatPort, SessionsPort } from './ports.ts';
import type { Presence } from './presence.ts';

export interface GatewayDeps {
  config: Config['realtime'];
  broker: Broker;
  chat: ChatPort;
  sessions: SessionsPort;
  presence: Presence;
  metrics: Metrics;
  logger: Logger;
  /** Whether live delivery across instances is down now (Redis configured but unreachable). */
  degraded(): boolean;
  /** Calls `listener` when degraded() changes; returns a function that stops listening. */
  onDegradedChange(listener: (degraded: boolean) => void): () => void;
}

interface UserEntry {
  connections: Set<Connection>;
  /** Resolves once `user.<id>` is subscribed, with the function that unsubscribes. */
  subscription: Promise<(() => Promise<void>) | undefined>;
  status: 'online' | 'away';
}

/** Events forwarded to every socket of the user as they are; droppable ones go first under pressure. */
const FORWARDED = new Set<string>([
  'message.updated',
  'message.deleted',
  'conversation.read',
  'member.read',
  'conversation.updated',
  'notification.new',
  'feed.new',
]);
const DROPPABLE = new Set<string>(['typing', 'presence']);

/**
 * The class of the gateway's sockets (ws's `WebSocket` option): the socket carries its Connection
 * in a field of its own, where the listeners shared by every socket find it (no side table, and no
 * property added to the object later, which would give each socket a property array).
 */
export class GatewaySocket extends WebSocket {
  connection: Connection | undefined = undefined;
}
const connectionOf = (socket: WebSocket) => (socket as GatewaySocket).connection!;

/**
 * The connection registry and broker fan-out of one instance. Each instance subscribes only to the
 * `user.<id>` channels of users with a socket here (on the first socket, unsubscribing after the
 * last) and hands each event to each of those sockets once; `message.new` goes through the socket's
 * MessageSync so that live, replayed and caught-up messages arrive once and in order.
 */
export class Gateway {
  private readonly users = new Map<string, UserEntry>();
  private readonly bySession = new Map<string, Set<Connection>>();
  private readonly handlers: ClientMessages;
  private readonly poller: DegradedPoller;
  private readonly stops: (() => unknown)[] = [];
  private readonly listeners: {
    message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
    pong: (this: WebSocket) => void;
    error: (this: WebSocket, err: Error) => void;
    close: (this: WebSocket, code: number) => void;
  };
  private closing = false;
  private isDegraded = false;
  /** Frames of the events the broker handed out (shared objects, see dispatch), while they live. */
  private readonly frames = new WeakMap<object, Buffer>();
  /** What every socket's MessageSync shares. */
  private readonly sync: SyncDeps;
  /** The delivery span of each broker batch being handed out in this turn (tracing only). */
  private readonly deliverySpans = new WeakMap<readonly Delivery[], { span: Span; sockets: number }>();

  constructor(private readonly deps: GatewayDeps) {
    this.sync = {
      chat: deps.chat,
      batch: deps.config.replayBatch,
      metrics: deps.metrics.realtime,
      logger: deps.logger,
    };
    this.handlers = new ClientMessages(deps, (conn, status) => this.statusChanged(conn, status));
    this.poller = new DegradedPoller(deps, () => this.users.entries());
    const gateway = this;
    this.listeners = {
      message(this: WebSocket, data: RawData, isBinary: boolean) {
        gateway.handlers.frame(connectionOf(this), data as Buffer, isBinary);
      },
      pong(this: WebSocket) {
        connectionOf(this).pingSentAt = undefined;
      },
      // ws closes the socket itself on a protocol error (1007, 1009…): nothing to add but a log line
      error(this: WebSocket, err: Error) {
        deps.logger.debug({ err, user_id: connectionOf(this).userId }, 'websocket error');
      },
      close(this: WebSocket, code: number) {
        gateway.closed(connectionOf(this), code);
      },
    };
  }

  /** Subscribes to session revocations and starts the heartbeat, presence refresh and degraded watch. */
  async start(): Promise<void> {
    const { broker, config } = this.deps;
    const offSession = await broker.subscribe(SESSION_REVOKED_CHANNEL, (message) => {
      const { sessionId } = (message ?? {}) as { sessionId?: unknown };
      if (typeof sessionId !== 'string') return;
      for (const conn of this.bySession.get(sessionId) ?? []) conn.close(1008, 'session revoked');
    });
    const offUser = await broker.subscribe(USER_CHANGED_CHANNEL, (message) => {
      const { userId } = (message ?? {}) as { userId?: unknown };
      if (typeof userId === 'string') void this.recheckSessions(userId);
    });
    this.stops.push(offSession, offUser);

    const tick = Math.max(10, Math.min(1000, config.pingIntervalMs / 4, config.pongTimeoutMs / 4));
    const heartbeat = setInterval(() => this.heartbeat(Date.now()), tick).unref();
    const refreshMs = Math.min(config.pingIntervalMs, (config.presenceTtlSeconds * 1000) / 3);
    const presence = setInterval(() => this.refreshPresence(), refreshMs).unref();
    this.stops.push(
      () => clearInterval(heartbeat),
      () => clearInterval(presence),
    );

    this.setDegraded(this.deps.degraded());
    this.stops.push(this.deps.onDegradedChange((degraded) => this.setDegraded(degraded)));
  }

  get degraded(): boolean {
    return this.isDegraded;
  }

  /** Takes over an upgraded socket (over `tcp`) authenticated as `userId`/`sessionId`. */
  accept(socket: WebSocket, tcp: Socket, userId: string, sessionId: string): void {
    const { config, metrics } = this.deps;
    if (this.closing) {
      socket.close(1012, 'server restarting');
      return;
    }
    const conn = new Connection(socket, tcp, userId, sessionId, config, metrics.realtime);
    conn.sync = new MessageSync(conn, this.sync);
    (socket as GatewaySocket).connection = conn;
    metrics.realtime.openSockets.inc();
    // the same listener functions for every socket: nothing per socket but the Connection
    socket.on('message', this.listeners.message);
    socket.on('pong', this.listeners.pong);
    socket.on('error', this.listeners.error);
    socket.on('close', this.listeners.close); // ws emits it once

    const entry = this.register(conn);
    // Client messages wait until the user's channel is subscribed and the baseline read: a resume's
    // replay then cannot miss a message committed meanwhile (it is either replayed or live).
    conn.enqueue(() => this.setUp(conn, entry));
  }

  private async setUp(conn: Connection, entry: UserEntry): Promise<void> {
    const { config, presence, logger } = this.deps;
    const { userId } = conn;
    try {
      await entry.subscription;
      // live chat messages are held from here until the client says where it stands
      await conn.sync.init(config.resumeWaitMs);
      conn.send({
        type: 'hello',
        protocol: REALTIME_PROTOCOL,
        userId,
        degraded: this.isDegraded,
        heartbeatMs: config.pingIntervalMs,
      });
      if (entry.connections.size === 1 && entry.connections.has(conn)) {
        await presence.set(userId, 'online', true);
      }
      for (const friend of await presence.friendsOnline(userId)) {
        conn.send({ type: 'presence', userId: friend.userId, status: friend.status }, true);
      }
    } catch (err) {
      logger.error({ err, user_id: userId }, 'realtime connection set-up failed');
      conn.close(1011, 'server error');
    }
  }

  /** Closes every socket with 1012 (clients reconnect elsewhere and resume) and stops. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const stop of this.stops.splice(0)) await Promise.resolve(stop()).catch(() => {});
    this.poller.stop();
    for (const entry of this.users.values()) {
      for (const conn of entry.connections) conn.close(1012, 'server restarting');
    }
  }

  /** Open sockets on this instance (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const entry of this.users.values()) n += entry.connections.size;
    return n;
  }

  private register(conn: Connection): UserEntry {
    let entry = this.users.get(conn.userId);
    if (!entry) {
      const created: UserEntry = {
        connections: new Set(),
        subscription: this.deps.broker
          .subscribe(userChannel(conn.userId), (event, json, delivery, batch) => {
            const sent = this.dispatch(created, event, json);
            if (delivery?.trace && batch && tracingActive()) this.traced(batch, sent);
          })
          .catch((err) => {
            this.deps.metrics.realtime.brokerErrors.inc({ operation: 'subscribe' });
            this.deps.logger.warn({ err }, 'realtime subscribe failed');
            return undefined;
          }),
        status: 'online',
      };
      entry = created;
      this.users.set(conn.userId, entry);
    }
    // the per-user cap: the oldest socket (Sets keep insertion order) makes room
    const cap = this.deps.config.maxConnectionsPerUser;
    for (const old of entry.connections) {
      if (entry.connections.size < cap) break;
      old.close(4001, 'too many connections');
      this.detach(entry, old); // its 'close' event then finds nothing left to clean
    }
    entry.connections.add(conn);
    let sessionConns = this.bySession.get(conn.sessionId);
    if (!sessionConns) {
      sessionConns = new Set();
      this.bySession.set(conn.sessionId, sessionConns);
    }
    sessionConns.add(conn);
    return entry;
  }

  /**
   * A broker event on a user's channel: to each of the user's sockets here, once, as the JSON it
   * was published as. Its frame is one Buffer that ws writes to every socket as is, made once for
   * all the users here it was published to (the broker hands each of them the same object).
   */
  private dispatch(entry: UserEntry, event: unknown, json: string): number {
    if (typeof event !== 'object' || event === null) return 0;
    const type = (event as { type?: unknown }).type;
    if (typeof type !== 'string' || entry.connections.size === 0) return 0;
    const { metrics } = this.deps;
    let sent = 0;
    if (type === 'message.new') {
      const message = (event as { message?: ChatMessage }).message;
      if (!message || typeof message.conversationId !== 'string' || !Number.isSafeInteger(message.seq))
        return 0;
      const frame = this.frameOf(event, json);
      for (const conn of entry.connections) if (conn.sync.live(message, frame)) sent += 1;
    } else {
      const droppable = DROPPABLE.has(type);
      if (!droppable && !FORWARDED.has(type)) return 0;
      const frame = this.frameOf(event, json);
      let dropped = 0;
      for (const conn of entry.connections) {
        if (conn.sendFrame(frame, droppable)) sent += 1;
        else if (droppable && conn.open) dropped += 1;
      }
      if (dropped > 0) metrics.realtime.dropped.inc({ type }, dropped);
    }
    if (sent > 0) metrics.realtime.messagesOut.inc({ type }, sent);
    return sent;
  }

  /**
   * One span per broker batch handed out here (every user channel it reached in this turn of the
   * event loop): a child of the first traced publish in it, linked to each of them, with the number
   * of socket frames it gave. Deliveries of the batch read in a later turn get a span of their own.
   */
  private traced(batch: readonly Delivery[], sent: number) {
    let current = this.deliverySpans.get(batch);
    if (!current) {
      const carriers = batch.map((d) => d.trace).filter((t) => t !== undefined);
      const span = tracer().startSpan(
        'deliver websocket',
        {
          kind: SpanKind.CONSUMER,
          links: linksTo(carriers),
          attributes: {
            'messaging.system': 'kith-websocket',
            'messaging.operation.type': 'process',
            'messaging.batch.message_count': batch.length,
          },
        },
        contextFrom(carriers[0]),
      );
      const started = { span, sockets: 0 };
      current = started;
      this.deliverySpans.set(batch, started);
      setImmediate(() => {
        this.deliverySpans.delete(batch);
        started.span.setAttribute('kith.realtime.sockets', started.sockets);
        started.span.end();
      });
    }
    current.sockets += sent;
  }

  private frameOf(event: object, json: string): Buffer {
    let frame = this.frames.get(event);
    if (!frame) {
      frame = Buffer.from(json);
      this.frames.set(event, frame);
    }
    return frame;
  }

  private closed(conn: Connection, code: number) {
    const { metrics } = this.deps;
    metrics.realtime.openSockets.dec();
    metrics.realtime.closes.inc({ code: String(conn.closeCode ?? code) });
    conn.closeCode ??= code;
    conn.releaseWaiters();
    conn.sync.close();
    const entry = this.users.get(conn.userId);
    if (entry) this.forget(entry, conn);
  }

  /** Removes a socket from the registry; the user's last one unsubscribes and goes offline. */
  private forget(entry: UserEntry, conn: Connection) {
    if (!this.detach(entry, conn)) return;
    if (entry.connections.size > 0) {
      this.statusChanged(conn, undefined);
      return;
    }
    if (this.users.get(conn.userId) === entry) this.users.delete(conn.userId);
    void entry.subscription.then((off) => off?.()).catch(() => {});
    if (!this.closing) {
      void this.deps.presence
        .offline(conn.userId)
        .catch((err) => this.deps.logger.debug({ err }, 'presence update failed'));
    }
  }

  private detach(entry: UserEntry, conn: Connection): boolean {
    if (!entry.connections.delete(conn)) return false;
    const sessionConns = this.bySession.get(conn.sessionId);
    sessionConns?.delete(conn);
    if (sessionConns?.size === 0) this.bySession.delete(conn.sessionId);
    return true;
  }

  /** A socket changed its status (or left): the user is away only when every socket is. */
  private statusChanged(conn: Connection, _status: 'online' | 'away' | undefined) {
    const entry = this.users.get(conn.userId);
    if (!entry || entry.connections.size === 0) return;
    const status = [...entry.connections].some((c) => c.status === 'online') ? 'online' : 'away';
    if (status === entry.status) return;
    entry.status = status;
    void this.deps.presence
      .set(conn.userId, status, true)
      .catch((err) => this.deps.logger.debug({ err }, 'presence update failed'));
  }

  private refreshPresence() {
    for (const [userId, entry] of this.users) {
      void this.deps.presence.set(userId, entry.status, false).catch(() => {});
    }
  }

  /** Pings sockets every ping interval; one that has not answered within the timeout is cut. */
  private heartbeat(now: number) {
    const { pingIntervalMs, pongTimeoutMs } = this.deps.config;
    for (const entry of this.users.values()) {
      for (const conn of entry.connections) {
        if (conn.pingSentAt !== undefined) {
          if (now - conn.pingSentAt >= pongTimeoutMs) conn.terminate(4002);
        } else if (now - conn.lastPingAt >= pingIntervalMs && conn.open) {
          conn.pingSentAt = now;
          conn.lastPingAt = now;
          conn.socket.ping();
        }
      }
    }
  }

  /** A user's sessions, role or ban changed: close the sockets whose session no longer holds. */
  private async recheckSessions(userId: string) {
    const entry = this.users.get(userId);
    if (!entry) return;
    for (const conn of [...entry.connections]) {
      const active = await this.deps.sessions.isActive(conn.sessionId, userId).catch(() => true);
      if (!active) conn.close(1008, 'session revoked');
    }
  }

  private setDegraded(degraded: boolean) {
    if (degraded === this.isDegraded || this.closing) return;
    this.isDegraded = degraded;
    this.deps.metrics.realtime.degraded.set(degraded ? 1 : 0);
    this.deps.logger[degraded ? 'warn' : 'info'](
      { component: 'realtime' },
      degraded ? 'broker down: delivering by polling Postgres' : 'broker back: live delivery',
    );
    const type = degraded ? 'system.degraded' : 'system.recovered';
    const frame = Buffer.from(JSON.stringify({ type }));
    let sent = 0;
    for (const entry of this.users.values()) {
      for (const conn of entry.connections) if (conn.sendFrame(frame)) sent += 1;
    }
    if (sent > 0) this.deps.metrics.realtime.messagesOut.inc({ type }, sent);
    if (degraded) this.poller.start();
    else this.poller.stopAfterOnePass(); // what was published while the subscriptions came back
  }
}
