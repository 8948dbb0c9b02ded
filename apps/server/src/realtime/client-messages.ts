import { CLIENT_MESSAGES, type ClientMessage, type ServerMessage } from '@kith/contract';
import { Compile } from 'typebox/compile';
import { userChannel } from '../modules/notifications/notifications.service.ts';
import { classifyDbError } from '../platform/db/db-errors.ts';
import { AppError, retryLater } from '../platform/errors.ts';
import type { Connection } from './connection.ts';
import type { GatewayDeps } from './gateway.ts';

const validators = Object.fromEntries(
  Object.entries(CLIENT_MESSAGES).map(([type, schema]) => [type, Compile(schema)]),
) as { [K in keyof typeof CLIENT_MESSAGES]: ReturnType<typeof Compile<(typeof CLIENT_MESSAGES)[K]>> };

const isKnownType = (type: string): type is keyof typeof CLIENT_MESSAGES =>
  Object.hasOwn(CLIENT_MESSAGES, type);

type ErrorEvent = Extract<ServerMessage, { type: 'error' }>;

/**
 * Client frames: the protocol rules (rate, binary, JSON, type, schema) and then one handler per
 * message type, run one at a time per connection so that acks come back in the order sent.
 */
export class ClientMessages {
  private readonly typingAt = new WeakMap<Connection, Map<string, number>>();

  constructor(
    private readonly deps: GatewayDeps,
    private readonly statusChanged: (conn: Connection, status: 'online' | 'away') => void,
  ) {}

  /** One frame from the socket (ws has already enforced the size cap and UTF-8 validity). */
  frame(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (!conn.open) return;
    const { metrics } = this.deps;
    if (!conn.countMessage()) {
      conn.close(1008, 'message rate exceeded');
      return;
    }
    if (isBinary) {
      conn.close(1003, 'binary frames are not accepted');
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      conn.close(1007, 'malformed JSON');
      return;
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !isKnownType(type)) {
      metrics.realtime.messagesIn.inc({ type: 'unknown' });
      conn.send(
        errorEvent(new AppError('UNKNOWN_MESSAGE_TYPE'), typeof type === 'string' ? type : undefined),
      );
      return;
    }
    metrics.realtime.messagesIn.inc({ type });
    const validator = validators[type];
    if (!validator.Check(message)) {
      const details = [...validator.Errors(message)]
        .slice(0, 5)
        .map((e) => ({ path: e.instancePath, message: e.message }));
      const clientMessageId = (message as { clientMessageId?: unknown }).clientMessageId;
      conn.send({
        ...errorEvent(new AppError('VALIDATION_FAILED', undefined, details), type),
        ...(typeof clientMessageId === 'string' && clientMessageId.length <= 64 ? { clientMessageId } : {}),
      });
      return;
    }
    const valid = message as ClientMessage;
    conn.sync.clientFrame(valid.type); // a resume first: live chat messages stay held until it runs
    conn.enqueue(async () => {
      if (!conn.open) return;
      if (valid.type === 'message.send') {
        this.pipelineSend(conn, valid);
        return;
      }
      // anything after sends (a read marker, a resume) sees them committed and acknowledged
      await conn.sends;
      await this.handle(conn, valid).catch((err) => this.fail(conn, valid, err));
    });
  }

  /**
   * A send does not hold up the client's next message: it joins the chat service's next round trip
   * now (so a burst from one socket commits together) and its ack follows the acks of the sends
   * before it, so acks still come back in the order sent.
   */
  private pipelineSend(conn: Connection, message: Extract<ClientMessage, { type: 'message.send' }>) {
    const result = this.deps.chat.send(conn.userId, {
      conversationId: message.conversationId,
      clientMessageId: message.clientMessageId,
      body: message.body,
      mediaIds: message.mediaIds,
    });
    // A refusal (full queue, open circuit) comes at once, before the earlier acks have gone out and
    // the chain below awaits it: mark it handled now, or Node would count it as unhandled.
    result.catch(() => {});
    conn.afterSends(async () => {
      try {
        const { message: stored, duplicate } = await result;
        conn.send({
          type: 'message.ack',
          clientMessageId: message.clientMessageId,
          id: stored.id,
          seq: stored.seq,
          duplicate,
        });
      } catch (err) {
        this.fail(conn, message, err);
      }
    });
  }

  private fail(conn: Connection, message: ClientMessage, err: unknown) {
    if (unavailable(err)) {
      this.deps.logger.warn({ err, type: message.type }, 'realtime message failed: database unavailable');
    } else if (!(err instanceof AppError)) {
      this.deps.logger.error({ err, type: message.type }, 'realtime message failed');
    }
    conn.send({
      ...errorEvent(err, message.type),
      ...('clientMessageId' in message ? { clientMessageId: message.clientMessageId } : {}),
    });
  }

  private async handle(conn: Connection, message: ClientMessage): Promise<void> {
    const { chat } = this.deps;
    switch (message.type) {
      case 'conversation.read':
        await chat.markRead(conn.userId, message.conversationId, message.seq);
        return;
      case 'typing':
        return this.typing(conn, message.conversationId);
      case 'presence.set':
        conn.status = message.status;
        this.statusChanged(conn, message.status);
        return;
      case 'resume':
        return this.resume(conn, message.conversations);
      case 'ping':
        conn.send({ type: 'pong' });
        return;
    }
  }

  /** Replays from the client's positions and answers with `resume.done` (a failure: an `error` event). */
  private async resume(conn: Connection, positions: Record<string, number>): Promise<void> {
    try {
      const { replayed, unknown } = await conn.sync.resume(positions);
      if (unknown.length > 0) {
        conn.send({
          ...errorEvent(
            new AppError('NOT_FOUND', 'Not a conversation of yours.', { conversations: unknown }),
            'resume',
          ),
        });
      }
      const conversations: Record<string, number> = {};
      for (const id of Object.keys(positions)) {
        const seq = conn.sync.position(id);
        if (seq !== undefined) conversations[id] = seq;
      }
      conn.send({ type: 'resume.done', conversations, replayed });
    } catch (err) {
      this.fail(conn, { type: 'resume', conversations: positions }, err);
    }
  }

  /** Ephemeral and throttled: relayed to the other members at most once per throttle interval. */
  private async typing(conn: Connection, conversationId: string) {
    const now = Date.now();
    let last = this.typingAt.get(conn);
    if (!last) {
      last = new Map();
      this.typingAt.set(conn, last);
    }
    const at = last.get(conversationId);
    if (at !== undefined && now - at < this.deps.config.typingThrottleMs) return;
    last.set(conversationId, now);
    if (last.size > 100) last.delete(last.keys().next().value as string);
    const members = await this.deps.chat.typing(conn.userId, conversationId);
    const event = { type: 'typing', conversationId, userId: conn.userId };
    await this.deps.broker.publish(members.map(userChannel), event).catch(() => {
      this.deps.metrics.realtime.brokerErrors.inc({ operation: 'publish' });
    });
  }
}

export function errorEvent(err: unknown, requestType: string | undefined): ErrorEvent {
  const known =
    err instanceof AppError
      ? err
      : unavailable(err)
        ? retryLater('DATABASE_UNAVAILABLE', 1000)
        : new AppError('INTERNAL');
  return {
    type: 'error',
    code: known.code,
    message: known.message,
    ...(requestType ? { requestType: requestType.slice(0, 64) } : {}),
    ...(known.details !== undefined ? { details: known.details } : {}),
    // a send refused for want of a database (or a full queue): the client resends it as it is
    ...(known.retryable ? { retryable: true, retryAfterMs: known.retryAfterMs ?? 1000 } : {}),
  };
}

/**
 * A database that is down or restarting (a failed read on the way to a send, e.g. the sender's
 * profile): the same retryable DATABASE_UNAVAILABLE the HTTP API answers with 503, not INTERNAL.
 */
const unavailable = (err: unknown) => !(err instanceof AppError) && classifyDbError(err) === 'unavailable';
