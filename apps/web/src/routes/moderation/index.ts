import { createRoute, notFound } from '@tanstack/react-router';
import { type RouterContext, requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

/** Moderators and admins only: for anyone else the screens do not exist (as the API answers 403). */
async function requireStaff(args: { context: RouterContext; location: { href: string } }): Promise<void> {
  await requireSignedIn(args);
  const state = await args.context.session.ready();
  if (state.status !== 'signedIn' || state.user.role === 'user') throw notFound();
}

const STATUSES = ['open', 'resolved'] as const;
const TARGETS = ['post', 'comment', 'message', 'user'] as const;
export type QueueStatus = (typeof STATUSES)[number];
export type QueueTarget = (typeof TARGETS)[number];
export interface QueueSearch {
  status?: QueueStatus | undefined;
  reason?: string | undefined;
  targetType?: QueueTarget | undefined;
}

const oneOf = <T extends string>(values: readonly T[], value: unknown): T | undefined =>
  values.includes(value as T) ? (value as T) : undefined;

/** The moderation queue: open (or resolved) cases, oldest first, filtered by status, reason and target. */
export const moderationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/moderation',
  validateSearch: (search: Record<string, unknown>): QueueSearch => ({
    status: oneOf(STATUSES, search.status),
    reason:
      typeof search.reason === 'string' && /^[a-z_]{1,32}$/.test(search.reason) ? search.reason : undefined,
    targetType: oneOf(TARGETS, search.targetType),
  }),
  beforeLoad: requireStaff,
}).lazy(() => import('./queue.lazy.tsx').then((m) => m.Route));

/** One case: the snapshot, the reports, the current state, and the decision form. */
export const moderationCaseRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/moderation/cases/$caseId',
  beforeLoad: requireStaff,
}).lazy(() => import('./case.lazy.tsx').then((m) => m.Route));

/** A decision about me (the link in the notice mail and notification): what, why, and the appeal. */
export const moderationNoticeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/moderation/notices/$caseId',
  // a ban notice's link carries a signed token: a banned account cannot sign in
  validateSearch: (search: Record<string, unknown>): { token?: string | undefined } => ({
    token:
      typeof search.token === 'string' && /^[0-9]+\.[A-Za-z0-9_-]{1,90}$/.test(search.token)
        ? search.token
        : undefined,
  }),
  beforeLoad: async (args) => {
    if (!args.search.token) await requireSignedIn(args);
  },
}).lazy(() => import('./notice.lazy.tsx').then((m) => m.Route));
