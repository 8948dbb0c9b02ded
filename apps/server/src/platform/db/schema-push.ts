import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** Web Push subscriptions (0044): one per session, removed with it. */
export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  session_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: Timestamp;
  last_success_at: NullableTimestamp;
  failure_count: ColumnType<number, number | undefined, number>;
  next_attempt_at: NullableTimestamp;
}

export interface PushTables {
  push_subscriptions: PushSubscriptionsTable;
}
