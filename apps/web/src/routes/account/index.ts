import { createRoute } from '@tanstack/react-router';
import { requireSignedOut } from '../../router-context.ts';
import { rootRoute } from '../root.tsx';

type Screens = typeof import('./screens.ts');
/** One loader for the five screens of the shared chunk (fewer bytes in the first route's JavaScript). */
const screen =
  <K extends Exclude<keyof Screens, 'Banner'>>(name: K) =>
  (): Promise<Screens[K]> =>
    import('./screens.ts').then((m) => m[name]);

/** Ask for a reset link by username or e-mail (signed out). */
export const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/forgot-password',
  beforeLoad: requireSignedOut,
}).lazy(screen('Forgot'));

/** The reset link's page: a new password, twice. Signed in or out (a reset signs out everywhere). */
export const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
}).lazy(screen('Reset'));

/** The verification link's page: confirms on arrival, signed in or out. */
export const verifyEmailRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/verify-email',
}).lazy(screen('Verify'));

/** The link sent to a new address: confirms the change on arrival. */
export const confirmEmailChangeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/confirm-email-change',
}).lazy(screen('Confirm'));

/** The link sent to the previous address: explains, then undoes on a click. */
export const undoEmailChangeRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/undo-email-change',
}).lazy(screen('Undo'));

export const accountRoutes = [
  forgotPasswordRoute,
  resetPasswordRoute,
  verifyEmailRoute,
  confirmEmailChangeRoute,
  undoEmailChangeRoute,
] as const;
