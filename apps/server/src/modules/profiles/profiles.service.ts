import type { Visibility } from '../../platform/db/schema-social.ts';
import { AppError } from '../../platform/errors.ts';
import type { FriendsService, Relationship } from '../friends/friends.service.ts';
import type { ProfilesRepository } from './profiles.repository.ts';
import { SEARCH_LIMIT } from './profiles.schema.ts';

export interface ProfileView {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  createdAt: string;
  counts: { friends: number; posts: number };
  relationship: Relationship;
}

/** What a profile needs from the friends module. */
export type ProfileFriends = Pick<FriendsService, 'relationship' | 'isBlockedEitherWay' | 'countFriends'>;

/** `%`, `_` and `\` match literally in a LIKE prefix pattern. */
export const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, '\\$&')}%`;

const VISIBLE_POSTS: Record<'self' | 'friends' | 'other', Visibility[]> = {
  self: ['public', 'friends', 'private'],
  friends: ['public', 'friends'],
  other: ['public'],
};

/** Profile pages and user search, with block, ban and deactivation rules. */
export class ProfilesService {
  constructor(
    private readonly repo: ProfilesRepository,
    private readonly friends: ProfileFriends,
  ) {}

  /** A user's public profile as `viewerId` sees it; 404 when blocked either way, banned or deleted. */
  async get(viewerId: string, username: string): Promise<ProfileView> {
    const user = await this.repo.findByUsername(username);
    if (!user || (user.id !== viewerId && (await this.friends.isBlockedEitherWay(viewerId, user.id)))) {
      throw new AppError('NOT_FOUND', 'No such user.');
    }
    const relationship = await this.friends.relationship(viewerId, user.id);
    const audience = relationship === 'self' || relationship === 'friends' ? relationship : 'other';
    const [friends, posts] = await Promise.all([
      this.friends.countFriends(user.id),
      this.repo.countPosts(user.id, VISIBLE_POSTS[audience]),
    ]);
    return {
      id: user.id,
      username: user.username,
      displayName: user.display_name,
      bio: user.bio,
      createdAt: user.created_at.toISOString(),
      counts: { friends, posts },
      relationship,
    };
  }

  /** Up to 20 users whose username or display name starts with `query`, case-insensitively. */
  async search(viewerId: string, query: string) {
    const text = query.trim();
    if (text === '') throw new AppError('VALIDATION_FAILED', 'The query is empty.');
    const rows = await this.repo.search(viewerId, likePrefix(text), SEARCH_LIMIT);
    return { items: rows.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name })) };
  }
}
