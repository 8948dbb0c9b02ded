import { createRoute } from '@tanstack/react-router';
import { requireSignedOut } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

export const signupRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/signup',
  beforeLoad: requireSignedOut,
}).lazy(() => import('./signup.lazy.tsx').then((m) => m.Route));
