import { AppError } from '../../platform/errors.ts';
import { cursorPart, decodeCursor, encodeCursor, page } from '../../platform/http/cursor.ts';
import type { MutesRepository } from './mutes.repository.ts';

/** How the mutes module finds the user to mute (the users module answers). */
export interface MuteUserDirectory {
  findActiveByUsername(
    username: string,
  ): Promise<{ id: string; username: string; displayName: string } | undefined>;
}

export interface MuteLimits {
  /** Users one account may have muted at once. */
  users: number;
  /** Hashtags one account may have muted at once. */
  hashtags: number;
}

export const DEFAULT_MUTE_LIMITS: MuteLimits = { users: 1000, hashtags: 200 };

const TAG = /^[\p{L}\p{M}\p{N}_]{1,100}$/u;

/**
 * A hashtag as posts index it (NFKC, lower case, not digits only, at most 100 code points), or
 * undefined when it could never be a tag.
 */
export function normalizeTag(raw: string): string | undefined {
  const tag = raw.replace(/^#/, '').normalize('NFKC').toLowerCase();
  if (!TAG.test(tag) || /^\d+$/.test(tag) || [...tag].length > 100) return undefined;
  return tag;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/**
 * Mutes: the muter stops seeing a user's posts and notifications, a hashtag's posts in the home
 * feed, or a conversation's unread count — without the other side knowing (a mute changes nothing
 * the muted user can observe; a block does). The rules themselves live where the data is read: the
 * feed page (`feed_page`, migration 0040), notifications and chat unread counts read the mutes
 * tables through `kith_muted_by()` and joins, so pages stay full.
 */
export class MutesService {
  constructor(
    private readonly repo: MutesRepository,
    private readonly users: MuteUserDirectory,
    /** Drops the muter's cached first feed page (a mute changes what it holds). */
    private readonly invalidateFeed: (userId: string) => Promise<void>,
    private readonly limits: MuteLimits = DEFAULT_MUTE_LIMITS,
  ) {}

  async muteUser(userId: string, username: string, durationSeconds?: number) {
    const other = await this.users.findActiveByUsername(username);
    if (!other) throw new AppError('NOT_FOUND', 'No such user.');
    if (other.id === userId) throw new AppError('SELF_MUTE');
    if (
      !(await this.repo.isUserMuted(userId, other.id)) &&
      (await this.repo.countActive('user_mutes', userId)) >= this.limits.users
    )
      throw new AppError('MUTE_LIMIT');
    const row = await this.repo.upsertUser(userId, other.id, durationSeconds);
    await this.invalidateFeed(userId);
    return {
      user: { id: other.id, username: other.username, displayName: other.displayName },
      mutedAt: row.created_at.toISOString(),
      expiresAt: iso(row.expires_at),
    };
  }

  async unmuteUser(userId: string, username: string): Promise<void> {
    const other = await this.users.findActiveByUsername(username);
    if (!other) throw new AppError('NOT_FOUND', 'No such user.');
    await this.repo.deleteUser(userId, other.id);
    await this.invalidateFeed(userId);
  }

  isUserMuted(userId: string, mutedId: string): Promise<boolean> {
    return this.repo.isUserMuted(userId, mutedId);
  }

  /** Of `userIds`, those who have not muted `authorId` (in the order given). */
  async notMuting(authorId: string, userIds: readonly string[]): Promise<string[]> {
    const muting = new Set(await this.repo.mutersOf(authorId, userIds));
    return userIds.filter((id) => !muting.has(id));
  }

  async listUsers(userId: string, cursor: string | undefined, limit: number) {
    const key = cursor ? decodeCursor('mutes', cursor, [cursorPart.micros, cursorPart.uuid]) : undefined;
    const rows = await this.repo.listUsers(userId, key && { atUs: key[0], id: key[1] }, limit);
    const result = page(rows, limit, (r) => encodeCursor('mutes', [r.at_us, r.id]));
    return {
      items: result.items.map((r) => ({
        user: { id: r.id, username: r.username, displayName: r.display_name },
        mutedAt: r.created_at.toISOString(),
        expiresAt: iso(r.expires_at),
      })),
      nextCursor: result.nextCursor,
    };
  }

  async muteHashtag(userId: string, raw: string, durationSeconds?: number) {
    const tag = normalizeTag(raw);
    if (!tag) throw new AppError('INVALID_PARAMETER', 'This is not a hashtag.');
    const existing = (await this.repo.listHashtags(userId)).some((m) => m.tag === tag);
    if (!existing && (await this.repo.countActive('hashtag_mutes', userId)) >= this.limits.hashtags)
      throw new AppError('MUTE_LIMIT');
    const row = await this.repo.upsertHashtag(userId, tag, durationSeconds);
    await this.invalidateFeed(userId);
    return { tag, mutedAt: row.created_at.toISOString(), expiresAt: iso(row.expires_at) };
  }

  async unmuteHashtag(userId: string, raw: string): Promise<void> {
    const tag = normalizeTag(raw);
    if (!tag) throw new AppError('INVALID_PARAMETER', 'This is not a hashtag.');
    await this.repo.deleteHashtag(userId, tag);
    await this.invalidateFeed(userId);
  }

  async listHashtags(userId: string) {
    const rows = await this.repo.listHashtags(userId);
    return {
      items: rows.map((r) => ({
        tag: r.tag,
        mutedAt: r.created_at.toISOString(),
        expiresAt: iso(r.expires_at),
      })),
    };
  }

  async muteConversation(userId: string, conversationId: string, durationSeconds?: number) {
    const row = await this.repo.upsertConversation(userId, conversationId, durationSeconds);
    if (!row) throw new AppError('NOT_FOUND', 'No such conversation.');
    return { conversationId, mutedAt: row.created_at.toISOString(), expiresAt: iso(row.expires_at) };
  }

  unmuteConversation(userId: string, conversationId: string): Promise<void> {
    return this.repo.deleteConversation(userId, conversationId);
  }

  async listConversations(userId: string) {
    const rows = await this.repo.listConversations(userId);
    return {
      items: rows.map((r) => ({
        conversationId: r.conversation_id,
        mutedAt: r.created_at.toISOString(),
        expiresAt: iso(r.expires_at),
      })),
    };
  }

  /** Job: ended mutes are removed (readers already ignore them). */
  deleteExpired(): Promise<number> {
    return this.repo.deleteExpired();
  }
}
