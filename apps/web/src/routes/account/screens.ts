/**
 * The five account-link screens travel in ONE lazy chunk: each is small and rarely opened, and every
 * extra chunk costs its (incompressible) file name in the first route's JavaScript, and every
 * export name is spelled there too (hence the short ones).
 */
export { Route as Confirm } from './confirm-email-change.lazy.tsx';
export { Route as Forgot } from './forgot-password.lazy.tsx';
export { Route as Reset } from './reset-password.lazy.tsx';
// the suspension banner: shown to suspended accounts only
export { SuspendedBanner as Suspended } from './suspended-banner.tsx';
export { Route as Undo } from './undo-email-change.lazy.tsx';
// the banner too: it is shown to unverified accounts only, and one chunk is one file name less
export { VerifyBanner as Banner } from './verify-banner.tsx';
export { Route as Verify } from './verify-email.lazy.tsx';
