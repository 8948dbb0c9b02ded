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
//
// Every event the server sends has a schema here: the AsyncAPI document (packages/contract/asyncapi.json)
// is generated from them, and a test checks every event a real server emits against them.

const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
const Count = Type.Integer({ minimum: 0 });

/** A medium on a chat message (`MediaAttachment` in openapi.json): private, so its URLs expire. */
export const ChatAttachment = Type.Object(
  {
    id: Uuid,
    alt: Type.String({ maxLength: 1500 }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    animated: Type.Boolean(),
    /** blurhash */
    placeholder: Type.Union([Type.String({ maxLength: 100, description: 'blurhash' }), Type.Null()]),
    variants: Type.Object(
      {
        thumb: Type.Object(
          {
            url: Type.String({ maxLength: 4096 }),
            width: Type.Integer({ minimum: 1 }),
            height: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
        large: Type.Object(
          {
            url: Type.String({ maxLength: 4096 }),
            width: Type.Integer({ minimum: 1 }),
            height: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, description: 'WebP images: thumb fits 320 px, large 1,600 px' },
    ),
    /** When the signed URLs stop working: re-read the message over HTTP for fresh ones. */
    urlsExpireAt: Type.Union([Timestamp, Type.Null()], {
      description: 'When the signed URLs stop working: re-read the message over HTTP for fresh ones',
    }),
  },
  { additionalProperties: false },
);
export type ChatAttachment = Static<typeof ChatAttachment>;

/** A chat message as the REST API presents it (`Message` in openapi.json). */
export const ChatMessage = Type.Object(
  {
    id: Uuid,
    conversationId: Uuid,
    /** 1, 2, 3… per conversation with no gap: resume from the last one held. */
    seq: Type.Integer({
      minimum: 1,
      description: 'Position in the conversation: 1, 2, 3… with no gaps',
    }),
    senderId: Type.Union([Uuid, Type.Null()], { description: 'null once the sender’s account is erased' }),
    clientMessageId: Type.String({ maxLength: 64 }),
    /** Empty when deleted, or when the message is media only. */
    body: Type.String({
      maxLength: 4000,
      description: 'Empty when deleted, or when the message is media only',
    }),
    /** In the order sent; empty when deleted. */
    media: Type.Array(ChatAttachment, { maxItems: 4, description: 'In the order sent; empty when deleted' }),
    createdAt: Timestamp,
    editedAt: Type.Union([Timestamp, Type.Null()]),
    deleted: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof ChatMessage>;

/** A user as notifications name them (`UserSummary` in openapi.json). */
export const RealtimeUserSummary = Type.Object(
  { id: Uuid, username: Type.String({ maxLength: 30 }), displayName: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
export type RealtimeUserSummary = Static<typeof RealtimeUserSummary>;

/** A notification exactly as `GET /api/v1/notifications` lists it (`Notification` in openapi.json). */
export const RealtimeNotification = Type.Object(
  {
    id: Uuid,
    kind: Type.Union([
      Type.Literal('friend_request'),
      Type.Literal('friend_accepted'),
      Type.Literal('comment'),
      Type.Literal('reaction'),
      Type.Literal('mention'),
      Type.Literal('report_resolved'),
      Type.Literal('moderation_notice'),
    ]),
    actors: Type.Array(RealtimeUserSummary, { maxItems: 3, description: 'The most recent actors (up to 3)' }),
    actorCount: Type.Integer({
      minimum: 1,
      description: 'All distinct actors: "A and 3 others" is actorCount 4',
    }),
    subjectId: Type.Union([Uuid, Type.Null()], {
      description: 'The post, comment or friend request concerned',
    }),
    data: Type.Record(Type.String({ maxLength: 32 }), Type.String({ maxLength: 200 })),
    read: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type RealtimeNotification = Static<typeof RealtimeNotification>;

export const PresenceStatus = Type.Union([
  Type.Literal('online'),
  Type.Literal('away'),
  Type.Literal('offline'),
]);
export type PresenceStatus = Static<typeof PresenceStatus>;

/** The first event on every socket, once the server is ready for it. */
export const HelloEvent = Type.Object(
  {
    type: Type.Literal('hello'),
    protocol: Type.Literal(REALTIME_PROTOCOL),
    userId: Uuid,
    /** true: live delivery across instances is down; events come late (polled), chat still works. */
    degraded: Type.Boolean(),
    /** How often the server pings (answer with a pong; browsers do it by themselves). */
    heartbeatMs: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

/** A `message.send` was stored (or had been: `duplicate`), in the order the sends were made. */
export const MessageAckEvent = Type.Object(
  {
    type: Type.Literal('message.ack'),
    clientMessageId: Type.String({ maxLength: 64 }),
    id: Uuid,
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    duplicate: Type.Boolean(),
  },
  { additionalProperties: false },
);

const messageEvent = <T extends string>(type: T, description: string) =>
  Type.Object(
    { type: Type.Literal(type), message: ChatMessage },
    { additionalProperties: false, description },
  );

/** A new message in one of my conversations: once per socket, in seq order per conversation. */
export const MessageNewEvent = messageEvent(
  'message.new',
  'A new message in one of my conversations: once per socket, in seq order per conversation',
);
/** A message was edited. */
export const MessageUpdatedEvent = messageEvent('message.updated', 'A message was edited');
/** A message was deleted (body and media emptied). */
export const MessageDeletedEvent = messageEvent(
  'message.deleted',
  'A message was deleted (body and media emptied)',
);

/** My read marker moved (from another of my devices). */
export const ConversationReadEvent = Type.Object(
  { type: Type.Literal('conversation.read'), conversationId: Uuid, lastReadSeq: Seq, unreadCount: Count },
  { additionalProperties: false, description: 'My read marker moved (from another of my devices)' },
);

/** Another member's read marker moved: they have seen up to `lastReadSeq` ("seen by"). */
export const MemberReadEvent = Type.Object(
  { type: Type.Literal('member.read'), conversationId: Uuid, userId: Uuid, lastReadSeq: Seq },
  {
    additionalProperties: false,
    description: 'Another member has seen the conversation up to lastReadSeq ("seen by")',
  },
);

/** Title or members changed: re-read it over HTTP. */
export const ConversationUpdatedEvent = Type.Object(
  { type: Type.Literal('conversation.updated'), conversationId: Uuid },
  { additionalProperties: false, description: 'Title or members changed: re-read it over HTTP' },
);

/** Someone else is typing in a conversation of mine (throttled; droppable under pressure). */
export const TypingEvent = Type.Object(
  { type: Type.Literal('typing'), conversationId: Uuid, userId: Uuid },
  { additionalProperties: false, description: 'Another member is typing (throttled; droppable)' },
);

/** A friend's presence changed (droppable under pressure). */
export const PresenceEvent = Type.Object(
  { type: Type.Literal('presence'), userId: Uuid, status: PresenceStatus },
  { additionalProperties: false, description: "A friend's presence changed (droppable)" },
);

/** A notification was created or grouped into (as the REST list shows it), with my unread count. */
export const NotificationNewEvent = Type.Object(
  { type: Type.Literal('notification.new'), notification: RealtimeNotification, unreadCount: Count },
  {
    additionalProperties: false,
    description: 'A notification was created or grouped into, with my unread count',
  },
);

/**
 * Posts were added to my home feed (coalesced: one event per short window however many arrived).
 * Show "N new posts" and re-read the feed over HTTP when the reader asks; never sent for my own posts.
 */
export const FeedNewEvent = Type.Object(
  {
    type: Type.Literal('feed.new'),
    /** Entries added to my home feed since the previous `feed.new`. */
    count: Type.Integer({
      minimum: 1,
      description: 'Entries added to my home feed since the previous feed.new',
    }),
  },
  {
    additionalProperties: false,
    description:
      'Posts were added to my home feed (coalesced per short window; never for my own posts). Sent only while the feature flag feed-new-posts-event is on for me.',
  },
);

/** Sent once the replay asked for by `resume` is complete; live events (and those held for it) follow. */
export const ResumeDoneEvent = Type.Object(
  {
    type: Type.Literal('resume.done'),
    /** conversation id → the last seq this socket has now sent. */
    conversations: Type.Record(Type.String({ pattern: UUID_PATTERN }), Seq),
    replayed: Count,
  },
  {
    additionalProperties: false,
    description: 'The replay asked for by resume is complete; live events (and those held for it) follow',
  },
);

export const SystemDegradedEvent = Type.Object(
  { type: Type.Literal('system.degraded') },
  { additionalProperties: false, description: 'Live delivery across instances is down: events come late' },
);
export const SystemRecoveredEvent = Type.Object(
  { type: Type.Literal('system.recovered') },
  { additionalProperties: false, description: 'Live delivery is back' },
);
export const PongEvent = Type.Object(
  { type: Type.Literal('pong') },
  { additionalProperties: false, description: 'The answer to a ping' },
);

/** A client message failed (or was refused). */
export const ErrorEvent = Type.Object(
  {
    type: Type.Literal('error'),
    /** From the error catalogue (the same codes as the REST API's). */
    code: Type.String({ maxLength: 64 }),
    message: Type.String({ maxLength: 1000 }),
    /** The client message it answers, when it had one. */
    clientMessageId: Type.Optional(Type.String({ maxLength: 64 })),
    requestType: Type.Optional(Type.String({ maxLength: 64 })),
    details: Type.Optional(Type.Unknown()),
    /**
     * true: the request may be sent again unchanged after `retryAfterMs` (e.g. `DATABASE_UNAVAILABLE`
     * or `OVERLOADED` for a `message.send`: resend the same frame with the same clientMessageId — it
     * may already have been stored, and then the resend is acknowledged with `duplicate: true`, so a
     * message is never stored twice). Absent: retrying unchanged would fail the same way.
     */
    retryable: Type.Optional(Type.Literal(true)),
    /** With `retryable`: how long to wait before sending again, in milliseconds. */
    retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  {
    additionalProperties: false,
    description:
      'A client message failed. retryable: send it again unchanged after retryAfterMs (a resent message.send is acknowledged with duplicate: true if it had been stored)',
  },
);

/** Each server event's schema by `type`. */
export const SERVER_EVENTS = {
  hello: HelloEvent,
  'message.ack': MessageAckEvent,
  'message.new': MessageNewEvent,
  'message.updated': MessageUpdatedEvent,
  'message.deleted': MessageDeletedEvent,
  'conversation.read': ConversationReadEvent,
  'member.read': MemberReadEvent,
  'conversation.updated': ConversationUpdatedEvent,
  typing: TypingEvent,
  presence: PresenceEvent,
  'notification.new': NotificationNewEvent,
  'feed.new': FeedNewEvent,
  'resume.done': ResumeDoneEvent,
  'system.degraded': SystemDegradedEvent,
  'system.recovered': SystemRecoveredEvent,
  pong: PongEvent,
  error: ErrorEvent,
} as const;

/** Any event the server sends (decode a frame with `JSON.parse` and narrow on `type`). */
export const ServerMessage = Type.Union([
  HelloEvent,
  MessageAckEvent,
  MessageNewEvent,
  MessageUpdatedEvent,
  MessageDeletedEvent,
  ConversationReadEvent,
  MemberReadEvent,
  ConversationUpdatedEvent,
  TypingEvent,
  PresenceEvent,
  NotificationNewEvent,
  FeedNewEvent,
  ResumeDoneEvent,
  SystemDegradedEvent,
  SystemRecoveredEvent,
  PongEvent,
  ErrorEvent,
]);
export type ServerMessage = Static<typeof ServerMessage>;
export type ServerMessageType = ServerMessage['type'];
/** The event of one `type`, e.g. `ServerEvent<'feed.new'>`. */
export type ServerEvent<T extends ServerMessageType = ServerMessageType> = Extract<
  ServerMessage,
  { type: T }
>;
