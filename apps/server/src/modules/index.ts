import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import type { Services } from '../services.ts';
import { accountRoutes } from './account/account.routes.ts';
import { adminRoutes } from './admin/admin.routes.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { emailChangeRoutes } from './auth/email-change.routes.ts';
import { chatRoutes } from './chat/chat.routes.ts';
import { conversationsRoutes } from './chat/conversations.routes.ts';
import { collectionsRoutes } from './collections/collections.routes.ts';
import { feedRoutes } from './feed/feed.routes.ts';
import { flagsRoutes } from './flags/flags.routes.ts';
import { friendsRoutes } from './friends/friends.routes.ts';
import { FriendRequest } from './friends/friends.schema.ts';
import { mediaRoutes } from './media/media.routes.ts';
import { mutesRoutes } from './mutes/mutes.routes.ts';
import { notificationsRoutes } from './notifications/notifications.routes.ts';
import { Notification } from './notifications/notifications.schema.ts';
import { Comment } from './posts/comments.schema.ts';
import { postsRoutes } from './posts/posts.routes.ts';
import { Post, UserSummary } from './posts/posts.schema.ts';
import { profilesRoutes } from './profiles/profiles.routes.ts';
import { pushRoutes } from './push/push.routes.ts';
import { moderationRoutes } from './reports/moderation.routes.ts';
import { reportsRoutes } from './reports/reports.routes.ts';
import { rumRoutes } from './rum/rum.routes.ts';
import { FEED_PAGE_SIZE } from './social.ts';
import { usersRoutes } from './users/users.routes.ts';

/** Registers every module's REST routes under /api/v1, on the process's services (`buildServices`). */
export async function registerModules(
  api: FastifyInstance,
  services: Services,
  config: Config,
): Promise<void> {
  // Shared response schemas, referenced by $id from several modules' routes
  for (const schema of [UserSummary, Post, Comment, FriendRequest, Notification]) api.addSchema(schema);
  const { social, account, chat } = services;

  await api.register(authRoutes, {
    prefix: '/auth',
    auth: services.auth,
    sessions: services.sessions,
    cookieSecure: config.cookieSecure,
    refreshTtlDays: config.jwt.refreshTtlDays,
    limits: config.rateLimit,
    recovery: { passwordReset: services.passwordReset, emailVerification: services.emailVerification },
    twoFactor: { twoFactor: services.twoFactor, passkeys: services.passkeys },
    standing: (user) => services.reports.moderation.standing(user),
  });
  await api.register(emailChangeRoutes, { prefix: '/auth', emailChange: services.emailChange });
  await api.register(usersRoutes, {
    users: services.users,
    standing: (user) => services.reports.moderation.standing(user),
  });
  await api.register(adminRoutes, { prefix: '/admin', admin: services.admin, audit: services.audit });
  await api.register(flagsRoutes, { flags: services.flags });
  // the web app's Core Web Vitals: metrics only, nothing stored
  await api.register(rumRoutes, { rum: services.rum });
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
  await api.register(profilesRoutes, { profiles: services.profiles });
  await api.register(reportsRoutes, {
    reports: services.reports.reports,
    moderation: services.reports.moderation,
    perHour: config.reports.perHour,
  });
  await api.register(moderationRoutes, { moderation: services.reports.moderation });
  await api.register(accountRoutes, {
    account: account.account,
    exports: account.exports,
    links: account.links,
  });
  await api.register(collectionsRoutes, {
    collections: social.collections,
    maxItems: config.social.collectionMaxItems,
  });
  await api.register(mutesRoutes, { mutes: services.mutes });
  await api.register(pushRoutes, { push: services.push.service });
  await api.register(conversationsRoutes, { conversations: chat.conversations });
  await api.register(chatRoutes, { chat: chat.chat });
}
