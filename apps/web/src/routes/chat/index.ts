import { createRoute } from '@tanstack/react-router';
import { requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

/** My conversations, and starting a new one. */
export const chatRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/chat',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./chat.lazy.tsx').then((m) => m.Route));

/** One conversation: history paged upward, live messages, typing, "seen by". */
export const conversationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/chat/$conversationId',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./conversation.lazy.tsx').then((m) => m.Route));
