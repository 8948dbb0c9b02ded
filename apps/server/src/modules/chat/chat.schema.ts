import { type Static, Type } from 'typebox';
import { Cursor, Timestamp, Uuid } from '../../platform/http/schemas.ts';
import { Username } from '../friends/friends.schema.ts';
import {
  MAX_ATTACHMENTS,
  MediaAttachment,
  type MediaAttachmentView,
  MediaIds,
} from '../media/media.schema.ts';
import type { UserSummary } from '../posts/posts.schema.ts';
import type { MessageRow } from './chat.repository.ts';
import type { ConversationRow, MemberRow } from './conversations.repository.ts';

/** The longest message body, in characters (UTF-16 code units, as JSON Schema's maxLength counts). */
export const MAX_BODY_LENGTH = 4000;
export const MAX_CLIENT_MESSAGE_ID_LENGTH = 64;
/** The most members the configured group cap (CHAT_GROUP_MAX_MEMBERS) may be. */
export const MAX_GROUP_MEMBERS_LIMIT = 1000;
/** The largest seq a request may name (seqs are bigint in Postgres, numbers on the wire). */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

const UserRef = Type.Unsafe<Static<typeof UserSummary>>(Type.Ref('UserSummary'));

/** A seq in a query string: digits only (the lenient number coercion would read "1.5" as 1, "" as 0). */
const seqParam = (description: string) =>
  Type.String({ minLength: 1, maxLength: 16, pattern: '^[0-9]+$', description });

/**
 * A message's text. It may be empty (or blank) only when the message carries media: an
 * attachment-only message is a photo without a caption. Blank text is stored as ''.
 */
export const MessageBody = Type.String({
  maxLength: MAX_BODY_LENGTH,
  description: 'Must not be blank unless the message carries media',
});
export const ClientMessageId = Type.String({
  minLength: 1,
  maxLength: MAX_CLIENT_MESSAGE_ID_LENGTH,
  pattern: '^[\\x21-\\x7E]+$',
  description:
    'Chosen by the client (printable ASCII); sending again with the same id returns the same message',
});

export const ConversationParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const MessageParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const MemberParams = Type.Object({ id: Uuid, username: Username }, { additionalProperties: false });

export const NewConversation = Type.Object(
  {
    usernames: Type.Array(Username, {
      minItems: 1,
      maxItems: MAX_GROUP_MEMBERS_LIMIT - 1,
      uniqueItems: true,
      description:
        'The other members. One username and no title: the direct conversation with that user (the existing one if any); otherwise a group.',
    }),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const NewMember = Type.Object({ username: Username }, { additionalProperties: false });

export const NewMessage = Type.Object(
  {
    clientMessageId: ClientMessageId,
    body: Type.Optional(MessageBody),
    mediaIds: Type.Optional(MediaIds),
  },
  { additionalProperties: false, description: 'Text, media (up to 4), or both' },
);

export const MessageChanges = Type.Object({ body: MessageBody }, { additionalProperties: false });

export const ReadMarker = Type.Object(
  { seq: Type.Integer({ minimum: 0, maximum: MAX_SEQ, description: 'The newest seq the user has seen' }) },
  { additionalProperties: false },
);

export const ListQuery = Type.Object(
  {
    cursor: Type.Optional(Cursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
  },
  { additionalProperties: false },
);

export const MessagesQuery = Type.Object(
  {
    before: Type.Optional(seqParam('Messages with a lower seq (older); at most one of before/after')),
    after: Type.Optional(seqParam('Messages with a higher seq (newer)')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);

export const Message = Type.Object(
  {
    id: Uuid,
    conversationId: Uuid,
    seq: Type.Integer({ minimum: 1, description: 'Position in the conversation: 1, 2, 3… with no gaps' }),
    senderId: Type.Union([Uuid, Type.Null()], { description: 'null once the sender’s account is erased' }),
    clientMessageId: Type.String({ maxLength: MAX_CLIENT_MESSAGE_ID_LENGTH }),
    body: Type.String({
      maxLength: MAX_BODY_LENGTH,
      description: 'Empty when deleted, or when the message is media only',
    }),
    media: Type.Array(MediaAttachment, {
      maxItems: MAX_ATTACHMENTS,
      description: 'In the order sent; signed, expiring URLs (see urlsExpireAt); empty when deleted',
    }),
    createdAt: Timestamp,
    editedAt: Type.Union([Timestamp, Type.Null()]),
    deleted: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type MessageView = Static<typeof Message>;

export const SendResult = Type.Object(
  {
    message: Message,
    duplicate: Type.Boolean({ description: 'true when this clientMessageId had been sent before' }),
  },
  { additionalProperties: false },
);

export const MessagePage = Type.Object(
  {
    items: Type.Array(Message, { maxItems: 100, description: 'In seq order, oldest first' }),
    hasMore: Type.Boolean({ description: 'More messages lie beyond this page in the direction asked' }),
  },
  { additionalProperties: false },
);

const Role = Type.Union([Type.Literal('admin'), Type.Literal('member')]);

export const Member = Type.Object(
  {
    user: UserRef,
    role: Role,
    joinedAt: Timestamp,
    lastReadSeq: Type.Integer({ minimum: 0, description: 'The newest seq this member has seen ("seen by")' }),
  },
  { additionalProperties: false },
);

const conversationProperties = {
  id: Uuid,
  kind: Type.Union([Type.Literal('direct'), Type.Literal('group')]),
  title: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
  createdAt: Timestamp,
  lastMessageAt: Timestamp,
  lastSeq: Type.Integer({ minimum: 0 }),
  lastReadSeq: Type.Integer({ minimum: 0 }),
  unreadCount: Type.Integer({ minimum: 0, description: 'Messages from others after my read marker' }),
  muted: Type.Boolean({
    description: 'I muted this conversation: its unread messages do not count towards my total',
  }),
  lastMessage: Type.Union([Message, Type.Null()]),
  peer: Type.Union([UserRef, Type.Null()], { description: 'The other member of a direct conversation' }),
};

export const Conversation = Type.Object(conversationProperties, { additionalProperties: false });
export type ConversationView = Static<typeof Conversation>;

export const ConversationDetail = Type.Object(
  {
    ...conversationProperties,
    myRole: Role,
    members: Type.Array(Member, { maxItems: MAX_GROUP_MEMBERS_LIMIT }),
  },
  { additionalProperties: false },
);
export type ConversationDetailView = Static<typeof ConversationDetail>;

export const ConversationPage = Type.Object(
  { items: Type.Array(Conversation, { maxItems: 50 }), nextCursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);

export const ReadResult = Type.Object(
  { lastReadSeq: Type.Integer({ minimum: 0 }), unreadCount: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

/** A message with its media (`media` as loaded for the page it is on; a deleted one shows none). */
export function presentMessage(
  row: MessageRow,
  media: ReadonlyMap<string, MediaAttachmentView[]>,
): MessageView {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    senderId: row.sender_id,
    clientMessageId: row.client_message_id,
    body: row.body,
    media: row.deleted_at === null ? (media.get(row.id) ?? []) : [],
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at?.toISOString() ?? null,
    deleted: row.deleted_at !== null,
  };
}

export function presentConversation(
  row: ConversationRow,
  media: ReadonlyMap<string, MediaAttachmentView[]>,
): ConversationView {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    createdAt: row.created_at.toISOString(),
    lastMessageAt: row.last_message_at.toISOString(),
    lastSeq: row.last_seq,
    lastReadSeq: row.last_read_seq,
    unreadCount: row.unread_count,
    muted: row.muted,
    lastMessage: row.last_message ? presentMessage(row.last_message, media) : null,
    peer: row.peer,
  };
}

export function presentMember(row: MemberRow) {
  return {
    user: { id: row.user_id, username: row.username, displayName: row.display_name },
    role: row.role,
    joinedAt: row.joined_at.toISOString(),
    lastReadSeq: row.last_read_seq,
  };
}
