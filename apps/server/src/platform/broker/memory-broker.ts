import type { Broker, BrokerHandler } from './broker.ts';

/** In-process broker: the embedded shape has a single instance, so local delivery is complete. */
export class MemoryBroker implements Broker {
  readonly healthy = true;
  private readonly channels = new Map<string, Set<BrokerHandler>>();

  async publish(channel: string, message: unknown): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    // Round-trip through JSON so subscribers never share objects with the publisher, as with Redis.
    const copy = JSON.stringify(message);
    for (const handler of handlers) queueMicrotask(() => handler(JSON.parse(copy)));
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
