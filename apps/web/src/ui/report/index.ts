/** The report dialog, for every place something can be reported (posts, comments, messages, profiles). */
export { REPORT_REASONS, type ReportReason, type ReportTarget } from './reasons.ts';
export { ReportButton } from './report-button.tsx';
