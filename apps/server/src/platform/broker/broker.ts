export type BrokerHandler = (message: unknown) => void;

/**
 * Publish/subscribe between instances. Delivery is best effort: whatever must not be lost is in
 * Postgres, and subscribers catch up from there.
 */
export interface Broker {
  publish(channel: string, message: unknown): Promise<void>;
  /** Returns a function that removes this subscription. */
  subscribe(channel: string, handler: BrokerHandler): Promise<() => Promise<void>>;
  /** false while a remote broker is unreachable (messages may be missed). */
  readonly healthy: boolean;
  close(): Promise<void>;
}
