import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Metrics } from '../observability/metrics.ts';
import { enqueue } from '../queue/queue.ts';
import type { Mailer } from './mailer.ts';
import { type MailKind, type MailKinds, renderMail } from './templates.ts';

/** Mail is sent by the `mail.send` job: enqueued with the write that causes it, retried with backoff. */
export class MailService {
  constructor(
    private readonly mailer: Mailer,
    private readonly metrics: Pick<Metrics, 'mail'>,
  ) {}

  /** Ends the SMTP pool (the process is stopping). */
  close(): Promise<void> {
    return this.mailer.close();
  }

  /** Queues a message in the caller's transaction: it is sent if, and only if, that commits. */
  queue<K extends MailKind>(trx: Kysely<DB>, kind: K, to: string, data: MailKinds[K]): Promise<void> {
    return enqueue(trx, 'mail.send', { kind, to, data } as MailJob, { maxAttempts: 10 });
  }

  /** The job: renders and sends; a failure is counted and thrown, so graphile-worker retries it. */
  async send(job: MailJob): Promise<void> {
    const rendered = renderMail(job.kind, job.data as never);
    try {
      await this.mailer.send({ to: job.to, ...rendered, headers: { 'Auto-Submitted': 'auto-generated' } });
    } catch (err) {
      this.metrics.mail.inc({ kind: job.kind, outcome: 'failed' });
      throw err;
    }
    this.metrics.mail.inc({ kind: job.kind, outcome: 'sent' });
  }
}

export type MailJob = { [K in MailKind]: { kind: K; to: string; data: MailKinds[K] } }[MailKind];
