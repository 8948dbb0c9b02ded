import { createRoute } from '@tanstack/react-router';
import { requireSignedIn } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

/** Trending hashtags. */
export const trendingRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tags',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./trending.lazy.tsx').then((m) => m.Route));

/** The public posts with one hashtag. */
export const tagRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tags/$tag',
  beforeLoad: requireSignedIn,
}).lazy(() => import('./tag.lazy.tsx').then((m) => m.Route));
