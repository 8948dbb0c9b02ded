import { createRoute } from '@tanstack/react-router';
import { requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

export const notificationsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/notifications',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./notifications.lazy.tsx').then((m) => m.Route));
