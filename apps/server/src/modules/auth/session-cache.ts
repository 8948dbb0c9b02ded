import type { Broker } from '../../platform/broker/broker.ts';
import type { UserRole } from '../../platform/db/schema.ts';
import type { Logger } from '../../platform/observability/logger.ts';

export interface SessionState {
  userId: string;
  role: UserRole;
  revoked: boolean;
  banned: boolean;
  emailVerified: boolean;
  /** ms since the epoch */
  expiresAt: number;
}

export const SESSION_REVOKED_CHANNEL = 'auth.session-revoked';
export const USER_CHANGED_CHANNEL = 'auth.user-changed';

export interface SessionCacheOptions {
  load(sessionId: string): Promise<SessionState | undefined>;
  broker: Broker;
  logger: Pick<Logger, 'warn'>;
  now?: () => number;
  /** How long an entry is trusted while the broker delivers invalidations. */
  ttlMs?: number;
  /** How long a live (not revoked) entry is trusted while the broker is unhealthy. */
  degradedTtlMs?: number;
  maxEntries?: number;
}

/**
 * Session state per instance, so that an authenticated request costs no query. Entries are dropped
 * on every instance by broker messages (logout, revocation, ban, role change); Postgres stays the
 * truth: entries expire after `ttlMs`, and after `degradedTtlMs` while the broker may be missing
 * messages, so a revocation is seen within about a second even then.
 */
export class SessionCache {
  private readonly entries = new Map<string, { state: SessionState | undefined; at: number }>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly degradedTtlMs: number;
  private readonly maxEntries: number;
  /** Bumped by every invalidation: a load that started before one must not be cached. */
  private epoch = 0;
  private wasHealthy = true;

  constructor(private readonly options: SessionCacheOptions) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? 30_000;
    this.degradedTtlMs = options.degradedTtlMs ?? 1_000;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** Subscribes to invalidations; returns the function that unsubscribes. */
  async start(): Promise<() => Promise<void>> {
    const { broker } = this.options;
    const offSession = await broker.subscribe(SESSION_REVOKED_CHANNEL, (message) => {
      const { sessionId } = (message ?? {}) as { sessionId?: unknown };
      if (typeof sessionId === 'string') this.dropSession(sessionId);
    });
    const offUser = await broker.subscribe(USER_CHANGED_CHANNEL, (message) => {
      const { userId } = (message ?? {}) as { userId?: unknown };
      if (typeof userId === 'string') this.dropUser(userId);
    });
    return async () => {
      await offSession();
      await offUser();
    };
  }

  async get(sessionId: string): Promise<SessionState | undefined> {
    const healthy = this.options.broker.healthy;
    if (!healthy && this.wasHealthy) this.entries.clear(); // messages may be lost from now on
    this.wasHealthy = healthy;
    const entry = this.entries.get(sessionId);
    if (entry) {
      const revokedForGood = entry.state?.revoked === true;
      const ttl = healthy || revokedForGood ? this.ttlMs : this.degradedTtlMs;
      if (this.now() - entry.at < ttl) return entry.state;
      this.entries.delete(sessionId);
    }
    const epoch = this.epoch;
    const state = await this.options.load(sessionId);
    if (epoch === this.epoch) {
      this.entries.set(sessionId, { state, at: this.now() });
      if (this.entries.size > this.maxEntries)
        this.entries.delete(this.entries.keys().next().value as string);
    }
    return state;
  }

  /** A session was revoked: forget it here and on every other instance. */
  async sessionRevoked(sessionId: string): Promise<void> {
    this.dropSession(sessionId);
    await this.publish(SESSION_REVOKED_CHANNEL, { sessionId });
  }

  /** A user's sessions, role or ban changed: forget all their sessions everywhere. */
  async userChanged(userId: string): Promise<void> {
    this.dropUser(userId);
    await this.publish(USER_CHANGED_CHANNEL, { userId });
  }

  private async publish(channel: string, message: unknown) {
    try {
      await this.options.broker.publish(channel, message);
    } catch (err) {
      // other instances fall back to their short TTL; Postgres already holds the change
      this.options.logger.warn({ err, channel }, 'could not publish a session invalidation');
    }
  }

  private dropSession(sessionId: string) {
    this.epoch += 1;
    this.entries.delete(sessionId);
  }

  private dropUser(userId: string) {
    this.epoch += 1;
    for (const [id, entry] of this.entries) if (entry.state?.userId === userId) this.entries.delete(id);
  }
}
