import { type Broker, type BrokerHandler, type Delivery, deepFreeze, startPublishSpan } from './broker.ts';

/** In-process broker: the embedded shape has a single instance, so local delivery is complete. */
export class MemoryBroker implements Broker {
  readonly healthy = true;
  private readonly channels = new Map<string, Set<BrokerHandler>>();

  async publish(channels: string | readonly string[], message: unknown): Promise<void> {
    // Through JSON, as with Redis: subscribers never share objects with the publisher.
    const json = JSON.stringify(message);
    const list = typeof channels === 'string' ? [channels] : channels;
    const traced = startPublishSpan('kith-memory', list, message);
    let delivery: Delivery | undefined;
    let batch: readonly Delivery[] = [];
    for (const channel of list) {
      const handlers = this.channels.get(channel);
      if (!handlers) continue;
      if (!delivery) {
        const parsed = deepFreeze(JSON.parse(json));
        delivery = traced ? { message: parsed, json, trace: traced.carrier } : { message: parsed, json };
        batch = [delivery];
      }
      const got = delivery;
      for (const handler of handlers) queueMicrotask(() => handler(got.message, json, got, batch));
    }
    traced?.span.end();
  }

  async subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>> {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
    }
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.channels.clear();
  }
}
