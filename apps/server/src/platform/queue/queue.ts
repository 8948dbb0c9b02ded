import { SpanKind } from '@opentelemetry/api';
import { type Kysely, sql } from 'kysely';
import type { PushJob } from '../../modules/push/push-delivery.ts';
import type { DB } from '../db/schema.ts';
import type { MailJob } from '../mail/mail.service.ts';
import { currentCarrier, inSpan, TRACE_FIELD, tracingActive } from '../observability/trace-context.ts';

/** Every task Kith runs, with its payload type: the one place a job's shape is declared. */
export interface JobPayloads {
  'idempotency.cleanup': Record<string, never>;
  'sessions.cleanup': Record<string, never>;
  /** Writes a feed entry for each recently active friend of the post's author. */
  'feed.fan-out': { postId: string };
  /** Removes an author's entries from a reader's feed (unfriend, block). */
  'feed.remove-author': { userId: string; authorId: string };
  /** Copies an author's recent posts into a reader's feed (new friendship). */
  'feed.backfill': { userId: string; authorId: string };
  /** Rebuilds the feed of a user back after a long absence (fan-out skipped them). */
  'feed.rebuild': { userId: string };
  /** Creates (or groups into) a notification and publishes it for live delivery. */
  'notifications.create': {
    kind: 'friend_request' | 'friend_accepted' | 'comment' | 'reaction' | 'mention';
    userId: string;
    actorId: string;
    subjectId?: string;
    data?: Record<string, string>;
  };
  /** A notice from Kith itself: a report's outcome to a reporter, a moderation decision to its subject. */
  'notifications.notice': {
    kind: 'report_resolved' | 'moderation_notice';
    userId: string;
    subjectId: string;
    data: Record<string, string>;
  };
  /** Lifts the suspensions whose time is over and tells each user. */
  'reports.expire-suspensions': Record<string, never>;
  /** Notifies the users a post or comment mentions who can see it. */
  'notifications.mentions': { postId: string; commentId?: string };
  /** Recomputes the top hashtags of the last 24 hours. */
  'tags.trending': Record<string, never>;
  /** Builds the JSON archive of a data export. */
  'account.export': { exportId: string };
  /** Erases a deleted account once its retention period is over. */
  'account.erase': { userId: string };
  /** Deletes export archives past their keeping time. */
  'account.exports-cleanup': Record<string, never>;
  /** Re-encodes an upload into its variants, or marks it failed with a reason. */
  'media.process': { mediaId: string };
  /** Deletes the media of a deleted post or a deleted message (rows, then bytes). */
  'media.delete-attached': { kind: 'post' | 'message'; parentId: string };
  /** Deletes uploads never attached within 24 h, and media whose post or message is gone. */
  'media.cleanup': Record<string, never>;
  /** Backs up the database and media to BACKUP_TARGET (scheduled when it is set). */
  'backup.run': Record<string, never>;
  /** The restore drill: restores the newest backup into a scratch database and compares. */
  'backup.verify': Record<string, never>;
  /** Renders one kind of mail and sends it (SMTP, or the embedded outbox). */
  'mail.send': MailJob;
  /** Deletes password-reset and verification tokens a day after they expired. */
  'account-tokens.cleanup': Record<string, never>;
  'mutes.cleanup': Record<string, never>;
  /** Sends one notification's push to one subscribed device (retried as a new job at Retry-After). */
  'push.deliver': PushJob;
}

export type TaskName = keyof JobPayloads;

export interface EnqueueOptions {
  runAt?: Date;
  maxAttempts?: number;
  /** Replaces a not-yet-started job with the same key instead of adding another. */
  jobKey?: string;
}

/**
 * Adds a job in the caller's transaction (transactional outbox): if the transaction rolls back,
 * the job never existed; if it commits, the job will run. Inside a traced request (or job) the job
 * carries the trace context in its payload (`_trace`, see worker.ts), under a producer span.
 */
export async function enqueue<T extends TaskName>(
  db: Kysely<DB>,
  task: T,
  payload: JobPayloads[T],
  options: EnqueueOptions = {},
) {
  if (!tracingActive() || !currentCarrier()) return addJob(db, task, payload, options);
  await inSpan(
    `send ${task}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'graphile-worker',
        'messaging.operation.type': 'send',
        'messaging.destination.name': task,
      },
    },
    () => addJob(db, task, { ...payload, [TRACE_FIELD]: currentCarrier() }, options),
  );
}

async function addJob(db: Kysely<DB>, task: TaskName, payload: object, options: EnqueueOptions) {
  await sql`SELECT graphile_worker.add_job(
    ${task},
    ${JSON.stringify(payload)}::json,
    run_at => ${options.runAt ?? null}::timestamptz,
    max_attempts => ${options.maxAttempts ?? 25}::int,
    job_key => ${options.jobKey ?? null}::text
  )`.execute(db);
}
