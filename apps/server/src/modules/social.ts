import type { Platform } from '../platform/platform.ts';
import { CollectionsRepository } from './collections/collections.repository.ts';
import { CollectionsService } from './collections/collections.service.ts';
import { FeedRepository } from './feed/feed.repository.ts';
import { FeedService } from './feed/feed.service.ts';
import { FriendsRepository } from './friends/friends.repository.ts';
import { FriendsService, type UserDirectory } from './friends/friends.service.ts';
import { buildMediaServices } from './media/media.wiring.ts';
import { NotificationsRepository } from './notifications/notifications.repository.ts';
import { NotificationsService } from './notifications/notifications.service.ts';
import { CommentsRepository } from './posts/comments.repository.ts';
import { CommentsService } from './posts/comments.service.ts';
import { PostsRepository } from './posts/posts.repository.ts';
import { PostsService, type StaffAudit } from './posts/posts.service.ts';

export const FEED_PAGE_SIZE = 20;

/** The social modules' services (part of the composition root, `buildServices`). */
export function buildSocialServices(platform: Platform, users: UserDirectory, audit: StaffAudit) {
  const { db, config } = platform;
  // The feed presents posts, and posts write feed entries: the one cycle, closed by these two
  // functions (called only once both services exist).
  const postFacts = {
    findMeta: (id: string) => posts.findMeta(id),
    presentMany: (ids: readonly string[], viewerId: string) => posts.presentMany(ids, viewerId),
  };
  // pages are lag-tolerant reads (a replica within the bound); every change of a reader's feed
  // keeps that reader's reads on the primary until a replica has replayed it
  const feed = new FeedService(new FeedRepository(db.primary, db.reads), platform.cache, postFacts, {
    inactiveDays: config.social.feedInactiveDays,
    cacheTtlSeconds: config.social.feedCacheTtlSeconds,
    defaultLimit: FEED_PAGE_SIZE,
    noteChanged: (userIds) => db.router.noteWrites(userIds),
  });
  const friends = new FriendsService(
    db,
    new FriendsRepository(db.primary),
    users,
    config.social.friendCap,
    (ids) => feed.invalidate(ids),
  );
  // Media ask posts who may see a post; posts attach and present media.
  const media = buildMediaServices(platform, {
    canSeePost: async (viewerId, postId) => {
      const meta = await posts.findMeta(postId);
      return meta !== undefined && (await posts.canSee(viewerId, meta));
    },
  });
  const posts: PostsService = new PostsService(
    db,
    new PostsRepository(db.primary),
    friends,
    users,
    feed,
    audit,
    media.media,
  );
  const comments = new CommentsService(db, new CommentsRepository(db.primary), posts, (userId) =>
    feed.invalidate([userId]),
  );
  const notifications = new NotificationsService(
    new NotificationsRepository(db.primary),
    friends,
    platform.broker,
    platform.logger,
  );
  const collections = new CollectionsService(
    db,
    new CollectionsRepository(db.primary),
    posts,
    friends,
    config.social.collectionMaxItems,
  );
  return { friends, feed, posts, comments, notifications, collections, media };
}

export type SocialServices = ReturnType<typeof buildSocialServices>;
