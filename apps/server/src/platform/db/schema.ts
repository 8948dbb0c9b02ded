import type { ColumnType, Generated } from 'kysely';
import type { ChatTables } from './schema-chat.ts';
import type { FlagTables } from './schema-flags.ts';
import type { MediaTables } from './schema-media.ts';
import type { MuteTables } from './schema-mutes.ts';
import type { PushTables } from './schema-push.ts';
import type { ReportTables } from './schema-reports.ts';
import type { SocialTables } from './schema-social.ts';
import type { TwoFactorTables } from './schema-two-factor.ts';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type UserRole = 'user' | 'moderator' | 'admin';

export interface UsersTable {
  id: string;
  username: string;
  email: string;
  display_name: string;
  bio: Generated<string>;
  password_hash: string;
  role: ColumnType<UserRole, UserRole | undefined, UserRole>;
  banned_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_active_at: Timestamp;
  /** Set when the user deleted the account (0012); erased at erase_after. */
  deactivated_at: NullableTimestamp;
  erase_after: NullableTimestamp;
  /** When the address was verified (0032); NULL until then. */
  email_verified_at: NullableTimestamp;
  /** Until when the account may read but not write (0034); NULL when not suspended. */
  suspended_until: NullableTimestamp;
}

/** Single-use tokens mailed to an account (0032): password reset, e-mail verification. */
export interface AccountTokensTable {
  token_hash: Buffer;
  purpose: 'password_reset' | 'email_verify' | 'email_change' | 'email_change_undo';
  user_id: string;
  email: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  user_agent: Generated<string>;
  ip: Generated<string>;
  created_at: Timestamp;
  last_used_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: Buffer;
  session_id: string;
  created_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: Timestamp;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  state: 'running' | 'done';
  response_status: number | null;
  response_headers: ColumnType<Record<string, string> | null, string | null, string | null>;
  response_body: string | null;
  created_at: Timestamp;
  locked_until: Timestamp;
  expires_at: Timestamp;
}

export interface DB
  extends SocialTables,
    ChatTables,
    MediaTables,
    FlagTables,
    ReportTables,
    TwoFactorTables,
    MuteTables,
    PushTables {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  account_tokens: AccountTokensTable;
  audit_log: AuditLogTable;
  idempotency_keys: IdempotencyKeysTable;
}
