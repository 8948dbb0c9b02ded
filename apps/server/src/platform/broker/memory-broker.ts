import { type Broker, type BrokerHandler, deepFreeze } from './broker.ts';

/** In-process broker: the embedded shape has a single instance, so local delivery is complete. */
export class MemoryBroker implements Broker {
  readonly healthy = true;
  private readonly channels = new Map<string, Set<BrokerHandler>>();

  async publish(channels: string | readonly string[], message: unknown): Promise<void> {
    // Through JSON, as with Redis: subscribers never share objects with the publisher.
    const json = JSON.stringify(message);
    let parsed: unknown;
    for (const channel of typeof channels === 'string' ? [channels] : channels) {
      const handlers = this.channels.get(channel);
      if (!handlers) continue;
      parsed ??= deepFreeze(JSON.parse(json));
      for (const handler of handlers) queueMicrotask(() => handler(parsed, json));
    }
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
