import { createRoute, notFound } from '@tanstack/react-router';
import { type RouterContext, requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

/** Staff only: for anyone else the screen does not exist (as the API answers). */
async function requireStaff(args: { context: RouterContext; location: { href: string } }): Promise<void> {
  await requireSignedIn(args);
  const state = await args.context.session.ready();
  if (state.status !== 'signedIn' || state.user.role === 'user') throw notFound();
}

export const staffRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/staff',
  beforeLoad: requireStaff,
}).lazy(() => import('./staff.lazy.tsx').then((m) => m.Route));
