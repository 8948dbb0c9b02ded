import { createRoute } from '@tanstack/react-router';
import { requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

export const profileRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/users/$username',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./profile.lazy.tsx').then((m) => m.Route));
