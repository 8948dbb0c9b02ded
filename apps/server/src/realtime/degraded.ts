import type { Connection } from './connection.ts';
import type { GatewayDeps } from './gateway.ts';

type Users = () => Iterable<[string, { connections: Set<Connection> }]>;

/**
 * Delivery while the broker is down: every REALTIME_DEGRADED_POLL_MS (after the previous pass has
 * finished, so passes never pile up) read the conversations of each user with a socket here and
 * catch each socket up by seq. Revocations are not broadcast meanwhile either, so sessions are
 * checked too (the session cache trusts an entry for only a second while the broker is down).
 */
export class DegradedPoller {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private active = false;

  constructor(
    private readonly deps: Pick<GatewayDeps, 'chat' | 'sessions' | 'config' | 'logger'>,
    private readonly users: Users,
  ) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    this.schedule(0);
  }

  /** One more pass (for what was published while the broker came back), then stop. */
  stopAfterOnePass(): void {
    const wasActive = this.active;
    this.active = false;
    clearTimeout(this.timer);
    if (wasActive) void this.pass();
  }

  stop(): void {
    this.active = false;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      await this.pass();
      if (this.active) this.schedule(this.deps.config.degradedPollMs);
    }, delayMs).unref();
  }

  private async pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.passOnce();
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  private async passOnce(): Promise<void> {
    for (const [userId, entry] of [...this.users()]) {
      const connections = [...entry.connections];
      if (connections.length === 0) continue;
      try {
        const positions = await this.deps.chat.conversationsOf(userId);
        await Promise.all(connections.map((conn) => conn.sync.poll(positions)));
        for (const conn of connections) {
          if (!(await this.deps.sessions.isActive(conn.sessionId, userId)))
            conn.close(1008, 'session revoked');
        }
      } catch (err) {
        this.deps.logger.warn({ err, user_id: userId }, 'degraded-mode poll failed');
      }
    }
  }
}
