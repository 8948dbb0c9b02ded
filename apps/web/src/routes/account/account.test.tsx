import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createRoute } from '@tanstack/react-router';
import { cleanup, configure, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/errors.ts';
import { AuthSession, type Me } from '../../auth/session.ts';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import { rootRoute } from '../root.tsx';
import { settingsRoute } from '../settings/index.ts';
import { refreshOnSuspension } from './account-query.ts';
import {
  confirmEmailChangeRoute,
  forgotPasswordRoute,
  resetPasswordRoute,
  undoEmailChangeRoute,
  verifyEmailRoute,
} from './index.ts';
import { VerifyBanner } from './verify-banner.tsx';
import { SuspendedBanner } from './verify-banner-lazy.tsx';

beforeAll(() =>
  Promise.all([
    import('./forgot-password.lazy.tsx'),
    import('./reset-password.lazy.tsx'),
    import('./verify-email.lazy.tsx'),
    import('./confirm-email-change.lazy.tsx'),
    import('./undo-email-change.lazy.tsx'),
    import('../settings/settings.lazy.tsx'),
  ]),
);
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => {
  vi.unstubAllGlobals();
  configure({ reactStrictMode: false });
  sessionStorage.clear();
});

const TOKEN = 'tok_0123456789abcdefghijklmnopqrstuvwxyzABCDE';
const BAD_TOKEN = () =>
  apiError(400, 'INVALID_ACCOUNT_TOKEN', 'This link is not valid any more. Ask for a new one.');
const posts = (server: ReturnType<typeof fakeServer>, path: string) =>
  server.requests.filter((r) => r.method === 'POST' && r.path === path);

/** A real session that found no refresh cookie: signed out. */
async function signedOut(server: ReturnType<typeof fakeServer>): Promise<AuthSession> {
  server.use(on('POST', '/api/v1/auth/refresh', () => apiError(401, 'UNAUTHENTICATED', 'No session.')));
  const session = new AuthSession({ setTimer: () => undefined, clearTimer: () => undefined });
  await session.restore();
  return session;
}

describe('forgot password', () => {
  it('answers with the same confirmation whatever the login, and sends what was typed', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/password-reset', () => json(202, { status: 'queued' })),
    );
    renderRoute([forgotPasswordRoute], '/forgot-password', await signedOut(server));
    await screen.findByRole('heading', { level: 1, name: 'Reset your password' });
    await userEvent.type(screen.getByLabelText('Username or e-mail'), ' nobody@example.org ');
    await userEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    await screen.findByRole('heading', { level: 1, name: 'Check your inbox' });
    expect(screen.getByRole('status').textContent).toContain('If an account matches “nobody@example.org”');
    expect(posts(server, '/api/v1/auth/password-reset').map((r) => r.body)).toEqual([
      { login: 'nobody@example.org' },
    ]);
    await userEvent.click(screen.getByRole('button', { name: 'Ask for another link' }));
    expect(await screen.findByLabelText('Username or e-mail')).toBeTruthy();
  });

  it('says when to try again on a 429', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/password-reset', () =>
        apiError(429, 'RATE_LIMITED', 'Too many requests.', { 'Retry-After': '42' }),
      ),
    );
    renderRoute([forgotPasswordRoute], '/forgot-password', await signedOut(server));
    await userEvent.type(await screen.findByLabelText('Username or e-mail'), 'ada');
    await userEvent.click(screen.getByRole('button', { name: 'Send the link' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Too many requests.');
    expect(alert.textContent).toContain('Try again in 42 seconds.');
    expect(screen.queryByRole('heading', { name: 'Check your inbox' })).toBeNull();
  });
});

describe('reset password', () => {
  async function open(server: ReturnType<typeof fakeServer>, session?: AuthSession) {
    renderRoute([resetPasswordRoute], `/reset-password?token=${TOKEN}`, session ?? (await signedOut(server)));
    await screen.findByRole('heading', { level: 1, name: 'Choose a new password' });
  }

  it('shows the rules before submitting, sends nothing until they are met, then says every device was signed out', async () => {
    const server = fakeServer(on('POST', '/api/v1/auth/password-reset/confirm', () => json(204)));
    await open(server);
    const rules = screen.getByText(/At least 10 characters/).closest('ul') as HTMLElement;
    expect(
      within(rules)
        .getByText(/At least 10 characters/)
        .closest('li')?.className,
    ).toBe('rule');
    await userEvent.type(screen.getByLabelText('New password'), 'short');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(screen.getByLabelText('New password').getAttribute('aria-invalid')).toBe('true');
    await userEvent.type(screen.getByLabelText('New password'), ' enough now');
    expect(
      within(rules)
        .getByText(/At least 10 characters/)
        .closest('li')?.className,
    ).toBe('rule met');
    await userEvent.type(screen.getByLabelText('New password again'), 'short enough no');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect(screen.getByLabelText('New password again').getAttribute('aria-invalid')).toBe('true');
    expect(posts(server, '/api/v1/auth/password-reset/confirm')).toHaveLength(0);
    await userEvent.type(screen.getByLabelText('New password again'), 'w');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    await screen.findByRole('heading', { level: 1, name: 'Your password is changed' });
    expect(screen.getByRole('status').textContent).toContain('has been signed out');
    expect(within(screen.getByRole('main')).getByRole('link', { name: 'Log in' }).getAttribute('href')).toBe(
      '/login',
    );
    expect(posts(server, '/api/v1/auth/password-reset/confirm').map((r) => r.body)).toEqual([
      { token: TOKEN, newPassword: 'short enough now' },
    ]);
  });

  it('signs this tab out too when it was signed in', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/password-reset/confirm', () => json(204)),
      on('POST', '/api/v1/auth/logout', () => json(204)),
    );
    const session = await signedInAs(server, me());
    await open(server, session);
    await userEvent.type(screen.getByLabelText('New password'), 'a brand new password');
    await userEvent.type(screen.getByLabelText('New password again'), 'a brand new password');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    await screen.findByRole('heading', { level: 1, name: 'Your password is changed' });
    expect(session.getState().status).toBe('anonymous');
  });

  it("shows the server's message for a used or expired link, with a way to ask again", async () => {
    const server = fakeServer(on('POST', '/api/v1/auth/password-reset/confirm', BAD_TOKEN));
    await open(server);
    await userEvent.type(screen.getByLabelText('New password'), 'a brand new password');
    await userEvent.type(screen.getByLabelText('New password again'), 'a brand new password');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect((await screen.findByRole('alert')).textContent).toContain('This link is not valid any more.');
    expect(screen.getByRole('link', { name: 'Ask for a new link' }).getAttribute('href')).toBe(
      '/forgot-password',
    );
  });

  it('keeps the link usable after a refused password (no link to ask again)', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/password-reset/confirm', () =>
        apiError(400, 'WEAK_PASSWORD', 'This password is too common.'),
      ),
    );
    await open(server);
    await userEvent.type(screen.getByLabelText('New password'), 'password123');
    await userEvent.type(screen.getByLabelText('New password again'), 'password123');
    await userEvent.click(screen.getByRole('button', { name: 'Set the new password' }));
    expect((await screen.findByRole('alert')).textContent).toContain('too common');
    expect(screen.queryByRole('link', { name: 'Ask for a new link' })).toBeNull();
  });

  it('says a link without a token is incomplete', async () => {
    const server = fakeServer();
    renderRoute([resetPasswordRoute], '/reset-password', await signedOut(server));
    await screen.findByText(/This link is incomplete/);
    expect(screen.queryByLabelText('New password')).toBeNull();
  });
});

describe('verify e-mail', () => {
  it('verifies once on arrival even under StrictMode, and the signed-in user becomes verified', async () => {
    configure({ reactStrictMode: true });
    const server = fakeServer(on('POST', '/api/v1/auth/verify-email', () => json(204)));
    const session = await signedInAs(server, me({ emailVerified: false }));
    server.use(on('GET', '/api/v1/me', () => json(200, me({ emailVerified: true }))));
    renderRoute([verifyEmailRoute], `/verify-email?token=${TOKEN}`, session);
    await screen.findByText('Your e-mail address is confirmed. Thank you!');
    expect(posts(server, '/api/v1/auth/verify-email').map((r) => r.body)).toEqual([{ token: TOKEN }]);
    await vi.waitFor(() => {
      const state = session.getState();
      expect(state.status === 'signedIn' && state.user.emailVerified).toBe(true);
    });
    expect(screen.getByRole('link', { name: 'Go to your feed' })).toBeTruthy();
  });

  it("shows the server's message for a bad link, signed out", async () => {
    const server = fakeServer(on('POST', '/api/v1/auth/verify-email', BAD_TOKEN));
    renderRoute([verifyEmailRoute], `/verify-email?token=${TOKEN}`, await signedOut(server));
    expect((await screen.findByRole('alert')).textContent).toContain('This link is not valid any more.');
    expect(screen.getByText(/ask for a new link from the banner/)).toBeTruthy();
  });
});

describe('e-mail change links', () => {
  it('confirms the new address on arrival and shows it', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/email-change/confirm', () => json(200, { email: 'new@example.org' })),
    );
    const session = await signedInAs(server, me());
    server.use(on('GET', '/api/v1/me', () => json(200, me({ email: 'new@example.org' }))));
    renderRoute([confirmEmailChangeRoute], `/confirm-email-change?token=${TOKEN}`, session);
    expect(await screen.findByText(/Your e-mail address is now new@example\.org\./)).toBeTruthy();
    await vi.waitFor(() => {
      const state = session.getState();
      expect(state.status === 'signedIn' && state.user.email).toBe('new@example.org');
    });
    expect(posts(server, '/api/v1/auth/email-change/confirm')).toHaveLength(1);
  });

  it('shows why a confirmation link failed', async () => {
    const server = fakeServer(on('POST', '/api/v1/auth/email-change/confirm', BAD_TOKEN));
    renderRoute([confirmEmailChangeRoute], `/confirm-email-change?token=${TOKEN}`, await signedOut(server));
    expect((await screen.findByRole('alert')).textContent).toContain('This link is not valid any more.');
  });

  it('explains the undo and posts only after the click, then offers a new password', async () => {
    const server = fakeServer(on('POST', '/api/v1/auth/email-change/undo', () => json(204)));
    renderRoute([undoEmailChangeRoute], `/undo-email-change?token=${TOKEN}`, await signedOut(server));
    await screen.findByText(/goes back to this address, and every device signed in/);
    expect(posts(server, '/api/v1/auth/email-change/undo')).toHaveLength(0);
    await userEvent.click(screen.getByRole('button', { name: 'Undo the change' }));
    expect((await screen.findByRole('status')).textContent).toContain('every device was signed out');
    expect(posts(server, '/api/v1/auth/email-change/undo').map((r) => r.body)).toEqual([{ token: TOKEN }]);
    expect(screen.getByRole('link', { name: 'Choose a new password' }).getAttribute('href')).toBe(
      '/forgot-password',
    );
  });

  it('shows why an undo failed and lets the person try again', async () => {
    const server = fakeServer(on('POST', '/api/v1/auth/email-change/undo', BAD_TOKEN));
    renderRoute([undoEmailChangeRoute], `/undo-email-change?token=${TOKEN}`, await signedOut(server));
    await userEvent.click(await screen.findByRole('button', { name: 'Undo the change' }));
    expect((await screen.findByRole('alert')).textContent).toContain('This link is not valid any more.');
    expect(screen.getByRole('button', { name: 'Undo the change' })).toBeTruthy();
  });
});

describe('the verify banner', () => {
  function renderBanner(user: Me) {
    const queryClient = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
    return render(
      <QueryClientProvider client={queryClient}>
        <VerifyBanner user={user} />
      </QueryClientProvider>,
    );
  }
  const unverified = me({ emailVerified: false });

  it('says what is limited and sends the link again', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/verify-email/resend', () => json(202, { status: 'queued' })),
    );
    renderBanner(unverified);
    const banner = screen.getByRole('region', { name: 'Confirm your e-mail address' });
    expect(banner.textContent).toContain('me@example.org');
    expect(banner.textContent).toContain('limited number of posts, comments, friend requests');
    await userEvent.click(screen.getByRole('button', { name: 'Send the link again' }));
    expect((await screen.findByRole('status')).textContent).toBe(
      'A new link is on its way to me@example.org.',
    );
    expect(posts(server, '/api/v1/auth/verify-email/resend')).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Send the link again' })).toHaveProperty('disabled', true);
  });

  it.each([
    [apiError(409, 'EMAIL_ALREADY_VERIFIED', 'The address is verified already.'), 'verified already'],
    [apiError(429, 'RATE_LIMITED', 'Too many requests.', { 'Retry-After': '600' }), 'Try again after'],
  ])('shows the answer %#', async (answer, text) => {
    fakeServer(on('POST', '/api/v1/auth/verify-email/resend', () => answer));
    renderBanner(unverified);
    await userEvent.click(screen.getByRole('button', { name: 'Send the link again' }));
    expect((await screen.findByRole('alert')).textContent).toContain(text);
  });

  it('stays hidden for the session once dismissed', async () => {
    fakeServer();
    const first = renderBanner(unverified);
    await userEvent.click(screen.getByRole('button', { name: 'Hide this message' }));
    expect(screen.queryByRole('region')).toBeNull();
    first.unmount();
    renderBanner(unverified);
    expect(screen.queryByRole('region')).toBeNull();
  });

  it('is not shown to a verified user', () => {
    fakeServer();
    renderBanner(me());
    expect(screen.queryByRole('region')).toBeNull();
  });
});

describe('settings: e-mail address', () => {
  async function open(user: Me, ...handlers: Parameters<typeof fakeServer>) {
    const server = fakeServer(
      on('GET', '/api/v1/auth/sessions', () => json(200, { items: [] })),
      on('GET', '/api/v1/me/export', () => apiError(404, 'NOT_FOUND', 'No export yet.')),
      ...handlers,
    );
    const session = await signedInAs(server, user);
    renderRoute([settingsRoute], '/settings', session);
    return { server, section: await screen.findByRole('region', { name: 'E-mail address' }) };
  }

  it('shows the address and whether it is confirmed', async () => {
    const { section } = await open(me({ emailVerified: false }));
    expect(within(section).getByTestId('current-email').textContent).toBe('me@example.org');
    expect(section.textContent).toContain('Not confirmed yet');
  });

  it('asks for the new address and the password, then says to check the new inbox', async () => {
    const { server, section } = await open(
      me(),
      on('POST', '/api/v1/auth/email-change', () => json(202, { status: 'queued' })),
    );
    expect(section.textContent).toContain('Confirmed');
    await userEvent.type(within(section).getByLabelText('New e-mail address'), 'new@example.org');
    await userEvent.type(within(section).getByLabelText('Current password'), 'correct horse battery staple');
    await userEvent.click(within(section).getByRole('button', { name: 'Change the address' }));
    expect((await within(section).findByRole('status')).textContent).toContain(
      'We sent a link to new@example.org. Your address changes when you open it',
    );
    expect(within(section).getByRole('heading', { name: 'Check your new inbox' })).toBeTruthy();
    expect(posts(server, '/api/v1/auth/email-change').map((r) => r.body)).toEqual([
      { email: 'new@example.org', password: 'correct horse battery staple' },
    ]);
  });

  it('shows a wrong password', async () => {
    const { section } = await open(
      me(),
      on('POST', '/api/v1/auth/email-change', () =>
        apiError(403, 'WRONG_PASSWORD', 'The password is not right.'),
      ),
    );
    await userEvent.type(within(section).getByLabelText('New e-mail address'), 'new@example.org');
    await userEvent.type(within(section).getByLabelText('Current password'), 'nope nope nope');
    await userEvent.click(within(section).getByRole('button', { name: 'Change the address' }));
    expect((await within(section).findByRole('alert')).textContent).toContain('The password is not right.');
  });
});

describe('the suspended banner', () => {
  const suspension = {
    until: '2026-12-24T18:00:00.000Z',
    caseId: '0191f6a0-0000-7000-8000-0000000000cc',
    reason: 'Insults <b>in</b> the comments.',
    appeal: 'available' as const,
  };
  /** The shell's banner (root.tsx shows it above every screen) for `user`, inside a router. */
  function renderBanner(user: Me) {
    fakeServer();
    const screenRoute = createRoute({
      getParentRoute: () => rootRoute,
      path: '/x',
      component: () => <SuspendedBanner user={user} />,
    });
    return renderRoute([screenRoute], '/x');
  }
  const banner = () => screen.findByRole('status', { name: 'Your account is suspended' });

  it('says until when, the reason as text, and links the decision to appeal it (role=status)', async () => {
    renderBanner(me({ suspension }));
    const shown = await banner();
    expect(shown.textContent).toContain('2026');
    expect(shown.textContent).toContain('but not post, comment, react, send messages');
    expect(within(shown).getByText('The moderator’s reason: Insults <b>in</b> the comments.')).toBeTruthy();
    expect(shown.querySelector('b')).toBeNull();
    const link = within(shown).getByRole('link', { name: 'Read the decision and appeal it' });
    expect(link.getAttribute('href')).toBe(`/moderation/notices/${suspension.caseId}`);
  });

  it('says an appeal is pending', async () => {
    renderBanner(me({ suspension: { ...suspension, appeal: 'pending' } }));
    expect(within(await banner()).getByRole('link').textContent).toContain(
      'Your appeal is waiting for a moderator',
    );
  });

  it('shows no link without a decision on record', async () => {
    renderBanner(me({ suspension: { ...suspension, caseId: null, reason: null, appeal: null } }));
    expect(within(await banner()).queryByRole('link')).toBeNull();
  });

  it('is not shown once the suspension ended, nor to an account in good standing', async () => {
    renderBanner(me({ suspension: { ...suspension, until: '2020-01-01T00:00:00.000Z' } }));
    await screen.findAllByRole('link', { name: 'Kith' });
    expect(screen.queryByRole('status', { name: 'Your account is suspended' })).toBeNull();
    cleanup();
    renderBanner(me());
    await screen.findAllByRole('link', { name: 'Kith' });
    expect(screen.queryByRole('status', { name: 'Your account is suspended' })).toBeNull();
  });
});

describe('a write refused for a suspension', () => {
  it('reads /me again, so the session (and the banner) learns of it', async () => {
    const server = fakeServer();
    const session = await signedInAs(server, me());
    const suspension = {
      until: '2026-12-24T18:00:00.000Z',
      caseId: null,
      reason: null,
      appeal: null,
    };
    server.use(on('GET', '/api/v1/me', () => json(200, me({ suspension }))));
    const queryClient = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
    const onError = refreshOnSuspension(() => queryClient, session);
    onError(new ApiError({ code: 'RATE_LIMITED', message: 'Too many requests.', status: 429 }));
    onError(new ApiError({ code: 'ACCOUNT_SUSPENDED', message: 'Suspended.', status: 403 }));
    await vi.waitFor(() => {
      const state = session.getState();
      expect(state.status === 'signedIn' && state.user.suspension).toEqual(suspension);
    });
    expect(server.requests.filter((r) => r.path === '/api/v1/me')).toHaveLength(2);
  });
});
