import { type Kysely, sql } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { ConversationKind, MemberRole } from '../../platform/db/schema-chat.ts';
import { type MessageRow, UNREAD_CAP } from './chat.repository.ts';

/** A conversation as one member sees it in a list. */
export interface ConversationRow {
  id: string;
  kind: ConversationKind;
  title: string | null;
  created_at: Date;
  last_message_at: Date;
  /** last_message_at in microseconds since the epoch, exact, for cursors */
  activity_us: string;
  last_seq: number;
  last_read_seq: number;
  unread_count: number;
  /** I muted it (a mute in force): its messages do not count towards my unread total. */
  muted: boolean;
  last_message: MessageRow | null;
  /** The other member of a direct conversation (null for groups, or once that account is gone). */
  peer: { id: string; username: string; displayName: string } | null;
}

export interface MemberRow {
  user_id: string;
  username: string;
  display_name: string;
  role: MemberRole;
  joined_at: Date;
  /** The newest seq this member has seen (their read marker: "seen by"). */
  last_read_seq: number;
}

type RawConversation = Omit<ConversationRow, 'last_seq' | 'last_read_seq' | 'last_message'> & {
  last_seq: string;
  last_read_seq: string;
  last_message:
    | (Omit<MessageRow, 'created_at' | 'edited_at' | 'deleted_at'> & Record<string, string | null>)
    | null;
};

function toConversation(row: RawConversation): ConversationRow {
  const m = row.last_message;
  return {
    ...row,
    last_seq: Number(row.last_seq),
    last_read_seq: Number(row.last_read_seq),
    last_message: m && {
      ...m,
      seq: Number(m.seq),
      created_at: new Date(m.created_at as string),
      edited_at: m.edited_at ? new Date(m.edited_at as string) : null,
      deleted_at: m.deleted_at ? new Date(m.deleted_at as string) : null,
    },
  };
}

/**
 * SQL for conversations and their members. Membership writes hold the conversation row lock (`lock`).
 *
 * Reads users (the users module's) in joins: members' names and the direct peer's, live accounts
 * only, for member lists and the conversation list (one query per page, not a call per member);
 * and the mutes module's conversation_mutes: whether I muted each conversation of my list.
 */
export class ConversationsRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a conversation; undefined when it is a direct one whose pair already has one. */
  async insert(
    trx: Kysely<DB>,
    c: {
      id: string;
      kind: ConversationKind;
      title: string | null;
      directKey: string | null;
      createdBy: string;
    },
  ): Promise<string | undefined> {
    const row = await trx
      .insertInto('conversations')
      .values({ id: c.id, kind: c.kind, title: c.title, direct_key: c.directKey, created_by: c.createdBy })
      .onConflict((oc) => oc.column('direct_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  async findDirect(directKey: string, trx: Kysely<DB> = this.db): Promise<string | undefined> {
    const row = await trx
      .selectFrom('conversations')
      .select('id')
      .where('direct_key', '=', directKey)
      .executeTakeFirst();
    return row?.id;
  }

  async insertMembers(
    trx: Kysely<DB>,
    conversationId: string,
    members: { userId: string; role: MemberRole }[],
  ): Promise<void> {
    await trx
      .insertInto('conversation_members')
      .values(members.map((m) => ({ conversation_id: conversationId, user_id: m.userId, role: m.role })))
      .execute();
  }

  /** Locks the conversation row for the rest of `trx` (sends and membership writes take it first). */
  async lock(trx: Kysely<DB>, id: string): Promise<{ kind: ConversationKind } | undefined> {
    return trx.selectFrom('conversations').select('kind').where('id', '=', id).forUpdate().executeTakeFirst();
  }

  async kindOf(id: string): Promise<ConversationKind | undefined> {
    const row = await this.db
      .selectFrom('conversations')
      .select('kind')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.kind;
  }

  /** A current member's role; undefined when the user is not a current member. */
  async roleOf(
    conversationId: string,
    userId: string,
    trx: Kysely<DB> = this.db,
  ): Promise<MemberRole | undefined> {
    const row = await trx
      .selectFrom('conversation_members')
      .select('role')
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .executeTakeFirst();
    return row?.role;
  }

  async countMembers(trx: Kysely<DB>, conversationId: string): Promise<number> {
    const row = await trx
      .selectFrom('conversation_members')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('conversation_id', '=', conversationId)
      .where('left_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Adds a member (or brings back one who left, read marker kept); false when already a member. */
  async addMember(trx: Kysely<DB>, conversationId: string, userId: string): Promise<boolean> {
    const row = await trx
      .insertInto('conversation_members')
      .values({ conversation_id: conversationId, user_id: userId, role: 'member' })
      .onConflict((oc) =>
        oc
          .columns(['conversation_id', 'user_id'])
          .doUpdateSet({ left_at: null, role: 'member', joined_at: sql<Date>`now()` })
          .where('conversation_members.left_at', 'is not', null),
      )
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Ends a membership; false when the user was not a current member. */
  async removeMember(trx: Kysely<DB>, conversationId: string, userId: string): Promise<boolean> {
    const row = await trx
      .updateTable('conversation_members')
      .set({ left_at: sql<Date>`now()`, role: 'member' })
      .where('conversation_id', '=', conversationId)
      .where('user_id', '=', userId)
      .where('left_at', 'is', null)
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** With no admin left, makes the longest-standing member admin. */
  async ensureAdmin(trx: Kysely<DB>, conversationId: string): Promise<void> {
    await sql`
      UPDATE conversation_members SET role = 'admin'
       WHERE conversation_id = ${conversationId}
         AND user_id = (SELECT user_id FROM conversation_members
                         WHERE conversation_id = ${conversationId} AND left_at IS NULL
                         ORDER BY joined_at, user_id LIMIT 1)
         AND NOT EXISTS (SELECT 1 FROM conversation_members
                          WHERE conversation_id = ${conversationId} AND left_at IS NULL AND role = 'admin')`.execute(
      trx,
    );
  }

  /** The current members with their public names (banned or deactivated accounts left out), oldest first. */
  async members(conversationId: string): Promise<MemberRow[]> {
    const rows = await this.db
      .selectFrom('conversation_members as cm')
      .innerJoin('users as u', 'u.id', 'cm.user_id')
      .select(['cm.user_id', 'u.username', 'u.display_name', 'cm.role', 'cm.joined_at', 'cm.last_read_seq'])
      .where('cm.conversation_id', '=', conversationId)
      .where('cm.left_at', 'is', null)
      .where('u.banned_at', 'is', null)
      .where('u.deactivated_at', 'is', null)
      .orderBy('cm.joined_at')
      .orderBy('cm.user_id')
      .execute();
    return rows.map((row) => ({ ...row, last_read_seq: Number(row.last_read_seq) }));
  }

  /** One of the user's current conversations, as the list shows it. */
  async findForUser(conversationId: string, userId: string): Promise<ConversationRow | undefined> {
    const { rows } = await sql<RawConversation>`${this.listSql(userId)} AND c.id = ${conversationId}`.execute(
      this.db,
    );
    return rows[0] && toConversation(rows[0]);
  }

  /** The user's current conversations, latest activity first; keyset on (last_message_at, id). */
  async listForUser(
    userId: string,
    after: { activityUs: string; id: string } | undefined,
    limit: number,
  ): Promise<ConversationRow[]> {
    const { rows } = await this.listQuery(userId, after, limit).execute(this.db);
    return rows.map(toConversation);
  }

  /** The statement behind `listForUser`, exposed for plan tests. */
  listQuery(userId: string, after: { activityUs: string; id: string } | undefined, limit: number) {
    const keyset = after
      ? sql`AND (c.last_message_at, c.id) < (timestamptz 'epoch' + ${after.activityUs}::bigint * interval '1 microsecond', ${after.id}::uuid)`
      : sql``;
    return sql<RawConversation>`
      ${this.listSql(userId)} ${keyset}
       ORDER BY c.last_message_at DESC, c.id DESC
       LIMIT ${limit + 1}`;
  }

  private listSql(userId: string) {
    return sql`
      SELECT c.id, c.kind, c.title, c.created_at, c.last_message_at,
             (extract(epoch FROM c.last_message_at) * 1000000)::bigint::text AS activity_us,
             c.last_seq::text, cm.last_read_seq::text,
             CASE WHEN c.last_seq > cm.last_read_seq THEN (
               SELECT count(*)::int FROM (
                 SELECT 1 FROM messages m
                  WHERE m.conversation_id = c.id AND m.seq > cm.last_read_seq
                    AND m.deleted_at IS NULL AND m.sender_id IS DISTINCT FROM cm.user_id
                  LIMIT ${UNREAD_CAP}) x)
             ELSE 0 END AS unread_count,
             EXISTS (SELECT 1 FROM conversation_mutes mu
                      WHERE mu.user_id = cm.user_id AND mu.conversation_id = c.id
                        AND (mu.expires_at IS NULL OR mu.expires_at > now())) AS muted,
             (SELECT to_jsonb(lm) FROM (
                SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.client_message_id, m.body,
                       m.created_at, m.edited_at, m.deleted_at
                  FROM messages m WHERE m.conversation_id = c.id AND m.seq = c.last_seq) lm) AS last_message,
             CASE WHEN c.kind = 'direct' THEN (
               SELECT jsonb_build_object('id', u.id, 'username', u.username, 'displayName', u.display_name)
                 FROM conversation_members o JOIN users u ON u.id = o.user_id
                WHERE o.conversation_id = c.id AND o.user_id <> cm.user_id
                  AND u.banned_at IS NULL AND u.deactivated_at IS NULL) END AS peer
        FROM conversation_members cm
        JOIN conversations c ON c.id = cm.conversation_id
       WHERE cm.user_id = ${userId} AND cm.left_at IS NULL`;
  }
}
