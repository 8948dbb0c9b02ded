/**
 * The realtime protocol `kith.v1`: JSON text frames over the WebSocket at `/api/v1/realtime`, each
 * an object with a `type`. The schemas validate what a client sends (the server checks every frame
 * against them) and type what it receives. A new version would be `kith.v2`, served side by side.
 *
 * **Exactly once, in order.** Each chat message reaches a socket at most once, and per conversation
 * in seq order, live or replayed. Send `resume` as the first frame after the socket opens, with the
 * last seq you hold per conversation: until the server has read it, it holds live chat messages
 * back (for at most REALTIME_RESUME_WAIT_MS, 2 s by default), then replays everything after your
 * positions, sends `resume.done` and the held messages follow, once each, in order. A client that
 * has nothing to resume sends `{ "type": "resume", "conversations": {} }` (or any other frame) first,
 * which ends the wait at once.
 *
 * A `resume` that comes later (after another frame, or after the wait) for a conversation whose live
 * messages this socket has already sent replays only the gap below them: nothing is sent twice, but
 * those older seqs arrive after newer ones, so keep messages ordered by seq.
 *
 * @example
 * const { ticket } = await (await fetch('/api/v1/realtime/ticket', { method: 'POST', headers })).json();
 * const ws = new WebSocket(`wss://host/api/v1/realtime?ticket=${ticket}`, REALTIME_PROTOCOL);
 * ws.onopen = () => ws.send(JSON.stringify({ type: 'resume', conversations: { [id]: lastSeq } }));
 * // hello, the messages after lastSeq, resume.done, then live events
 */
import { type Static, Type } from 'typebox';

export const REALTIME_PROTOCOL = 'kith.v1';

/**
 * Close codes the server uses. Standard ones: 1003 binary frame, 1007 malformed JSON or invalid
 * UTF-8, 1008 policy (message rate exceeded, session revoked or banned), 1009 frame over
 * MAX_FRAME_BYTES, 1011 server error, 1012 server restarting (reconnect elsewhere and resume),
 * 1013 send buffer overflow (the client read too slowly; reconnect and resume).
 */
export const CLOSE_CODES = {
  UNSUPPORTED_DATA: 1003,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  SERVER_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  /** The user opened more connections than the per-user cap: the oldest one is closed with this. */
  CONNECTION_REPLACED: 4001,
  /** No pong within the heartbeat timeout (seen only in server logs/metrics: the socket is cut). */
  HEARTBEAT_TIMEOUT: 4002,
} as const;

/** The most bytes one frame may hold (the server closes with 1009 above it). */
export const MAX_FRAME_BYTES = 64 * 1024;

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const Uuid = Type.String({ pattern: UUID_PATTERN, maxLength: 36 });
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

// ---- client → server -------------------------------------------------------------------------

export const MessageSend = Type.Object(
  {
    type: Type.Literal('message.send'),
    conversationId: Uuid,
    /** Chosen by the client (printable ASCII; a UUID is best); the same id again acknowledges the same message. */
    clientMessageId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7E]+$' }),
    /** Must not be blank unless the message carries media (an attachment-only message). */
    body: Type.Optional(Type.String({ maxLength: 4000 })),
    /** Your own uploads with status `ready`, attached nowhere yet, in display order. */
    mediaIds: Type.Optional(Type.Array(Uuid, { maxItems: 4, uniqueItems: true })),
  },
  { additionalProperties: false },
);

export const ConversationRead = Type.Object(
  { type: Type.Literal('conversation.read'), conversationId: Uuid, seq: Seq },
  { additionalProperties: false },
);

export const Typing = Type.Object(
  { type: Type.Literal('typing'), conversationId: Uuid },
  { additionalProperties: false },
);

export const PresenceSet = Type.Object(
  { type: Type.Literal('presence.set'), status: Type.Union([Type.Literal('online'), Type.Literal('away')]) },
  { additionalProperties: false },
);

/**
 * conversation id → the last seq the client holds (0: none). A conversation not named starts from
 * its last seq when the socket opened (or from its first message if joined later).
 */
export const ResumePositions = Type.Record(Type.String({ pattern: UUID_PATTERN }), Seq, {
  additionalProperties: false,
  maxProperties: 1000,
});

/**
 * Send it first thing after the socket opens (live chat messages wait for it); a later one replays
 * only what this socket has not sent yet.
 */
export const Resume = Type.Object(
  {
    type: Type.Literal('resume'),
    conversations: ResumePositions,
    /** Reserved: notifications are re-read over HTTP (`GET /api/v1/notifications`) after a resume. */
    notificationsCursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

export const Ping = Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false });

export const ClientMessage = Type.Union([MessageSend, ConversationRead, Typing, PresenceSet, Resume, Ping]);
export type ClientMessage = Static<typeof ClientMessage>;
export type ClientMessageType = ClientMessage['type'];
/** Each client message's schema by `type`, so a frame is checked against exactly one. */
export const CLIENT_MESSAGES = {
  'message.send': MessageSend,
  'conversation.read': ConversationRead,
  typing: Typing,
  'presence.set': PresenceSet,
  resume: Resume,
  ping: Ping,
} as const;

// ---- server → client -------------------------------------------------------------------------

/** A medium on a chat message (`MediaAttachment` in openapi.json): private, so its URLs expire. */
export interface ChatAttachment {
  id: string;
  alt: string;
  width: number;
  height: number;
  animated: boolean;
  /** blurhash */
  placeholder: string | null;
  variants: Record<'thumb' | 'large', { url: string; width: number; height: number }>;
  /** When the signed URLs stop working: re-read the message over HTTP for fresh ones. */
  urlsExpireAt: string | null;
}

/** A chat message as the REST API presents it (`Message` in openapi.json). */
export interface ChatMessage {
  id: string;
  conversationId: string;
  /** 1, 2, 3… per conversation with no gap: resume from the last one held. */
  seq: number;
  senderId: string | null;
  clientMessageId: string;
  /** Empty when deleted, or when the message is media only. */
  body: string;
  /** In the order sent; empty when deleted. */
  media: ChatAttachment[];
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
}

export type PresenceStatus = 'online' | 'away' | 'offline';

export type ServerMessage =
  | {
      type: 'hello';
      protocol: typeof REALTIME_PROTOCOL;
      userId: string;
      degraded: boolean;
      heartbeatMs: number;
    }
  | { type: 'message.ack'; clientMessageId: string; id: string; seq: number; duplicate: boolean }
  | { type: 'message.new'; message: ChatMessage }
  | { type: 'message.updated'; message: ChatMessage }
  | { type: 'message.deleted'; message: ChatMessage }
  /** My read marker moved (from another of my devices). */
  | { type: 'conversation.read'; conversationId: string; lastReadSeq: number; unreadCount: number }
  /** Title or members changed: re-read it over HTTP. */
  | { type: 'conversation.updated'; conversationId: string }
  | { type: 'typing'; conversationId: string; userId: string }
  | { type: 'presence'; userId: string; status: PresenceStatus }
  | { type: 'notification.new'; notification: Record<string, unknown>; unreadCount: number }
  /** Sent once the replay asked for by `resume` is complete; live events (and those held for it) follow. */
  | { type: 'resume.done'; conversations: Record<string, number>; replayed: number }
  | { type: 'system.degraded' }
  | { type: 'system.recovered' }
  | { type: 'pong' }
  | {
      type: 'error';
      code: string;
      message: string;
      /** The client message it answers, when it had one. */
      clientMessageId?: string;
      requestType?: string;
      details?: unknown;
      /**
       * true: the request may be sent again unchanged after `retryAfterMs` (e.g. `DATABASE_UNAVAILABLE`
       * or `OVERLOADED` for a `message.send`: resend the same frame with the same clientMessageId — it
       * may already have been stored, and then the resend is acknowledged with `duplicate: true`, so a
       * message is never stored twice). Absent: retrying unchanged would fail the same way.
       */
      retryable?: true;
      /** With `retryable`: how long to wait before sending again, in milliseconds. */
      retryAfterMs?: number;
    };
export type ServerMessageType = ServerMessage['type'];
