import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform/platform.ts';
import { createPasswordHasher } from '../platform/security/passwords.ts';
import { accountRoutes } from './account/account.routes.ts';
import { AccountService } from './account/account.service.ts';
import { buildAccountServices, exportLinks } from './account/account.wiring.ts';
import { adminRoutes } from './admin/admin.routes.ts';
import { AdminService } from './admin/admin.service.ts';
import { AuditService } from './audit/audit.service.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { AuthService } from './auth/auth.service.ts';
import { authKit } from './auth/auth-kit.ts';
import { SessionsService } from './auth/sessions.service.ts';
import { chatRoutes } from './chat/chat.routes.ts';
import { buildChatServices } from './chat/chat.wiring.ts';
import { conversationsRoutes } from './chat/conversations.routes.ts';
import { collectionsRoutes } from './collections/collections.routes.ts';
import { feedRoutes } from './feed/feed.routes.ts';
import { friendsRoutes } from './friends/friends.routes.ts';
import { FriendRequest } from './friends/friends.schema.ts';
import { mediaRoutes } from './media/media.routes.ts';
import { notificationsRoutes } from './notifications/notifications.routes.ts';
import { Notification } from './notifications/notifications.schema.ts';
import { Comment } from './posts/comments.schema.ts';
import { postsRoutes } from './posts/posts.routes.ts';
import { Post, UserSummary } from './posts/posts.schema.ts';
import { ProfilesRepository } from './profiles/profiles.repository.ts';
import { profilesRoutes } from './profiles/profiles.routes.ts';
import { ProfilesService } from './profiles/profiles.service.ts';
import { buildSocialServices, FEED_PAGE_SIZE } from './social.ts';
import { usersRoutes } from './users/users.routes.ts';
import { UsersService } from './users/users.service.ts';

/**
 * Builds each module's service from the platform (each takes exactly what it uses) and registers
 * its routes under /api/v1.
 */
export async function registerModules(api: FastifyInstance, platform: Platform): Promise<void> {
  const { config } = platform;
  // Shared response schemas, referenced by $id from several modules' routes
  for (const schema of [UserSummary, Post, Comment, FriendRequest, Notification]) api.addSchema(schema);
  const db = platform.db.primary;
  const kit = await authKit(platform);

  const audit = new AuditService(db);
  const users = new UsersService(db);
  const sessions = new SessionsService({
    db,
    tokens: kit.tokens,
    cache: kit.sessions,
    audit,
    refreshTtlDays: config.jwt.refreshTtlDays,
  });
  const passwords = createPasswordHasher(config.argon2);
  const auth = new AuthService({
    db,
    users,
    sessions,
    audit,
    passwords,
    tokens: kit.tokens,
    refreshSecret: kit.keys.refreshSecret,
    refreshTtlDays: config.jwt.refreshTtlDays,
    feedInactiveDays: config.social.feedInactiveDays,
  });
  const admin = new AdminService({ db, users, sessions, audit });

  await api.register(authRoutes, {
    prefix: '/auth',
    auth,
    sessions,
    cookieSecure: config.cookieSecure,
    refreshTtlDays: config.jwt.refreshTtlDays,
    limits: config.rateLimit,
  });
  await api.register(usersRoutes, { users });
  await api.register(adminRoutes, { prefix: '/admin', admin, audit });

  const social = buildSocialServices(platform, users, audit);
  await api.register(friendsRoutes, { friends: social.friends });
  await api.register(postsRoutes, { posts: social.posts, comments: social.comments });
  await api.register(mediaRoutes, {
    media: social.media.media,
    files: social.media.files,
    maxBytes: config.media.maxBytes,
    uploadsPerHour: config.media.uploadsPerHour,
  });
  await api.register(feedRoutes, { feed: social.feed, pageSize: FEED_PAGE_SIZE });
  await api.register(notificationsRoutes, { notifications: social.notifications });
  await api.register(profilesRoutes, {
    profiles: new ProfilesService(new ProfilesRepository(db), social.friends),
  });
  const accountJobs = buildAccountServices(platform, audit);
  const account = new AccountService({
    db,
    repo: accountJobs.repo,
    users,
    passwords,
    sessions,
    audit,
    feeds: social.feed,
    friends: social.friends,
    retentionDays: config.social.accountRetentionDays,
  });
  await api.register(accountRoutes, {
    account,
    exports: accountJobs.exports,
    links: exportLinks(kit.keys.privateKey),
  });
  await api.register(collectionsRoutes, {
    collections: social.collections,
    maxItems: config.social.collectionMaxItems,
  });
  const chat = buildChatServices(platform, social.friends, users, social.media.media);
  await api.register(conversationsRoutes, { conversations: chat.conversations });
  await api.register(chatRoutes, { chat: chat.chat });
}
