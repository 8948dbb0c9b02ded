import { createRoute } from '@tanstack/react-router';
import { requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

/** My collections: create one, open one. */
export const collectionsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/collections',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./collections.lazy.tsx').then((m) => m.Route));

/** One collection: its posts in order; its owner renames, reorders, shares or deletes it. */
export const collectionRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/collections/$collectionId',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./collection.lazy.tsx').then((m) => m.Route));
