import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type ReportTargetType = 'post' | 'comment' | 'message' | 'user';
export type ReportReason =
  | 'spam'
  | 'harassment'
  | 'hate'
  | 'violence'
  | 'sexual_content'
  | 'self_harm'
  | 'misinformation'
  | 'illegal'
  | 'other';
/** What a moderator decided: on a report, the first five; on an appeal, uphold or overturn. */
export type ReportAction = 'dismiss' | 'remove' | 'warn' | 'suspend' | 'ban' | 'uphold' | 'overturn';

/** One open case per reported thing (migration 0034, reports module). */
export interface ReportCasesTable {
  id: string;
  target_type: ReportTargetType;
  target_id: string;
  target_user_id: string | null;
  snapshot: ColumnType<Record<string, unknown>, string, string>;
  stage: ColumnType<'report' | 'appeal', 'report' | 'appeal' | undefined, 'report' | 'appeal'>;
  status: ColumnType<'open' | 'resolved', 'open' | 'resolved' | undefined, 'open' | 'resolved'>;
  reasons: ColumnType<ReportReason[], ReportReason[], ReportReason[]>;
  reporter_count: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  queued_at: Timestamp;
  resolved_at: NullableTimestamp;
  resolved_by: string | null;
  action: ReportAction | null;
  resolution_note: string | null;
  suspended_until: NullableTimestamp;
  first_action: ReportAction | null;
  first_resolved_by: string | null;
  appealed_at: NullableTimestamp;
  appeal_text: string | null;
}

export interface ReportsTable {
  id: string;
  case_id: string;
  reporter_id: string;
  reason: ReportReason;
  note: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
}

export interface ReportTables {
  report_cases: ReportCasesTable;
  reports: ReportsTable;
}
