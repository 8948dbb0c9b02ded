import type { Broker } from '../../platform/broker/broker.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { FlagDefinition } from './evaluate.ts';
import { type FlagsRepository, toDefinition } from './flags.repository.ts';

export const FLAGS_CHANNEL = 'flags.changed';

/**
 * Every flag, in memory, evaluated without a round trip. Reloaded from Postgres (the truth) when
 * any instance publishes a change, every second while the broker is unhealthy (a missed message
 * must not leave an instance on the old value), and every 30 s regardless.
 */
export class FlagStore {
  private flags = new Map<string, FlagDefinition>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly repo: FlagsRepository,
    private readonly broker: Broker,
    private readonly logger: Logger,
    private readonly options: { fullRefreshMs: number; degradedRefreshMs: number } = {
      fullRefreshMs: 30_000,
      degradedRefreshMs: 1_000,
    },
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.broker.subscribe(FLAGS_CHANNEL, () => void this.reload());
    await this.reload();
    this.timer = setInterval(() => {
      const age = Date.now() - this.loadedAt;
      if (
        age >= this.options.fullRefreshMs ||
        (!this.broker.healthy && age >= this.options.degradedRefreshMs)
      ) {
        void this.reload();
      }
    }, this.options.degradedRefreshMs);
    this.timer.unref();
  }

  get(key: string): FlagDefinition | undefined {
    return this.flags.get(key);
  }

  all(): FlagDefinition[] {
    return [...this.flags.values()];
  }

  /** Called after each reload that changed something. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads from Postgres; a reload asked for while one runs runs once more after it. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          const rows = await this.repo.all();
          const next = new Map(rows.map((r) => [r.key, toDefinition(r)]));
          const changed = JSON.stringify([...next]) !== JSON.stringify([...this.flags]);
          this.flags = next;
          this.loadedAt = Date.now();
          if (changed) for (const listener of this.listeners) listener();
        } catch (err) {
          // keep serving the last known flags; the timer tries again
          this.logger.warn({ err }, 'feature flags could not be reloaded');
        }
      } while (this.again);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unsubscribe?.().catch(() => {});
    await this.loading;
  }
}
