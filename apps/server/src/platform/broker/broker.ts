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

/**
 * Parses what a broker receives, once per distinct message: a message published to many channels
 * arrives once per channel, back to back, and all of them share the first parse.
 */
export class SharedParse {
  private lastJson: string | undefined;
  private lastMessage: unknown;

  parse(json: string): unknown {
    if (json !== this.lastJson) {
      this.lastMessage = deepFreeze(JSON.parse(json));
      this.lastJson = json;
    }
    return this.lastMessage;
  }
}
