import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { ChatService } from '../chat/chat.service.ts';
import type { FriendsService } from '../friends/friends.service.ts';
import type { PostsService } from '../posts/posts.service.ts';
import type { UsersService } from '../users/users.service.ts';
import { reportMetrics } from './reports.metrics.ts';
import { ReportsRepository } from './reports.repository.ts';
import { ReportsService } from './reports.service.ts';
import { SuspensionExpiry } from './suspension-expiry.ts';
import { WriteGuard } from './write-guard.ts';

/**
 * The reports services that need no staff services (part of `buildDomainServices`): filing
 * reports, the write guard, the suspension expiry job and the metrics. The moderation service is
 * built in `buildServices` (it bans through AdminService).
 */
export function buildReportServices(
  platform: Platform,
  deps: {
    users: UsersService;
    audit: AuditService;
    posts: PostsService;
    friends: FriendsService;
    chat: Pick<ChatService, 'canSeeMessage'>;
  },
) {
  const db = platform.db.primary;
  const repo = new ReportsRepository(db);
  const metrics = reportMetrics(platform.metrics.registry, () => repo.queueState());
  const reports = new ReportsService(
    db,
    repo,
    {
      requirePostVisible: (viewerId, postId) => deps.posts.requireVisible(viewerId, postId),
      isBlockedEitherWay: (a, b) => deps.friends.isBlockedEitherWay(a, b),
      canSeeMessage: (viewerId, messageId) => deps.chat.canSeeMessage(viewerId, messageId),
    },
    metrics,
  );
  return {
    repo,
    metrics,
    reports,
    guard: new WriteGuard(deps.users),
    expiry: new SuspensionExpiry(db, deps.users, deps.audit),
  };
}

export type ReportServices = ReturnType<typeof buildReportServices>;
