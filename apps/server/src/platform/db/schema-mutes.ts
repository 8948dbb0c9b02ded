import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** Mutes (0040): hidden from the muter's own views only; the muted side notices nothing. */
export interface UserMutesTable {
  user_id: string;
  muted_id: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
}

export interface HashtagMutesTable {
  user_id: string;
  tag: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
}

export interface ConversationMutesTable {
  user_id: string;
  conversation_id: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
}

export interface MuteTables {
  user_mutes: UserMutesTable;
  hashtag_mutes: HashtagMutesTable;
  conversation_mutes: ConversationMutesTable;
}
