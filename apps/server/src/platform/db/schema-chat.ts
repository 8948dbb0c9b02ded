import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** bigint columns: pg returns them as strings; repositories convert to number (seqs stay < 2^53). */
type Int8 = ColumnType<string, number | string | bigint | undefined, number | string | bigint>;

export type ConversationKind = 'direct' | 'group';
export type MemberRole = 'admin' | 'member';

export interface ConversationsTable {
  id: string;
  kind: ConversationKind;
  title: string | null;
  /** `<lower id>:<higher id>` for a direct conversation (unique: one per pair); null for groups. */
  direct_key: string | null;
  created_by: string | null;
  created_at: Timestamp;
  last_message_at: Timestamp;
  last_seq: Int8;
}

export interface ConversationMembersTable {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  joined_at: Timestamp;
  last_read_seq: Int8;
  /** Set when the member left or was removed; the row stays so a re-add keeps the read marker. */
  left_at: NullableTimestamp;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: Int8;
  sender_id: string | null;
  client_message_id: string;
  body: string;
  created_at: Timestamp;
  edited_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
  /** The report case whose decision removed it (0043), and the text kept for an overturned appeal. */
  removed_by_case: ColumnType<string | null, string | null | undefined, string | null>;
  withheld_body: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ChatTables {
  conversations: ConversationsTable;
  conversation_members: ConversationMembersTable;
  messages: MessagesTable;
}
