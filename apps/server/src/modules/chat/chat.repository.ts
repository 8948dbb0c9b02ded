import { Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string | null;
  client_message_id: string;
  body: string;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

/** A member's place in a conversation: the newest seq and the member's read marker. */
export interface Position {
  conversation_id: string;
  last_seq: number;
  last_read_seq: number;
}

export interface SendDraft {
  id: string;
  conversationId: string;
  senderId: string;
  clientMessageId: string;
  body: string;
}

export type SendOutcome =
  | { status: 'sent'; message: MessageRow; memberIds: string[] }
  | { status: 'not_found' | 'blocked' | 'duplicate' };

export interface SeqRange {
  before?: number | undefined;
  after?: number | undefined;
}

/** Unread counts stop counting here (a badge shows "999+"); keeps each count a bounded index scan. */
export const UNREAD_CAP = 1000;

const MESSAGE_COLUMNS = [
  'id',
  'conversation_id',
  'seq',
  'sender_id',
  'client_message_id',
  'body',
  'created_at',
  'edited_at',
  'deleted_at',
] as const;

type RawMessage = Omit<MessageRow, 'seq'> & { seq: string | number };
const toMessage = (row: RawMessage): MessageRow => ({ ...row, seq: Number(row.seq) });

/**
 * SQL for messages, sequence numbers and read markers. A send takes the conversation row's lock
 * first: it serializes senders, so seqs are gapless and unique.
 *
 * Reads the mutes module's conversation_mutes: the unread total leaves muted conversations out.
 */
export class ChatRepository {
  constructor(private readonly db: Db) {}

  /**
   * Sends messages in one round trip (`chat_send_message`, migration 0018, once per draft, in the
   * order given): each locks its conversation, checks membership, blocks and retries under the
   * lock, takes the next seq, inserts, and moves the sender's read marker. The outcomes come back
   * in the same order, each sent one with the members to tell. Run in a transaction to write more
   * before the commit, or on a connection of the caller's own (`pg` client: the send batcher's,
   * which it can close when the database does not answer in time).
   */
  async send(db: Kysely<DB> | pg.ClientBase, drafts: readonly SendDraft[]): Promise<SendOutcome[]> {
    const column = <K extends keyof SendDraft>(key: K) => drafts.map((d) => d[key]);
    // the members are read (and sent back) for the first send to each conversation only
    const seen = new Set<string>();
    const firsts = drafts.map((d) => !seen.has(d.conversationId) && seen.add(d.conversationId) !== undefined);
    const query = sql<RawMessage & { status: SendOutcome['status']; member_ids: string | null }>`
      SELECT r.* FROM unnest(${column('id')}::uuid[], ${column('conversationId')}::uuid[],
                             ${column('senderId')}::uuid[], ${column('clientMessageId')}::text[],
                             ${column('body')}::text[], ${firsts}::boolean[])
                      WITH ORDINALITY AS d(id, cid, sid, client_id, body, with_members, n)
        CROSS JOIN LATERAL chat_send_message(d.id, d.cid, d.sid, d.client_id, d.body, d.with_members) r
       ORDER BY d.n`;
    let rows: (RawMessage & { status: SendOutcome['status']; member_ids: string | null })[];
    if (db instanceof Kysely) {
      rows = (await query.execute(db)).rows;
    } else {
      const compiled = query.compile(this.db);
      rows = (await db.query({ text: compiled.sql, values: [...compiled.parameters] })).rows;
    }
    const members = new Map<string, string[]>();
    for (const [i, row] of rows.entries()) {
      if (row.member_ids !== null) members.set(drafts[i]!.conversationId, row.member_ids.split(','));
    }
    // the first send to a conversation was not sent (a retry, say) but a later one was: ask now
    const missing = rows.filter((r) => r.status === 'sent' && !members.has(r.conversation_id));
    for (const id of new Set(missing.map((r) => r.conversation_id)))
      members.set(id, await this.memberIds(id));
    return rows.map(({ status, member_ids: _, ...message }) =>
      status === 'sent'
        ? { status, message: toMessage(message), memberIds: members.get(message.conversation_id)! }
        : { status },
    );
  }

  /** The current members' ids. */
  async memberIds(conversationId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('conversation_members')
      .select('user_id')
      .where('conversation_id', '=', conversationId)
      .where('left_at', 'is', null)
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** Moves a member's read marker forward to `seq` (never back, never past the conversation's last seq). */
  async advanceReadMarker(
    conversationId: string,
    userId: string,
    seq: number,
  ): Promise<{ last_read_seq: number; moved: boolean } | undefined> {
    const { rows } = await sql<{ last_read_seq: string; moved: boolean }>`
      WITH target AS (
        SELECT cm.last_read_seq AS old, least(greatest(cm.last_read_seq, ${seq}::bigint), c.last_seq) AS new
          FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id
         WHERE cm.conversation_id = ${conversationId} AND cm.user_id = ${userId} AND cm.left_at IS NULL
      ), updated AS (
        UPDATE conversation_members cm SET last_read_seq = target.new FROM target
         WHERE cm.conversation_id = ${conversationId} AND cm.user_id = ${userId} AND target.new > target.old
        RETURNING cm.last_read_seq
      )
      SELECT coalesce((SELECT last_read_seq FROM updated), target.old) AS last_read_seq,
             EXISTS (SELECT 1 FROM updated) AS moved
        FROM target`.execute(this.db);
    const row = rows[0];
    return row && { last_read_seq: Number(row.last_read_seq), moved: row.moved };
  }

  async findByClientId(
    conversationId: string,
    senderId: string,
    clientMessageId: string,
  ): Promise<MessageRow | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .select(MESSAGE_COLUMNS)
      .where('conversation_id', '=', conversationId)
      .where('sender_id', '=', senderId)
      .where('client_message_id', '=', clientMessageId)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  async findMessage(id: string): Promise<MessageRow | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .select(MESSAGE_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  /** Changes the text of a live message by its author; undefined when there is none. */
  async editMessage(id: string, authorId: string, body: string): Promise<MessageRow | undefined> {
    const row = await this.db
      .updateTable('messages')
      .set({ body, edited_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('sender_id', '=', authorId)
      .where('deleted_at', 'is', null)
      .returning(MESSAGE_COLUMNS)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  /** Deletes a live message by its author, keeping its seq; undefined when there is none. */
  async deleteMessage(
    id: string,
    authorId: string,
    trx: Kysely<DB> = this.db,
  ): Promise<MessageRow | undefined> {
    const row = await trx
      .updateTable('messages')
      .set({ body: '', deleted_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('sender_id', '=', authorId)
      .where('deleted_at', 'is', null)
      .returning(MESSAGE_COLUMNS)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  /**
   * Deletes a live message as a report case's decision (whoever sent it, member or not): the text
   * moves to `withheld_body` and the row is marked with the case, so an overturned appeal restores it.
   */
  async withholdMessage(id: string, caseId: string, trx: Kysely<DB> = this.db) {
    const row = await trx
      .updateTable('messages')
      .set({
        withheld_body: sql<string>`body`,
        body: '',
        deleted_at: sql<Date>`now()`,
        removed_by_case: caseId,
      })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returning(MESSAGE_COLUMNS)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  /** Brings back the message `caseId` removed, text and all; undefined when it removed none. */
  async restoreWithheldMessage(id: string, caseId: string, trx: Kysely<DB> = this.db) {
    const row = await trx
      .updateTable('messages')
      .set({
        body: sql<string>`coalesce(withheld_body, '')`,
        withheld_body: null,
        deleted_at: null,
        removed_by_case: null,
      })
      .where('id', '=', id)
      .where('removed_by_case', '=', caseId)
      .where('deleted_at', 'is not', null)
      .returning(MESSAGE_COLUMNS)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  /**
   * Up to `limit + 1` messages in seq order: after `after`, or the newest before `before` (or the
   * newest of all), read from the (conversation_id, seq) key.
   */
  async page(conversationId: string, range: SeqRange, limit: number): Promise<MessageRow[]> {
    const rows = (await this.pageQuery(conversationId, range, limit).execute()).map(toMessage);
    return range.after !== undefined ? rows : rows.reverse();
  }

  /** The statement behind `page` (newest first unless paging forward), exposed for plan tests. */
  pageQuery(conversationId: string, range: SeqRange, limit: number) {
    let query = this.db
      .selectFrom('messages')
      .select(MESSAGE_COLUMNS)
      .where('conversation_id', '=', conversationId);
    if (range.after !== undefined) {
      query = query.where('seq', '>', String(range.after)).orderBy('seq', 'asc');
    } else {
      if (range.before !== undefined) query = query.where('seq', '<', String(range.before));
      query = query.orderBy('seq', 'desc');
    }
    return query.limit(limit + 1);
  }

  /**
   * For each (conversation, after) pair: up to `limit + 1` messages with a higher seq, in order.
   * The caller passes only conversations the user belongs to.
   */
  async messagesAfter(
    pairs: { conversationId: string; after: number }[],
    limit: number,
  ): Promise<MessageRow[]> {
    if (pairs.length === 0) return [];
    const { rows } = await sql<RawMessage>`
      SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.client_message_id, m.body, m.created_at, m.edited_at, m.deleted_at
        FROM unnest(${pairs.map((p) => p.conversationId)}::uuid[], ${pairs.map((p) => String(p.after))}::bigint[]) AS p(cid, after)
        CROSS JOIN LATERAL (
          SELECT * FROM messages WHERE conversation_id = p.cid AND seq > p.after ORDER BY seq LIMIT ${limit + 1}
        ) m
       ORDER BY m.conversation_id, m.seq`.execute(this.db);
    return rows.map(toMessage);
  }

  /** The user's current conversations (or those of `ids`), with last seq and read marker. */
  async positions(userId: string, ids?: readonly string[]): Promise<Position[]> {
    let query = this.db
      .selectFrom('conversation_members as cm')
      .innerJoin('conversations as c', 'c.id', 'cm.conversation_id')
      .select(['cm.conversation_id', 'c.last_seq', 'cm.last_read_seq'])
      .where('cm.user_id', '=', userId)
      .where('cm.left_at', 'is', null);
    if (ids) {
      if (ids.length === 0) return [];
      query = query.where('cm.conversation_id', 'in', ids);
    }
    const rows = await query.execute();
    return rows.map((r) => ({
      conversation_id: r.conversation_id,
      last_seq: Number(r.last_seq),
      last_read_seq: Number(r.last_read_seq),
    }));
  }

  /**
   * Unread messages (from others, not deleted) per conversation of the user that has any, each
   * capped at UNREAD_CAP. All of them: conversations the user muted (the mutes module's
   * conversation_mutes) are left out, as they are from the unread total; one asked for by id is
   * counted whether muted or not.
   */
  async unreadCounts(userId: string, conversationId?: string): Promise<Map<string, number>> {
    const { rows } = await sql<{ conversation_id: string; unread: number }>`
      SELECT cm.conversation_id, (
               SELECT count(*)::int FROM (
                 SELECT 1 FROM messages m
                  WHERE m.conversation_id = cm.conversation_id AND m.seq > cm.last_read_seq
                    AND m.deleted_at IS NULL AND m.sender_id IS DISTINCT FROM cm.user_id
                  LIMIT ${UNREAD_CAP}) x) AS unread
        FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id
       WHERE cm.user_id = ${userId} AND cm.left_at IS NULL AND c.last_seq > cm.last_read_seq
         ${
           conversationId
             ? sql`AND cm.conversation_id = ${conversationId}`
             : sql`AND NOT EXISTS (
                 SELECT 1 FROM conversation_mutes mu
                  WHERE mu.user_id = cm.user_id AND mu.conversation_id = cm.conversation_id
                    AND (mu.expires_at IS NULL OR mu.expires_at > now()))`
         }`.execute(this.db);
    return new Map(rows.filter((r) => r.unread > 0).map((r) => [r.conversation_id, r.unread]));
  }

  /** Whether the message exists, is not deleted, and the user is a current member of its conversation. */
  async canSeeMessage(userId: string, messageId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('messages as m')
      .innerJoin('conversation_members as cm', 'cm.conversation_id', 'm.conversation_id')
      .select('m.id')
      .where('m.id', '=', messageId)
      .where('m.deleted_at', 'is', null)
      .where('cm.user_id', '=', userId)
      .where('cm.left_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async isMember(userId: string, conversationId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('conversation_members')
      .select('user_id')
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }
}
