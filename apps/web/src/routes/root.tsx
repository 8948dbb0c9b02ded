import { createRootRouteWithContext, Link, Outlet, useRouter } from '@tanstack/react-router';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { session } from '../auth/session.ts';
import { OfflineChrome } from '../pwa/lazy.tsx';
import { ConnectionStatus, RealtimeMount } from '../realtime/lazy.tsx';
import type { RouterContext } from '../router-context.ts';
import { ErrorMessage } from '../ui/error-message.tsx';
import { ThemeToggle } from '../ui/theme-toggle.tsx';
import { SuspendedBanner, VerifyBanner } from './account/verify-banner-lazy.tsx';
import { NotificationsNavLink } from './notifications/nav-link.tsx';

export const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: AppShell,
  notFoundComponent: NotFound,
  errorComponent: RouteError,
});

function RouteError({ error, reset }: { error: unknown; reset: () => void }) {
  const { t } = useTranslation();
  return (
    <section className="page narrow">
      <h1>{t('errors.title')}</h1>
      <ErrorMessage error={error} onRetry={reset} />
    </section>
  );
}

function AppShell() {
  const { t } = useTranslation();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const signedIn = state.status === 'signedIn';
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skipLink')}
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          {t('app.name')}
        </Link>
        <nav aria-label={t('nav.label')}>
          <ul>
            {signedIn ? (
              <>
                <li>
                  <Link to="/" activeOptions={{ exact: true }}>
                    {t('nav.home')}
                  </Link>
                </li>
                <li>
                  <Link to="/compose">{t('nav.compose')}</Link>
                </li>
                <li>
                  <NotificationsNavLink />
                </li>
                <li>
                  <Link to="/chat">{t('chat.nav')}</Link>
                </li>
                <li>
                  <Link to="/friends">{t('nav.friends')}</Link>
                </li>
                <li>
                  <Link to="/tags">{t('nav.tags')}</Link>
                </li>
                <li>
                  <Link to="/collections">{t('social.nav')}</Link>
                </li>
                <li>
                  <Link to="/users/$username" params={{ username: state.user.username }}>
                    {t('nav.profile')}
                  </Link>
                </li>
                <li>
                  <Link to="/settings">{t('nav.settings')}</Link>
                </li>
                {state.user.role !== 'user' && (
                  <li>
                    <Link to="/staff">{t('nav.staff')}</Link>
                  </li>
                )}
              </>
            ) : (
              <>
                <li>
                  <Link to="/login">{t('nav.login')}</Link>
                </li>
                <li>
                  <Link to="/signup">{t('nav.signup')}</Link>
                </li>
              </>
            )}
          </ul>
        </nav>
        <div className="topbar-actions">
          {signedIn && <ConnectionStatus />}
          <ThemeToggle />
          {signedIn && <LogoutButton />}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <OfflineChrome />
        {signedIn && <SuspendedBanner user={state.user} />}
        {signedIn && <VerifyBanner user={state.user} />}
        <Outlet />
      </main>
      <RouteAnnouncer />
      <RealtimeMount />
    </>
  );
}

function LogoutButton() {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="button ghost"
      disabled={busy}
      onClick={() => {
        setBusy(true);
        session.signOut().finally(() => setBusy(false));
      }}
    >
      {t('nav.logout')}
    </button>
  );
}

/**
 * After each navigation (not the first load): the view's h1 gets focus, the document title
 * follows it, and a polite live region says which page loaded.
 */
function RouteAnnouncer() {
  const router = useRouter();
  const { t } = useTranslation();
  const [message, setMessage] = useState('');
  const first = useRef(true);
  useEffect(
    () =>
      router.subscribe('onResolved', () => {
        requestAnimationFrame(() => {
          const heading = document.querySelector<HTMLElement>('main h1');
          const title = heading?.textContent?.trim() ?? '';
          document.title = title ? `${title} · ${t('app.name')}` : t('app.name');
          if (first.current) {
            first.current = false;
            return;
          }
          if (heading) {
            heading.tabIndex = -1;
            heading.focus({ preventScroll: true });
          }
          setMessage(t('app.navigated', { title }));
        });
      }),
    [router, t],
  );
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true">
      {message}
    </div>
  );
}

function NotFound() {
  const { t } = useTranslation();
  return (
    <section className="page narrow">
      <h1>{t('app.notFoundTitle')}</h1>
      <p>{t('app.notFoundBody')}</p>
      <Link to="/">{t('app.goHome')}</Link>
    </section>
  );
}
