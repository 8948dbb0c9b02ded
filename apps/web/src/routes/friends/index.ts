import { createRoute } from '@tanstack/react-router';
import { requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

export const friendsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/friends',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./friends.lazy.tsx').then((m) => m.Route));
