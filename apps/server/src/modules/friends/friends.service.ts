import { uuidv7 } from 'uuidv7';
import type { Database } from '../../platform/db/database.ts';
import type { Visibility } from '../../platform/db/schema-social.ts';
import { AppError } from '../../platform/errors.ts';
import { cursorPart, decodeCursor, encodeCursor, page } from '../../platform/http/cursor.ts';
import { enqueue } from '../../platform/queue/queue.ts';
import type { FriendsRepository } from './friends.repository.ts';

/** What the friends module needs to know about users (the users module's service provides it). */
export interface UserDirectory {
  /** An active (not banned, not deactivated) user by username, case-insensitively. */
  findActiveByUsername(
    username: string,
  ): Promise<{ id: string; username: string; displayName: string } | undefined>;
  /** Whether the account is neither banned nor deactivated. */
  isActive(userId: string): Promise<boolean>;
}

export type Relationship = 'self' | 'friends' | 'request_sent' | 'request_received' | 'blocked' | 'none';

export interface UserSummary {
  id: string;
  username: string;
  displayName: string;
}

const summary = (row: {
  id?: string;
  user_id?: string;
  username: string;
  display_name: string;
}): UserSummary => ({
  id: (row.user_id ?? row.id)!,
  username: row.username,
  displayName: row.display_name,
});

/** Friend requests, friendships and blocks, with the rules that keep them consistent under concurrency. */
export class FriendsService {
  constructor(
    private readonly db: Database,
    private readonly repo: FriendsRepository,
    private readonly users: UserDirectory,
    private readonly friendCap: number,
    /** Drops cached feed pages at once when a block or unfriend hides one user from another. */
    private readonly onHidden: (userIds: string[]) => Promise<void> = async () => {},
  ) {}

  /** A user the caller may interact with; blocked either way or unknown → 404 (never reveal which). */
  private async visibleUser(viewerId: string, username: string) {
    const user = await this.users.findActiveByUsername(username);
    if (!user || (user.id !== viewerId && (await this.repo.isBlockedEitherWay(viewerId, user.id)))) {
      throw new AppError('NOT_FOUND', 'No such user.');
    }
    return user;
  }

  /**
   * A user's content as `viewerId` may see it: the owner (404 when unknown, hidden or blocked either
   * way) and the visibilities open to the viewer — all for the owner, friends-only too for friends.
   */
  async audienceOf(
    viewerId: string,
    username: string,
  ): Promise<{ owner: UserSummary; visibilities: Visibility[] }> {
    const owner = await this.visibleUser(viewerId, username);
    const visibilities: Visibility[] =
      owner.id === viewerId
        ? ['public', 'friends', 'private']
        : (await this.repo.areFriends(viewerId, owner.id))
          ? ['public', 'friends']
          : ['public'];
    return { owner, visibilities };
  }

  async relationship(viewerId: string, otherId: string): Promise<Relationship> {
    if (viewerId === otherId) return 'self';
    if (await this.repo.hasBlocked(viewerId, otherId)) return 'blocked';
    if (await this.repo.areFriends(viewerId, otherId)) return 'friends';
    if (await this.repo.findRequestBetween(viewerId, otherId)) return 'request_sent';
    if (await this.repo.findRequestBetween(otherId, viewerId)) return 'request_received';
    return 'none';
  }

  areFriends(a: string, b: string): Promise<boolean> {
    return this.repo.areFriends(a, b);
  }

  isBlockedEitherWay(a: string, b: string): Promise<boolean> {
    return this.repo.isBlockedEitherWay(a, b);
  }

  /** Bulk form of isBlockedEitherWay and areFriends for a page of authors. */
  relationsWith(userId: string, others: readonly string[]) {
    return this.repo.relationsWith(
      userId,
      [...new Set(others)].filter((id) => id !== userId),
    );
  }

  friendIds(userId: string): Promise<string[]> {
    return this.repo.friendIds(userId);
  }

  /** Friends as others see them: hidden (banned, deactivated) accounts are not counted. */
  countFriends(userId: string): Promise<number> {
    return this.repo.countActiveFriends(userId);
  }

  /**
   * Sends a friend request. A request crossing one from the other side becomes a friendship at
   * once; sending the same request twice returns the pending one.
   */
  async sendRequest(fromId: string, username: string) {
    const target = await this.visibleUser(fromId, username);
    if (target.id === fromId) throw new AppError('SELF_FRIEND_REQUEST');
    return this.db.primary.transaction().execute(async (trx) => {
      await this.repo.lockPair(trx, fromId, target.id);
      if (await this.repo.isBlockedEitherWay(fromId, target.id, trx))
        throw new AppError('NOT_FOUND', 'No such user.');
      if (await this.repo.areFriends(fromId, target.id, trx)) throw new AppError('ALREADY_FRIENDS');
      const crossing = await this.repo.findRequestBetween(target.id, fromId, trx);
      if (crossing) {
        await this.befriend(trx, crossing.id, target.id, fromId);
        return { status: 'accepted' as const, request: { ...crossing, user: target } };
      }
      const existing = await this.repo.findRequestBetween(fromId, target.id, trx);
      if (existing) return { status: 'pending' as const, request: { ...existing, user: target } };
      await this.checkCap(trx, fromId, target.id);
      const request = await this.repo.insertRequest(trx, {
        id: uuidv7(),
        from_user_id: fromId,
        to_user_id: target.id,
      });
      await enqueue(trx, 'notifications.create', {
        kind: 'friend_request',
        userId: target.id,
        actorId: fromId,
        subjectId: request.id,
      });
      return { status: 'pending' as const, request: { ...request, user: target } };
    });
  }

  async accept(userId: string, requestId: string): Promise<void> {
    const request = await this.repo.findRequest(requestId);
    if (!request || request.to_user_id !== userId || !(await this.users.isActive(request.from_user_id))) {
      throw new AppError('NOT_FOUND', 'No such friend request.');
    }
    await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.lockPair(trx, request.from_user_id, userId);
      // re-read under the lock: a concurrent cancel or block may have removed it
      if (!(await this.repo.findRequest(requestId, trx)))
        throw new AppError('NOT_FOUND', 'No such friend request.');
      await this.checkCap(trx, request.from_user_id, userId);
      await this.befriend(trx, requestId, request.from_user_id, userId);
    });
  }

  /** Declines a request to me, or cancels one from me. */
  async dismiss(userId: string, requestId: string, as: 'recipient' | 'sender'): Promise<void> {
    const request = await this.repo.findRequest(requestId);
    const mine = as === 'recipient' ? request?.to_user_id : request?.from_user_id;
    if (!request || mine !== userId) throw new AppError('NOT_FOUND', 'No such friend request.');
    await this.db.primary.transaction().execute(async (trx) => {
      // under the pair's lock, so an accept racing this cancel and this cancel cannot both succeed
      await this.repo.lockPair(trx, request.from_user_id, request.to_user_id);
      if (!(await this.repo.deleteRequest(trx, requestId)))
        throw new AppError('NOT_FOUND', 'No such friend request.');
    });
  }

  async unfriend(userId: string, username: string): Promise<void> {
    const other = await this.visibleUser(userId, username);
    await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.lockPair(trx, userId, other.id);
      if (!(await this.repo.deleteFriendship(trx, userId, other.id)))
        throw new AppError('NOT_FOUND', 'Not friends.');
      await this.removeFromFeeds(trx, userId, other.id);
    });
    await this.onHidden([userId, other.id]);
  }

  /** Blocking removes the friendship and pending requests both ways; idempotent. */
  async block(userId: string, username: string): Promise<void> {
    const other = await this.users.findActiveByUsername(username);
    if (!other) throw new AppError('NOT_FOUND', 'No such user.');
    if (other.id === userId) throw new AppError('SELF_BLOCK');
    await this.db.primary.transaction().execute(async (trx) => {
      await this.repo.lockPair(trx, userId, other.id);
      await this.repo.insertBlock(trx, userId, other.id);
      await this.repo.deleteRequestsBetween(trx, userId, other.id);
      if (await this.repo.deleteFriendship(trx, userId, other.id))
        await this.removeFromFeeds(trx, userId, other.id);
    });
    await this.onHidden([userId, other.id]);
  }

  async unblock(userId: string, username: string): Promise<void> {
    const other = await this.users.findActiveByUsername(username);
    if (!other) throw new AppError('NOT_FOUND', 'No such user.');
    await this.repo.deleteBlock(userId, other.id);
  }

  async listRequests(
    userId: string,
    direction: 'incoming' | 'outgoing',
    cursor: string | undefined,
    limit: number,
  ) {
    const list = `requests:${direction}`;
    const before = cursor ? String(decodeCursor(list, cursor, ['uuid'])[0]) : undefined;
    const rows = await this.repo.listRequests(userId, direction, before, limit);
    const result = page(rows, limit, (r) => encodeCursor(list, [r.id]));
    return {
      items: result.items.map((r) => ({ id: r.id, createdAt: r.created_at, user: summary(r) })),
      nextCursor: result.nextCursor,
    };
  }

  /** The people I blocked, newest first. */
  async listBlocked(userId: string, cursor: string | undefined, limit: number) {
    const key = cursor ? decodeCursor('blocks', cursor, [cursorPart.micros, cursorPart.uuid]) : undefined;
    const rows = await this.repo.listBlocked(userId, key && { atUs: key[0], id: key[1] }, limit);
    const result = page(rows, limit, (r) => encodeCursor('blocks', [r.at_us, r.id]));
    return {
      items: result.items.map((r) => ({
        id: r.id,
        username: r.username,
        displayName: r.display_name,
        blockedAt: r.created_at.toISOString(),
      })),
      nextCursor: result.nextCursor,
    };
  }

  async listFriends(viewerId: string, username: string, cursor: string | undefined, limit: number) {
    const owner = await this.visibleUser(viewerId, username);
    const after = cursor ? String(decodeCursor('friends', cursor, ['uuid'])[0]) : undefined;
    const rows = await this.repo.listFriends(owner.id, after, limit);
    const result = page(rows, limit, (r) => encodeCursor('friends', [r.id]));
    return {
      items: result.items.map((r) => ({ ...summary(r), friendsSince: r.created_at })),
      nextCursor: result.nextCursor,
    };
  }

  private async befriend(
    trx: Parameters<FriendsRepository['lockPair']>[0],
    requestId: string,
    from: string,
    to: string,
  ) {
    await this.repo.deleteRequestsBetween(trx, from, to);
    await this.repo.insertFriendship(trx, from, to);
    await enqueue(trx, 'notifications.create', {
      kind: 'friend_accepted',
      userId: from,
      actorId: to,
      subjectId: requestId,
    });
    await enqueue(trx, 'feed.backfill', { userId: from, authorId: to });
    await enqueue(trx, 'feed.backfill', { userId: to, authorId: from });
  }

  private async removeFromFeeds(trx: Parameters<FriendsRepository['lockPair']>[0], a: string, b: string) {
    await enqueue(trx, 'feed.remove-author', { userId: a, authorId: b });
    await enqueue(trx, 'feed.remove-author', { userId: b, authorId: a });
  }

  private async checkCap(trx: Parameters<FriendsRepository['lockPair']>[0], a: string, b: string) {
    for (const id of [a, b]) {
      if ((await this.repo.countFriends(id, trx)) >= this.friendCap) throw new AppError('FRIEND_LIMIT');
    }
  }
}
