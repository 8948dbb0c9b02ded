/**
 * The five account-link screens travel in ONE lazy chunk: each is small and rarely opened, and every
 * extra chunk costs its (incompressible) file name in the first route's JavaScript.
 */
export { Route as ConfirmEmailChange } from './confirm-email-change.lazy.tsx';
export { Route as ForgotPassword } from './forgot-password.lazy.tsx';
export { Route as ResetPassword } from './reset-password.lazy.tsx';
export { Route as UndoEmailChange } from './undo-email-change.lazy.tsx';
// the banner too: it is shown to unverified accounts only, and one chunk is one file name less
export { VerifyBanner } from './verify-banner.tsx';
export { Route as VerifyEmail } from './verify-email.lazy.tsx';
