import { uuidv7 } from 'uuidv7';
import type { Broker } from '../../platform/broker/broker.ts';
import { withAbortableClient } from '../../platform/db/abortable-client.ts';
import type { Database, Db } from '../../platform/db/database.ts';
import { classifyDbError } from '../../platform/db/db-errors.ts';
import { AppError, retryLater } from '../../platform/errors.ts';
import { isBlank } from '../../platform/http/text.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';
import { inSpan } from '../../platform/observability/trace-context.ts';
import { MAX_ATTACHMENTS, type MediaAttachmentView } from '../media/media.schema.ts';
import type { MediaService } from '../media/media.service.ts';
import { userChannel } from '../notifications/notifications.service.ts';
import { SendBatcher, type SendBatcherOptions } from './chat.batcher.ts';
import type { ChatRepository, MessageRow, SendDraft } from './chat.repository.ts';
import {
  MAX_BODY_LENGTH,
  MAX_CLIENT_MESSAGE_ID_LENGTH,
  MAX_SEQ,
  type MessageView,
  presentMessage,
} from './chat.schema.ts';

export type { MessageView } from './chat.schema.ts';

/**
 * What chat needs from the media module: claiming media in a send's transaction, releasing them in
 * a delete's, and presenting them (signed URLs) for a page of messages in one query.
 */
export type ChatMedia = Pick<MediaService, 'claimForMessage' | 'releaseForMessage' | 'attachmentsOfMessages'>;

export interface SendInput {
  conversationId: string;
  clientMessageId: string;
  /** May be blank (or absent) only when `mediaIds` names at least one medium. */
  body?: string | undefined;
  /** The sender's own ready, unattached uploads, in display order (at most MAX_ATTACHMENTS). */
  mediaIds?: readonly string[] | undefined;
}

/**
 * How sends behave under database trouble (config.chat.send: CHAT_SEND_*), and where they report.
 * Without them the configuration's defaults apply and nothing is measured.
 */
export interface ChatServiceOptions {
  send?: Omit<SendBatcherOptions, 'metrics' | 'logger' | 'now'>;
  metrics?: Pick<Metrics, 'chatSend' | 'dbQueries' | 'dbQueryDuration'>;
}

type MediaByMessage = ReadonlyMap<string, MediaAttachmentView[]>;
const NO_MEDIA: MediaByMessage = new Map();

/** Live chat events, published on `user.<id>` (the realtime gateway forwards them to sockets). */
export type ChatEvent =
  | { type: 'message.new'; message: MessageView }
  | { type: 'message.updated'; message: MessageView }
  | { type: 'message.deleted'; message: MessageView }
  | { type: 'conversation.read'; conversationId: string; lastReadSeq: number; unreadCount: number }
  /** Another member's read marker moved ("seen by"); published to the other members. */
  | { type: 'member.read'; conversationId: string; userId: string; lastReadSeq: number }
  | { type: 'conversation.updated'; conversationId: string };

/** Messages missed by a client, per conversation, from `missedSince`. */
export interface MissedMessages {
  conversations: { conversationId: string; lastSeq: number; messages: MessageView[]; hasMore: boolean }[];
  /** Ids given that are not conversations the user is a member of (or not ids at all). */
  unknown: string[];
}

/** The most conversations one `missedSince` call may name. */
export const MAX_RESUME_CONVERSATIONS = 1000;
/** The most messages `missedSince` returns per conversation. */
export const MAX_MISSED_PER_CONVERSATION = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLIENT_ID = /^[\x21-\x7E]+$/;
// half of a UTF-16 pair (a JSON "\ud800" escape) cannot be stored as UTF-8
const LONE_SURROGATE = /\p{Cs}/u;

const messageNotFound = () => new AppError('NOT_FOUND', 'No such message.');
const notFound = () => new AppError('NOT_FOUND', 'No such conversation.');
const invalid = (path: string, message: string, where: 'body' | 'querystring' = 'body') =>
  new AppError('VALIDATION_FAILED', `${path.slice(1)} ${message}.`, [{ in: where, path, message }]);

/**
 * Checks a body the way the REST schema does, for callers that bypass it (the WebSocket gateway).
 * A blank body is refused unless the message carries media, and then stored as ''.
 */
function checkBody(body: unknown, hasMedia: boolean): string {
  if (typeof body !== 'string') throw invalid('/body', 'must be a string');
  if (body.length > MAX_BODY_LENGTH) throw invalid('/body', `must be at most ${MAX_BODY_LENGTH} characters`);
  if (body.includes('\u0000')) throw new AppError('NUL_CHARACTER');
  if (isBlank(body)) {
    if (hasMedia) return '';
    throw invalid('/body', 'must not be blank (unless the message carries media)');
  }
  if (LONE_SURROGATE.test(body)) throw invalid('/body', 'must be well-formed Unicode');
  return body;
}

/** Checks media ids the way the REST schema does (distinct uuids, at most MAX_ATTACHMENTS). */
function checkMediaIds(ids: unknown): readonly string[] {
  if (ids === undefined) return [];
  const valid =
    Array.isArray(ids) &&
    ids.length <= MAX_ATTACHMENTS &&
    ids.every((id) => typeof id === 'string' && UUID.test(id));
  // stored ids read back in lower case: a retry compares them as such
  const lower = valid ? ids.map((id: string) => id.toLowerCase()) : [];
  if (!valid || new Set(lower).size !== lower.length) {
    throw invalid('/mediaIds', `must be at most ${MAX_ATTACHMENTS} distinct media ids`);
  }
  return lower;
}

const sameIds = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((id, i) => id === b[i]);

function checkSeq(seq: unknown, path: string, where: 'body' | 'querystring' = 'body'): number {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw invalid(path, 'must be a non-negative integer below 2^53', where);
  }
  return seq;
}

function checkConversationId(id: unknown): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw notFound();
  return id;
}

/**
 * Chat messaging: the API the REST routes and the realtime gateway share. Every write commits
 * before it returns and publishes its event on each member's `user.<id>` channel; a failed
 * publish is logged, never fails the write (clients catch up from Postgres by seq). A send does
 * not wait for its publish: the ack needs only the commit.
 */
export class ChatService {
  /** Sends without media, committed together when they arrive together (group commit). */
  private readonly batcher: SendBatcher;

  constructor(
    private readonly db: Database,
    private readonly repo: ChatRepository,
    private readonly broker: Broker,
    private readonly logger: Logger,
    private readonly media: ChatMedia,
    private readonly options: ChatServiceOptions = {},
  ) {
    this.batcher = new SendBatcher((drafts, signal) => this.roundTrip(drafts, signal), {
      ...options.send,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      logger,
    });
  }

  /** The send path's circuit and queue (for health reports and tests). */
  get sendStats() {
    return this.batcher.stats;
  }

  /**
   * Stores a message with the conversation's next seq, claims its media in the same transaction,
   * and publishes `message.new` to every member. The same clientMessageId from the same sender
   * returns the stored message (`duplicate: true`, nothing published); with another body or other
   * media it is CLIENT_MESSAGE_ID_REUSED. Not a member: NOT_FOUND. A media id that is not the
   * sender's own ready, unattached upload: MEDIA_NOT_ATTACHABLE, and nothing is stored.
   */
  send(userId: string, input: SendInput): Promise<{ message: MessageView; duplicate: boolean }> {
    // a send over the socket has no request span: this one is the root of its trace (HTTP: a child)
    return inSpan('chat.send', {}, () => this.store(userId, input));
  }

  private async store(
    userId: string,
    input: SendInput,
  ): Promise<{ message: MessageView; duplicate: boolean }> {
    const conversationId = checkConversationId(input.conversationId);
    const mediaIds = checkMediaIds(input.mediaIds);
    const body = checkBody(input.body ?? '', mediaIds.length > 0);
    const clientMessageId = input.clientMessageId;
    if (
      typeof clientMessageId !== 'string' ||
      clientMessageId.length > MAX_CLIENT_MESSAGE_ID_LENGTH ||
      !CLIENT_ID.test(clientMessageId)
    ) {
      throw invalid(
        '/clientMessageId',
        `must be 1–${MAX_CLIENT_MESSAGE_ID_LENGTH} printable ASCII characters`,
      );
    }

    const draft = { id: uuidv7(), conversationId, senderId: userId, clientMessageId, body };
    // Without media a send goes with the others of its round trip; with media, their claim commits
    // with the message.
    const outcome =
      mediaIds.length === 0
        ? await this.batcher.send(draft)
        : await this.batcher.guard(() =>
            this.db.primary.transaction().execute(async (trx) => {
              const [sent] = await this.repo.send(trx, [draft]);
              if (sent!.status === 'sent') {
                await this.media.claimForMessage(trx, userId, sent!.message.id, mediaIds);
              }
              return sent!;
            }),
          );
    if (outcome.status !== 'sent') {
      if (outcome.status === 'not_found') throw notFound();
      if (outcome.status === 'blocked') throw new AppError('FORBIDDEN', 'You cannot message this user.');
      const original = await retryableOnOutage(
        this.original(conversationId, userId, clientMessageId, body, mediaIds),
      );
      return { message: original, duplicate: true };
    }
    // a message sent without media needs no query for them
    const media = mediaIds.length > 0 ? await retryableOnOutage(this.mediaOf([outcome.message])) : NO_MEDIA;
    const message = presentMessage(outcome.message, media);
    void this.publish(outcome.memberIds, { type: 'message.new', message });
    return { message, duplicate: false };
  }

  /**
   * One batcher round trip on a connection of its own, closed if the deadline passes first (a
   * statement a paused or unreachable server never answers must not hold a pool slot). Counted like
   * every other primary statement.
   */
  private async roundTrip(drafts: readonly SendDraft[], signal: AbortSignal) {
    const started = performance.now();
    let outcome = 'error';
    try {
      const result = await withAbortableClient(this.db.primaryPool, signal, (client) =>
        this.repo.send(client, drafts),
      );
      outcome = 'ok';
      return result;
    } finally {
      const metrics = this.options.metrics;
      metrics?.dbQueries.inc({ pool: 'primary', outcome });
      metrics?.dbQueryDuration.observe({ pool: 'primary' }, (performance.now() - started) / 1000);
    }
  }

  /**
   * Changes the text of my message (blank only when it carries media); publishes `message.updated`.
   * Not mine, deleted or gone: NOT_FOUND.
   */
  async edit(userId: string, messageId: string, body: string): Promise<MessageView> {
    const existing = await this.ownLiveMessage(userId, messageId);
    // media never change after sending: loaded once, for the blank-text rule and the view
    const media = await this.mediaOf([existing]);
    const text = checkBody(body, media.has(existing.id));
    const row = await this.repo.editMessage(existing.id, userId, text);
    if (!row) throw messageNotFound();
    return this.announce(row, 'message.updated', media);
  }

  /**
   * Deletes my message (its seq stays, its text and media go: the media are deleted by a job once
   * the delete commits); publishes `message.deleted`.
   */
  async delete(userId: string, messageId: string): Promise<void> {
    const existing = await this.ownLiveMessage(userId, messageId);
    const row = await this.db.primary.transaction().execute(async (trx) => {
      const deleted = await this.repo.deleteMessage(existing.id, userId, trx);
      if (deleted) await this.media.releaseForMessage(trx, deleted.id);
      return deleted;
    });
    if (!row) throw messageNotFound();
    await this.announce(row, 'message.deleted', NO_MEDIA);
  }

  /**
   * Staff remove a message by a report case's decision: members see it deleted (`message.deleted`),
   * but its text and media are kept for an appeal. False when it was gone already.
   */
  async removeByDecision(messageId: string, caseId: string): Promise<boolean> {
    const row = await this.repo.withholdMessage(messageId, caseId);
    if (row) await this.announce(row, 'message.deleted', NO_MEDIA);
    return row !== undefined;
  }

  /**
   * Brings back a message a report case removed (its decision overturned), in the decision's
   * transaction `trx`; once that has committed, members hear `message.updated`. Undefined when the
   * case removed nothing.
   */
  async restoreRemoved(
    trx: Db,
    messageId: string,
    caseId: string,
  ): Promise<(() => Promise<void>) | undefined> {
    const row = await this.repo.restoreWithheldMessage(messageId, caseId, trx);
    if (!row) return undefined;
    return async () => {
      await this.announce(row, 'message.updated', await this.mediaOf([row]));
    };
  }

  /** Whether the user may see the message (and so its media): a current member, message not deleted. */
  async canSeeMessage(viewerId: string, messageId: string): Promise<boolean> {
    return UUID.test(messageId) && this.repo.canSeeMessage(viewerId, messageId);
  }

  /** The media of the live messages among `rows`, presented, in one query (none when all are deleted). */
  async mediaOf(rows: readonly MessageRow[]): Promise<MediaByMessage> {
    const ids = rows.filter((r) => r.deleted_at === null).map((r) => r.id);
    return ids.length > 0 ? this.media.attachmentsOfMessages(ids) : NO_MEDIA;
  }

  /**
   * A page of a conversation I am a member of, in seq order: after `after`, or the newest before
   * `before` (the newest of all without either). `hasMore`: more lie beyond, in the direction asked.
   */
  async history(
    userId: string,
    conversationId: string,
    range: { before?: number | undefined; after?: number | undefined },
    limit: number,
  ): Promise<{ items: MessageView[]; hasMore: boolean }> {
    if (range.before !== undefined && range.after !== undefined) {
      throw new AppError('BAD_REQUEST', 'Give before or after, not both.');
    }
    if (range.before !== undefined) checkSeq(range.before, '/before', 'querystring');
    if (range.after !== undefined) checkSeq(range.after, '/after', 'querystring');
    if (!(await this.isMember(userId, conversationId))) throw notFound();
    const rows = await this.repo.page(conversationId, range, limit);
    const hasMore = rows.length > limit;
    // the extra row is the one beyond the page: the oldest when paging back, the newest forward
    const items = !hasMore ? rows : range.after !== undefined ? rows.slice(0, limit) : rows.slice(1);
    const media = await this.mediaOf(items);
    return { items: items.map((row) => presentMessage(row, media)), hasMore };
  }

  /**
   * What a client missed: for each conversation named in `positions` (id → last seq the client
   * holds) that the user is a member of, the messages with a higher seq in order (at most
   * `limitPerConversation`; `hasMore` says to ask again from the last one). Ids the user is not a
   * member of (or that are not ids) come back in `unknown`. For resume and degraded-mode polling.
   */
  async missedSince(
    userId: string,
    positions: Record<string, number>,
    limitPerConversation: number,
  ): Promise<MissedMessages> {
    const entries = Object.entries(positions);
    if (entries.length > MAX_RESUME_CONVERSATIONS) {
      throw new AppError('BAD_REQUEST', `At most ${MAX_RESUME_CONVERSATIONS} conversations at once.`);
    }
    const limit = Math.min(Math.max(1, Math.trunc(limitPerConversation) || 1), MAX_MISSED_PER_CONVERSATION);
    for (const [id, seq] of entries) checkSeq(seq, `/conversations/${id}`);
    const ids = entries.map(([id]) => id).filter((id) => UUID.test(id));
    const known = new Map(
      (await this.repo.positions(userId, ids)).map((p) => [p.conversation_id, p.last_seq]),
    );
    const unknown = entries.map(([id]) => id).filter((id) => !known.has(id));
    // Up-to-date conversations cost nothing: only those with newer messages are read.
    const behind = entries
      .filter(([id, seq]) => known.has(id) && known.get(id)! > seq)
      .map(([conversationId, after]) => ({ conversationId, after }));
    const rows = await this.repo.messagesAfter(behind, limit);
    const byConversation = new Map<string, MessageRow[]>();
    // the rows beyond each conversation's limit are not shown: their media are not loaded
    const shown: MessageRow[] = [];
    for (const row of rows) {
      const list = byConversation.get(row.conversation_id) ?? [];
      list.push(row);
      if (list.length <= limit) shown.push(row);
      byConversation.set(row.conversation_id, list);
    }
    const media = await this.mediaOf(shown);
    return {
      conversations: entries
        .filter(([id]) => known.has(id))
        .map(([conversationId]) => {
          const list = byConversation.get(conversationId) ?? [];
          return {
            conversationId,
            lastSeq: known.get(conversationId)!,
            messages: list.slice(0, limit).map((row) => presentMessage(row, media)),
            hasMore: list.length > limit,
          };
        }),
      unknown,
    };
  }

  /** The user's current conversations with their last seq and my read marker (one indexed query). */
  async conversationsOf(
    userId: string,
  ): Promise<{ conversationId: string; lastSeq: number; lastReadSeq: number }[]> {
    return (await this.repo.positions(userId)).map((p) => ({
      conversationId: p.conversation_id,
      lastSeq: p.last_seq,
      lastReadSeq: p.last_read_seq,
    }));
  }

  /**
   * Moves my read marker to `seq` (never backwards, never past the last seq) and publishes
   * `conversation.read` to my own channel, for my other devices, and `member.read` to the other
   * members (their "seen by"). Not a member: NOT_FOUND.
   */
  async markRead(
    userId: string,
    conversationId: string,
    seq: number,
  ): Promise<{ lastReadSeq: number; unreadCount: number }> {
    const id = checkConversationId(conversationId);
    const marker = await this.repo.advanceReadMarker(id, userId, checkSeq(seq, '/seq'));
    if (!marker) throw notFound();
    const unreadCount = (await this.repo.unreadCounts(userId, id)).get(id) ?? 0;
    if (marker.moved) {
      await this.publish([userId], {
        type: 'conversation.read',
        conversationId: id,
        lastReadSeq: marker.last_read_seq,
        unreadCount,
      });
      const others = (await this.repo.memberIds(id)).filter((member) => member !== userId);
      if (others.length > 0) {
        await this.publish(others, {
          type: 'member.read',
          conversationId: id,
          userId,
          lastReadSeq: marker.last_read_seq,
        });
      }
    }
    return { lastReadSeq: marker.last_read_seq, unreadCount };
  }

  /** Unread messages per conversation (only those with any), each capped at UNREAD_CAP. */
  async unreadCounts(userId: string): Promise<Record<string, number>> {
    return Object.fromEntries(await this.repo.unreadCounts(userId));
  }

  /** Whether the user is a current member of the conversation (false for anything that is not an id). */
  async isMember(userId: string, conversationId: string): Promise<boolean> {
    return UUID.test(conversationId) && this.repo.isMember(userId, conversationId);
  }

  /**
   * Checks that the user may signal typing in the conversation and returns the other members' ids
   * (the gateway publishes the ephemeral event to them). Not a member: NOT_FOUND.
   */
  async typing(userId: string, conversationId: string): Promise<string[]> {
    const members = await this.repo.memberIds(checkConversationId(conversationId));
    if (!members.includes(userId)) throw notFound();
    return members.filter((id) => id !== userId);
  }

  /** Publishes one event to each user's channel; failures are logged (clients catch up by seq). */
  async publish(userIds: readonly string[], event: ChatEvent): Promise<void> {
    await this.broker
      .publish(userIds.map(userChannel), event)
      .catch((err) => this.logger.warn({ err, event: event.type }, 'chat publish failed'));
  }

  /** The message a retried send names; a different body or other media mean the client reused its id. */
  private async original(
    conversationId: string,
    userId: string,
    clientMessageId: string,
    body: string,
    mediaIds: readonly string[],
  ): Promise<MessageView> {
    const row = await this.repo.findByClientId(conversationId, userId, clientMessageId);
    // the retry rolled back, so the first send committed: it is there unless it was erased since
    if (!row) throw notFound();
    const media = await this.mediaOf([row]);
    const sentIds = (media.get(row.id) ?? []).map((m) => m.id);
    // An edited or deleted message cannot be compared with the retry: the retry gets it as is.
    if (
      (row.body !== body || !sameIds(sentIds, mediaIds)) &&
      row.edited_at === null &&
      row.deleted_at === null
    ) {
      throw new AppError('CLIENT_MESSAGE_ID_REUSED', undefined, { messageId: row.id, seq: row.seq });
    }
    return presentMessage(row, media);
  }

  /** A message of mine, not deleted, in a conversation I am still a member of. */
  private async ownLiveMessage(userId: string, messageId: string): Promise<MessageRow> {
    const row = UUID.test(messageId) ? await this.repo.findMessage(messageId) : undefined;
    if (
      !row ||
      row.sender_id !== userId ||
      row.deleted_at !== null ||
      !(await this.repo.isMember(userId, row.conversation_id))
    ) {
      throw messageNotFound();
    }
    return row;
  }

  private async announce(
    row: MessageRow,
    type: 'message.updated' | 'message.deleted',
    media: MediaByMessage,
  ): Promise<MessageView> {
    const message = presentMessage(row, media);
    await this.publish(await this.repo.memberIds(row.conversation_id), { type, message });
    return message;
  }
}

/** A read after a stored send that fails for want of a database: retryable (the resend is recognised). */
async function retryableOnOutage<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (classifyDbError(err) === 'unavailable') throw retryLater('DATABASE_UNAVAILABLE', 1000);
    throw err;
  }
}
