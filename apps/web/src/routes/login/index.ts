import { createRoute } from '@tanstack/react-router';
import { requireSignedOut, safeNext } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

export const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/login',
  validateSearch: (search: Record<string, unknown>): { next?: string | undefined } => ({
    next: safeNext(search.next),
  }),
  beforeLoad: requireSignedOut,
}).lazy(() => import('./login.lazy.tsx').then((m) => m.Route));
