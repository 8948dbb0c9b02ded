import { createRoute } from '@tanstack/react-router';
import { requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

export const composeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/compose',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./compose.lazy.tsx').then((m) => m.Route));
