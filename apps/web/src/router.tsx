import { createRouter } from '@tanstack/react-router';
import type { RouterContext } from './router-context.ts';
import { accountRoutes } from './routes/account/index.ts';
import { chatRoute, conversationRoute } from './routes/chat/index.ts';
import { collectionRoute, collectionsRoute } from './routes/collections/index.ts';
import { composeRoute } from './routes/compose/index.ts';
import { friendsRoute } from './routes/friends/index.ts';
import { homeRoute } from './routes/home/index.ts';
import { loginRoute } from './routes/login/index.ts';
import { moderationCaseRoute, moderationNoticeRoute, moderationRoute } from './routes/moderation/index.ts';
import { notificationsRoute } from './routes/notifications/index.ts';
import { postRoute } from './routes/post/index.ts';
import { profileRoute } from './routes/profile/index.ts';
import { rootRoute } from './routes/root.tsx';
import { settingsRoute } from './routes/settings/index.ts';
import { signupRoute } from './routes/signup/index.ts';
import { staffRoute } from './routes/staff/index.ts';
import { tagRoute, trendingRoute } from './routes/tags/index.ts';

/**
 * Every screen: one folder under routes/ with an index.ts (path, search params, guard) and a lazy
 * chunk with the component. A new screen adds its route to this list.
 */
const routeTree = rootRoute.addChildren([
  homeRoute,
  loginRoute,
  signupRoute,
  composeRoute,
  notificationsRoute,
  profileRoute,
  friendsRoute,
  settingsRoute,
  trendingRoute,
  tagRoute,
  staffRoute,
  moderationRoute,
  moderationCaseRoute,
  moderationNoticeRoute,
  postRoute,
  chatRoute,
  conversationRoute,
  collectionsRoute,
  collectionRoute,
  ...accountRoutes,
]);

export function createAppRouter(context: RouterContext) {
  return createRouter({
    routeTree,
    context,
    defaultPreload: 'intent',
    // the query cache is the loader cache: the router keeps none of its own
    defaultPreloadStaleTime: 0,
    scrollRestoration: true,
  });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
