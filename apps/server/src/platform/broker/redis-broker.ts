import { context } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import type { RedisFailures } from '../redis/redis-failures.ts';
import {
  type Broker,
  type BrokerHandler,
  type Delivery,
  type PublishTrace,
  SEPARATOR,
  SharedParse,
  startPublishSpan,
  traceLine,
} from './broker.ts';

const PREFIX = 'kith:bus:';
const RETRY_SUBSCRIBE_MS = 1_000;

/** PUBLISH of one message (ARGV[1]) to each channel named after it: the payload crosses the wire once. */
const PUBLISH_MANY = `for i = 2, #ARGV do redis.call('PUBLISH', ARGV[i], ARGV[1]) end
return #ARGV - 1`;
type PublishMany = { kithPublishMany(json: string, ...channels: string[]): Promise<number> };

/** Messages published one after another to the same channels in one turn, not sent yet. */
interface Outgoing {
  key: string;
  channels: readonly string[];
  jsons: string[];
  sent: Promise<void>;
  resolve: () => void;
  /** The publish spans of its traced messages (the first one's context sends it). */
  traces?: PublishTrace[];
}

/**
 * Pub/sub across instances over one Redis subscriber connection, with handlers per channel.
 * While Redis fails, publishing delivers to this instance's own subscribers and `healthy` is false
 * so consumers know messages from other instances may be missed (and catch up from Postgres).
 * After a reconnect every channel is subscribed again and `healthy` turns true by itself.
 */
export class RedisBroker implements Broker {
  private readonly channels = new Map<string, Set<BrokerHandler>>();
  /** Every channel in `channels` is subscribed on the current subscriber connection. */
  private synced = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly parser = new SharedParse();
  private outgoing: Outgoing | undefined;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly failures: RedisFailures,
    private readonly logger: Logger,
    /** Called whenever `healthy` may have changed. */
    private readonly onChange: () => void,
  ) {
    // EVALSHA, and EVAL again by itself when a restarted Redis has forgotten the script
    publisher.defineCommand('kithPublishMany', { numberOfKeys: 0, lua: PUBLISH_MANY });
    subscriber.on('message', (channel: string, message: string) => {
      if (channel.startsWith(PREFIX)) this.deliver(channel.slice(PREFIX.length), message);
    });
    subscriber.on('ready', () => void this.resubscribe());
    subscriber.on('close', () => this.setSynced(false));
    if (subscriber.status === 'ready') void this.resubscribe();
  }

  get healthy(): boolean {
    return this.publisher.status === 'ready' && this.receiving;
  }

  private get receiving(): boolean {
    return this.subscriber.status === 'ready' && this.synced;
  }

  /**
   * Publishes one message to each of `channels`. Messages published one after another to the same
   * channels within one turn of the event loop (a batch of chat sends to a group's members) travel
   * as one Redis message: fewer commands, and subscribers get them together. Order is kept: a
   * publish to other channels sends what was gathered first.
   */
  publish(channels: string | readonly string[], message: unknown): Promise<void> {
    const list = typeof channels === 'string' ? [channels] : channels;
    if (list.length === 0) return Promise.resolve();
    const json = JSON.stringify(message);
    const key = list.join(' ');
    let batch = this.outgoing;
    if (batch?.key !== key) {
      this.flushOutgoing();
      let resolve!: () => void;
      const sent = new Promise<void>((r) => {
        resolve = r;
      });
      const started: Outgoing = { key, channels: list, jsons: [], sent, resolve };
      batch = started;
      this.outgoing = started;
      queueMicrotask(() => {
        if (this.outgoing === started) this.flushOutgoing();
      });
    }
    const traced = startPublishSpan('redis', list, message);
    if (traced) {
      batch.jsons.push(traceLine(traced.carrier));
      if (batch.traces) batch.traces.push(traced);
      else batch.traces = [traced];
    }
    batch.jsons.push(json);
    return batch.sent;
  }

  private flushOutgoing() {
    const batch = this.outgoing;
    if (!batch) return;
    this.outgoing = undefined;
    const payload = batch.jsons.join(SEPARATOR);
    const { traces } = batch;
    if (!traces) {
      void this.send(batch.channels, payload).then(batch.resolve);
      return;
    }
    // the PUBLISH command's span goes under the first publish span of the payload
    void context
      .with(traces[0]!.context, () => this.send(batch.channels, payload))
      .then(() => {
        for (const { span } of traces) {
          span.setAttribute('messaging.batch.message_count', batch.jsons.length - traces.length);
          span.end();
        }
        batch.resolve();
      });
  }

  private async send(channels: readonly string[], payload: string): Promise<void> {
    try {
      if (channels.length === 1) await this.publisher.publish(PREFIX + channels[0], payload);
      else {
        const publisher = this.publisher as unknown as PublishMany;
        await publisher.kithPublishMany(payload, ...channels.map((c) => PREFIX + c));
      }
    } catch (err) {
      this.failures.record('broker', err);
      for (const channel of channels) this.deliver(channel, payload);
      return;
    }
    // Published, but our own subscription is down: Redis cannot hand it back to local subscribers.
    if (!this.receiving) for (const channel of channels) this.deliver(channel, payload);
  }

  async subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>> {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      try {
        await this.subscriber.subscribe(PREFIX + channel);
      } catch (err) {
        // Subscribed again by resubscribe() once the connection is back.
        this.failures.record('broker', err);
        this.setSynced(false);
        this.scheduleRetry();
      }
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.channels.get(channel) !== handlers) return;
      this.channels.delete(channel);
      await this.subscriber.unsubscribe(PREFIX + channel).catch(() => {
        // a stale subscription only costs ignored messages; the next reconnect drops it
      });
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.channels.clear();
  }

  private async resubscribe(): Promise<void> {
    clearTimeout(this.retryTimer);
    const channels = [...this.channels.keys()].map((c) => PREFIX + c);
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
      this.setSynced(true);
    } catch (err) {
      this.failures.record('broker', err);
      this.setSynced(false);
      this.scheduleRetry();
    }
  }

  /** A subscribe that failed on a live connection (timeout) is retried; a dead one retries on `ready`. */
  private scheduleRetry() {
    if (this.closed || this.subscriber.status !== 'ready') return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.resubscribe(), RETRY_SUBSCRIBE_MS).unref();
  }

  private setSynced(synced: boolean) {
    if (this.synced === synced) return;
    this.synced = synced;
    this.onChange();
  }

  private deliver(channel: string, payload: string) {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    let deliveries: readonly Delivery[];
    try {
      deliveries = this.parser.parse(payload);
    } catch (err) {
      this.logger.error({ err, channel, component: 'broker' }, 'broker payload is not JSON');
      return;
    }
    for (const handler of handlers) {
      queueMicrotask(() => {
        for (const delivery of deliveries) {
          try {
            handler(delivery.message, delivery.json, delivery, deliveries);
          } catch (err) {
            this.logger.error({ err, channel, component: 'broker' }, 'broker handler failed');
          }
        }
      });
    }
  }
}
