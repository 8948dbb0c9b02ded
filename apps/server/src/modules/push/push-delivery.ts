import type { Agent } from 'node:https';
import type { Kysely } from 'kysely';
import webpush, { WebPushError } from 'web-push';
import type { DB } from '../../platform/db/schema.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import { checkEndpoint } from './endpoint-guard.ts';
import type { PushMetrics, PushOutcome } from './push.metrics.ts';
import type { PushRepository } from './push.repository.ts';
import type { PushPayload } from './push-payload.ts';
import type { VapidKeys } from './vapid-keys.ts';

/** The `push.deliver` job: one payload to one subscription; `attempt` counts from 1. */
export interface PushJob {
  subscriptionId: string;
  payload: PushPayload;
  attempt?: number;
}

/** A push service keeps an undelivered message this long (the notification itself stays listed). */
export const PUSH_TTL_SECONDS = 24 * 3600;
/** Attempts per push before it is given up (429/5xx/network each count one). */
export const PUSH_MAX_ATTEMPTS = 6;
const BASE_BACKOFF_MS = 30_000;
const MAX_DELAY_MS = 24 * 3600_000;
const SEND_TIMEOUT_MS = 10_000;

/** Delay before retry `attempt + 1`: the push service's Retry-After when it gave one, else exponential. */
export function retryDelayMs(attempt: number, retryAfter: string | undefined, now = Date.now()): number {
  const backoff = Math.min(BASE_BACKOFF_MS * 2 ** (attempt - 1), 3600_000);
  if (!retryAfter) return backoff;
  const seconds = /^\d+$/.test(retryAfter.trim())
    ? Number(retryAfter.trim()) * 1000
    : Date.parse(retryAfter) - now;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, MAX_DELAY_MS) : backoff;
}

export interface PushDeliveryDeps {
  db: Kysely<DB>;
  repo: PushRepository;
  /** VAPID keys and subject, or undefined when Web Push is off. */
  vapid: () => Promise<(VapidKeys & { subject: string }) | undefined>;
  /** The HTTPS agent push requests go through (internal addresses refused at connect). */
  agent: Agent;
  allowInternal: boolean;
  metrics: PushMetrics;
  logger: Logger;
}

/**
 * Sends pushes through the `web-push` library (VAPID, RFC 8291 aes128gcm payload encryption). A push
 * service answering 404/410 has dropped the subscription: it is removed. 429 and 5xx (and network
 * failures) are retried by a new job at Retry-After or with backoff, and the subscription holds its
 * next attempt till then, so that other pushes to it wait too.
 */
export class PushDelivery {
  constructor(private readonly deps: PushDeliveryDeps) {}

  /** Enqueues one job per live subscription of the user. */
  async enqueueFor(userId: string, payload: PushPayload): Promise<number> {
    const subs = await this.deps.repo.forUser(userId);
    for (const sub of subs) await enqueue(this.deps.db, 'push.deliver', { subscriptionId: sub.id, payload });
    return subs.length;
  }

  /** Job: one attempt; never throws for the push service's answers (retries are jobs of their own). */
  async deliver(job: PushJob): Promise<PushOutcome | undefined> {
    const { repo, logger } = this.deps;
    const attempt = job.attempt ?? 1;
    const sub = await repo.find(job.subscriptionId);
    const vapid = await this.deps.vapid();
    if (!sub || !vapid) return undefined;
    if (sub.next_attempt_at && sub.next_attempt_at.getTime() > Date.now()) {
      // the push service asked for a pause (another push met it): wait with it
      await this.requeue(job, attempt, sub.next_attempt_at);
      return undefined;
    }
    const outcome = await this.send(sub, job.payload, vapid).then(
      () => 'sent' as const,
      (err: unknown) => err,
    );
    if (outcome === 'sent') {
      await repo.delivered(sub.id);
      return this.count('sent');
    }
    const status = outcome instanceof WebPushError ? outcome.statusCode : undefined;
    if (status === 404 || status === 410) {
      await repo.remove(sub.id);
      return this.count('gone');
    }
    const code = (outcome as { code?: string }).code;
    if (code === 'PUSH_ENDPOINT_INTERNAL' || code === 'INVALID_PUSH_ENDPOINT') {
      // a stored endpoint the rules now refuse never becomes acceptable: retrying is pointless
      logger.warn({ subscriptionId: sub.id, code }, 'push endpoint refused: subscription removed');
      await repo.remove(sub.id);
      return this.count('refused');
    }
    if (status !== undefined && status !== 429 && status < 500) {
      logger.warn(
        { subscriptionId: sub.id, status, body: (outcome as WebPushError).body?.slice(0, 200) },
        'push rejected',
      );
      return this.count('rejected');
    }
    // 429, 5xx, or no answer: later
    const retryAfter = outcome instanceof WebPushError ? header(outcome.headers, 'retry-after') : undefined;
    const at = new Date(Date.now() + retryDelayMs(attempt, retryAfter));
    await repo.failed(sub.id, status === 429 || retryAfter ? at : null);
    if (attempt >= PUSH_MAX_ATTEMPTS) return this.count('gave_up');
    await this.requeue(job, attempt + 1, at);
    logger.info({ subscriptionId: sub.id, status, attempt, retryAt: at.toISOString() }, 'push deferred');
    return this.count('retry');
  }

  // async: checkEndpoint's throw must become a rejection, handled above like the push service's answers
  private async send(
    sub: { endpoint: string; p256dh: string; auth: string },
    payload: PushPayload,
    vapid: VapidKeys & { subject: string },
  ) {
    // the stored URL is checked again: the rules may have tightened since it was accepted
    checkEndpoint(sub.endpoint, this.deps.allowInternal);
    return webpush.sendNotification(
      { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
      JSON.stringify(payload),
      {
        vapidDetails: vapid,
        TTL: PUSH_TTL_SECONDS,
        urgency: payload.type === 'reaction' ? 'low' : 'normal',
        // a newer push of the same notification (another reaction) replaces an undelivered one
        topic: payload.id.replaceAll('-', ''),
        agent: this.deps.agent,
        timeout: SEND_TIMEOUT_MS,
        contentEncoding: 'aes128gcm',
      },
    );
  }

  private requeue(job: PushJob, attempt: number, runAt: Date) {
    return enqueue(
      this.deps.db,
      'push.deliver',
      { subscriptionId: job.subscriptionId, payload: job.payload, attempt },
      { runAt },
    );
  }

  private count(outcome: PushOutcome): PushOutcome {
    this.deps.metrics.deliveries.inc({ outcome });
    return outcome;
  }
}

function header(headers: Record<string, string | string[] | undefined> | undefined, name: string) {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
