/**
 * Gets a message with the JSON it travelled as. Both are shared by every subscriber of every
 * channel it was published to (parsed once per instance): the message is frozen, read it only.
 */
export type BrokerHandler = (message: unknown, json: string) => void;

/**
 * Publish/subscribe between instances. Delivery is best effort: whatever must not be lost is in
 * Postgres, and subscribers catch up from there.
 */
export interface Broker {
  /** Publishes one message to one channel or to each of several (serialized once, one command). */
  publish(channels: string | readonly string[], message: unknown): Promise<void>;
  /** Returns a function that removes this subscription. */
  subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>>;
  /** false while a remote broker is unreachable (messages may be missed). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

/** Freezes a parsed JSON value all the way down (its subscribers share it). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** One message as its subscribers get it. */
export interface Delivery {
  message: unknown;
  json: string;
}

/**
 * Messages travel between instances as their JSON, several in one payload separated by newlines
 * (JSON.stringify never writes a raw newline).
 */
export const SEPARATOR = '\n';

/**
 * Parses what a broker receives, once per distinct payload: a payload published to many channels
 * arrives once per channel, back to back, and all of them share the first parse.
 */
export class SharedParse {
  private lastPayload: string | undefined;
  private lastDeliveries: readonly Delivery[] = [];

  parse(payload: string): readonly Delivery[] {
    if (payload !== this.lastPayload) {
      this.lastDeliveries = payload
        .split(SEPARATOR)
        .map((json) => ({ message: deepFreeze(JSON.parse(json)), json }));
      this.lastPayload = payload;
    }
    return this.lastDeliveries;
  }
}
