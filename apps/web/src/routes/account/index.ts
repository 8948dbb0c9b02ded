import { createRoute } from '@tanstack/react-router';
import { requireSignedOut } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

/** Ask for a reset link by username or e-mail (signed out). */
export const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/forgot-password',
  beforeLoad: requireSignedOut,
}).lazy(() => import('./screens.ts').then((m) => m.Forgot));

/** The reset link's page: a new password, twice. Signed in or out (a reset signs out everywhere). */
export const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
}).lazy(() => import('./screens.ts').then((m) => m.Reset));

/** The verification link's page: confirms on arrival, signed in or out. */
export const verifyEmailRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/verify-email',
}).lazy(() => import('./screens.ts').then((m) => m.Verify));

/** The link sent to a new address: confirms the change on arrival. */
export const confirmEmailChangeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/confirm-email-change',
}).lazy(() => import('./screens.ts').then((m) => m.Confirm));

/** The link sent to the previous address: explains, then undoes on a click. */
export const undoEmailChangeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/undo-email-change',
}).lazy(() => import('./screens.ts').then((m) => m.Undo));

export const accountRoutes = [
  forgotPasswordRoute,
  resetPasswordRoute,
  verifyEmailRoute,
  confirmEmailChangeRoute,
  undoEmailChangeRoute,
] as const;
