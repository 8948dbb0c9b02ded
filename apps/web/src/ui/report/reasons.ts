import type { BodyOf } from '../../api/client.ts';

/** What can be reported: a post, a comment, a chat message (my copy of it) or a user. */
export interface ReportTarget {
  type: BodyOf<'/api/v1/reports', 'post'>['targetType'];
  id: string;
}

export type ReportReason = BodyOf<'/api/v1/reports', 'post'>['reason'];

/** The server's fixed list (the type checks each entry), in the order the dialog offers it. */
export const REPORT_REASONS: readonly ReportReason[] = [
  'spam',
  'harassment',
  'hate',
  'violence',
  'sexual_content',
  'self_harm',
  'misinformation',
  'illegal',
  'other',
];
