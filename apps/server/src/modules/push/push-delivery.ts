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
/**
 * Consecutive failed attempts (5xx/network, across pushes, reset by a success) after which a
 * subscription is removed as a dead device, even before a push has used up its attempts.
 */
export const PUSH_REMOVE_AFTER_FAILURES = 10;
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

/**
 * When a push held by a pause (`holdUntil`, a push service's 429/Retry-After) runs again: after the
 * pause, at a random point of a window as long as the pause (at least the first backoff step), so
 * that the pushes it held do not all reach the push service in one burst when it ends.
 */
export function heldRunAt(holdUntil: Date, now: number, random: () => number = Math.random): Date {
  const window = Math.min(Math.max(holdUntil.getTime() - now, BASE_BACKOFF_MS), MAX_DELAY_MS);
  return new Date(holdUntil.getTime() + Math.floor(random() * window));
}

/** Full jitter for Kith's own backoff (no Retry-After): a random delay up to the backoff step. */
export function jitteredBackoffMs(backoffMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * backoffMs);
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
  /** Jitter source (tests fix it); Math.random by default. */
  random?: () => number;
}

/**
 * Sends pushes through the `web-push` library (VAPID, RFC 8291 aes128gcm payload encryption). A push
 * service answering 404/410 has dropped the subscription: it is removed. 429 and 5xx (and network
 * failures) are retried by a new job at Retry-After or with backoff, and the subscription holds its
 * next attempt till then, so that other pushes to it wait too. A subscription that keeps failing
 * (a push given up after its last attempt, or PUSH_REMOVE_AFTER_FAILURES in a row) is removed.
 */
export class PushDelivery {
  private enabledFor: ((userId: string) => Promise<boolean>) | undefined;

  constructor(private readonly deps: PushDeliveryDeps) {}

  /**
   * The operators' switch, checked again by every job (PushService sets it once flags exist): a
   * push queued, or waiting for a retry, when the switch went off is dropped.
   */
  gateBy(enabled: (userId: string) => Promise<boolean>): void {
    this.enabledFor = enabled;
  }

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
    if (this.enabledFor && !(await this.enabledFor(sub.user_id))) return this.count('flag_off');
    const now = Date.now();
    if (sub.next_attempt_at && sub.next_attempt_at.getTime() > now) {
      // the push service asked for a pause (another push met it): wait with it, then spread out
      await this.requeue(job, attempt, heldRunAt(sub.next_attempt_at, now, this.deps.random));
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
    const delay = retryDelayMs(attempt, retryAfter);
    const hold = status === 429 || Boolean(retryAfter);
    // a pause the push service asked for is kept exactly (pushes it holds spread out after it);
    // Kith's own backoff is jittered in full, so that failed pushes do not retry in step
    const at = new Date(Date.now() + (hold ? delay : jitteredBackoffMs(delay, this.deps.random)));
    const failures = await repo.failed(sub.id, hold ? at : null);
    // a device that keeps failing stops costing jobs; a 429 is the push service pacing Kith, not a
    // dead device, so it never removes one (the push is given up, the subscription kept)
    const lastAttempt = attempt >= PUSH_MAX_ATTEMPTS;
    if (status !== 429 && (lastAttempt || failures >= PUSH_REMOVE_AFTER_FAILURES)) {
      logger.warn(
        { subscriptionId: sub.id, status, attempt, failures },
        'push keeps failing: subscription removed',
      );
      await repo.remove(sub.id);
      return this.count('removed_failing');
    }
    if (lastAttempt) return this.count('gave_up');
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
