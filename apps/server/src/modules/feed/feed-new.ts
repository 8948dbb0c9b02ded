import type { ServerEvent } from '@kith/contract';
import { Counter, type Registry } from 'prom-client';
import type { Broker } from '../../platform/broker/broker.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { userChannel } from '../notifications/notifications.service.ts';
import type { FanOutReader } from './feed.repository.ts';

/** The feature flag that gates `feed.new`, evaluated per reader (role rules, rollout by user id, kill switch). */
export const FEED_NEW_FLAG = 'feed-new-posts-event';

/** How the notifier asks whether a reader gets the event (FlagsService answers). */
export interface FlagCheck {
  isEnabled(key: string, who: { targetingKey?: string; role?: string }): Promise<boolean>;
}

export interface FeedNewOptions {
  broker: Broker;
  flags: FlagCheck;
  logger: Logger;
  registry: Registry;
  /** The coalescing window: at most one event per reader per window (0: one per fan-out). */
  windowMs: number;
}

function feedNewMetrics(registry: Registry) {
  const name = 'kith_feed_new_events_total';
  return (
    (registry.getSingleMetric(name) as Counter<'outcome'> | undefined) ??
    new Counter({
      name,
      help: 'Readers told of new feed entries by a feed.new event, by outcome (sent, flag_off, failed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    })
  );
}

/**
 * Tells readers that fan-out added posts to their home feed, as a realtime `feed.new` event with the
 * count, published on each reader's user channel (the broker carries it to whichever instance holds
 * their sockets). Coalesced: entries added within one window become one event per reader when the
 * window closes, so a burst of posts is one event. The flag is evaluated per reader when the event
 * is due, so a kill switch also stops what is pending.
 *
 * A hint, not a record: the entries are in Postgres and the client re-reads the feed; counts still
 * pending when the process stops are not sent. With several workers each coalesces what it fans out.
 */
export class FeedNewNotifier {
  /** reader id → posts not told yet, and the reader's role */
  private pending = new Map<string, { count: number; role: string }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly sent: Counter<'outcome'>;

  constructor(private readonly options: FeedNewOptions) {
    this.sent = feedNewMetrics(options.registry);
  }

  /** Fan-out added one post by `authorId` to the feeds of `readers`. */
  added(readers: readonly FanOutReader[], authorId: string): void {
    for (const { id, role } of readers) {
      if (id === authorId) continue; // never for one's own post
      this.pending.set(id, { count: (this.pending.get(id)?.count ?? 0) + 1, role });
    }
    if (this.pending.size === 0 || this.timer) return;
    if (this.options.windowMs === 0) {
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.windowMs);
    this.timer.unref();
  }

  /** Sends what is pending now (the window's end; tests and shutdown). */
  flush(): Promise<void> {
    const due = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.send(due));
    return this.flushing;
  }

  /** Stops the window timer and sends what is pending. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async send(due: Map<string, { count: number; role: string }>): Promise<void> {
    if (due.size === 0) return;
    const { flags, broker, logger } = this.options;
    // readers with the same count share one publish (one command, serialized once)
    const byCount = new Map<number, string[]>();
    let off = 0;
    for (const [reader, { count, role }] of due) {
      const on = await flags.isEnabled(FEED_NEW_FLAG, { targetingKey: reader, role }).catch(() => false);
      if (!on) {
        off += 1;
        continue;
      }
      const channels = byCount.get(count) ?? [];
      channels.push(userChannel(reader));
      byCount.set(count, channels);
    }
    if (off > 0) this.sent.inc({ outcome: 'flag_off' }, off);
    for (const [count, channels] of byCount) {
      const event: ServerEvent<'feed.new'> = { type: 'feed.new', count };
      try {
        await broker.publish(channels, event);
        this.sent.inc({ outcome: 'sent' }, channels.length);
      } catch (err) {
        this.sent.inc({ outcome: 'failed' }, channels.length);
        logger.warn({ err, readers: channels.length }, 'feed.new publish failed');
      }
    }
  }
}
