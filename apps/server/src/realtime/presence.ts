import type { PresenceStatus } from '@kith/contract';
import { userChannel } from '../modules/notifications/notifications.service.ts';
import type { Broker } from '../platform/broker/broker.ts';
import type { Cache } from '../platform/cache/cache.ts';
import type { Logger } from '../platform/observability/logger.ts';
import type { FriendsPort } from './ports.ts';

const key = (userId: string) => `presence:${userId}`;

/**
 * Presence of friends: an entry per connected user in the cache (Redis when scaled) with a TTL,
 * refreshed by each instance holding the user's sockets, and `presence` events published to each
 * friend's channel on changes. Only friends see it, so a block (which ends the friendship) hides it.
 * Across instances the last writer wins: a user online on two instances who closes the last socket
 * of one is briefly shown offline until the other's next refresh shows them online again.
 */
export class Presence {
  constructor(
    private readonly cache: Cache,
    private readonly broker: Broker,
    private readonly friends: FriendsPort,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  /** Records `status` and tells the friends when it is news (`announce`). */
  async set(userId: string, status: Exclude<PresenceStatus, 'offline'>, announce: boolean): Promise<void> {
    await this.cache.set(key(userId), status, this.ttlSeconds);
    if (announce) await this.announce(userId, status);
  }

  async offline(userId: string): Promise<void> {
    await this.cache.delete(key(userId));
    await this.announce(userId, 'offline');
  }

  /** Whether `userId` has a live socket on some instance now (online or away). */
  async isConnected(userId: string): Promise<boolean> {
    return (await this.cache.get<PresenceStatus>(key(userId))) !== undefined;
  }

  /** The friends of `userId` that are online or away now. */
  async friendsOnline(userId: string): Promise<{ userId: string; status: PresenceStatus }[]> {
    const ids = await this.friends.friendIds(userId);
    const statuses = await Promise.all(ids.map((id) => this.cache.get<PresenceStatus>(key(id))));
    return ids.flatMap((id, i) => {
      const status = statuses[i];
      return status === 'online' || status === 'away' ? [{ userId: id, status }] : [];
    });
  }

  private async announce(userId: string, status: PresenceStatus) {
    const ids = await this.friends.friendIds(userId);
    const event = { type: 'presence', userId, status };
    await this.broker
      .publish(ids.map(userChannel), event)
      .catch((err) => this.logger.debug({ err }, 'presence publish failed'));
  }
}
