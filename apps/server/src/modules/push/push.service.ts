import { uuidv7 } from 'uuidv7';
import { AppError } from '../../platform/errors.ts';
import type { AuthContext } from '../../platform/http/auth-context.ts';
import type { NotificationView } from '../notifications/notifications.schema.ts';
import { checkEndpoint } from './endpoint-guard.ts';
import type { PushRepository } from './push.repository.ts';
import type { PushDelivery } from './push-delivery.ts';
import { pushPayloadOf } from './push-payload.ts';
import type { VapidKeys } from './vapid-keys.ts';

/** The operators' switch (migration 0044): off stops new subscriptions and deliveries. */
export const WEB_PUSH_FLAG = 'web-push';

export interface PushServiceDeps {
  repo: PushRepository;
  delivery: PushDelivery;
  vapid: () => Promise<VapidKeys | undefined>;
  flags: { isEnabled(key: string, who: { targetingKey?: string; role?: string }): Promise<boolean> };
  /** Whether the user has a live socket now (presence): then the socket tells them, not a push. */
  isConnected(userId: string): Promise<boolean>;
  allowInternal: boolean;
}

const decoded = (b64: string) => Buffer.from(b64.replace(/=+$/, ''), 'base64url');

/** Web Push subscriptions of sessions, and the decision to push a new notification. */
export class PushService {
  constructor(private readonly deps: PushServiceDeps) {
    // the jobs check the switch too: turning it off stops queued pushes and their retries
    deps.delivery.gateBy(async (userId) => (await this.enabled({ userId })) !== undefined);
  }

  /** The VAPID public key, or 404 PUSH_UNAVAILABLE when Web Push is off for the caller. */
  async publicKey(who: Pick<AuthContext, 'userId' | 'role'>): Promise<{ publicKey: string }> {
    const keys = await this.keysFor(who);
    return { publicKey: keys.publicKey };
  }

  /** Stores (or replaces) the subscription of the caller's session. */
  async subscribe(
    who: Pick<AuthContext, 'userId' | 'role' | 'sessionId'>,
    body: { endpoint: string; keys: { p256dh: string; auth: string } },
  ): Promise<void> {
    await this.keysFor(who);
    const url = checkEndpoint(body.endpoint, this.deps.allowInternal);
    const p256dh = decoded(body.keys.p256dh);
    const auth = decoded(body.keys.auth);
    if (p256dh.length !== 65 || p256dh[0] !== 0x04)
      throw new AppError(
        'INVALID_PUSH_KEYS',
        'keys.p256dh must be an uncompressed P-256 public key (65 bytes).',
      );
    if (auth.length !== 16) throw new AppError('INVALID_PUSH_KEYS', 'keys.auth must be 16 bytes.');
    await this.deps.repo.put({
      id: uuidv7(),
      userId: who.userId,
      sessionId: who.sessionId,
      endpoint: url.href,
      p256dh: p256dh.toString('base64url'),
      auth: auth.toString('base64url'),
    });
  }

  /** Removes the subscription of the caller's session (none: nothing to do). */
  async unsubscribe(who: Pick<AuthContext, 'sessionId'>): Promise<void> {
    await this.deps.repo.removeForSession(who.sessionId);
  }

  /**
   * A notification was created: pushed to the user's subscribed devices when Web Push is on for
   * them and they have no live socket. Returns how many pushes were queued.
   */
  async notified(userId: string, notification: NotificationView): Promise<number> {
    if (!(await this.enabled({ userId }))) return 0;
    // presence unknown (the cache is down): better a push too many than a notice missed
    if (await this.deps.isConnected(userId).catch(() => false)) return 0;
    return this.deps.delivery.enqueueFor(userId, pushPayloadOf(notification));
  }

  private async enabled(who: { userId: string; role?: string }): Promise<VapidKeys | undefined> {
    const keys = await this.deps.vapid();
    if (!keys) return undefined;
    const on = await this.deps.flags
      .isEnabled(WEB_PUSH_FLAG, { targetingKey: who.userId, ...(who.role ? { role: who.role } : {}) })
      .catch(() => false);
    return on ? keys : undefined;
  }

  private async keysFor(who: { userId: string; role?: string }): Promise<VapidKeys> {
    const keys = await this.enabled(who);
    if (!keys) throw new AppError('PUSH_UNAVAILABLE');
    return keys;
  }
}
