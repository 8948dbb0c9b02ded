import { configure, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuthSession } from '../../auth/session.ts';
import { session } from '../../auth/session.ts';
import { apiError, fakeServer, json, me, on, renderRoute } from '../../test/render-route.tsx';
import { loginRoute } from './index.ts';

beforeAll(() => import('./login.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const anonymous = { ready: async () => ({ status: 'anonymous' }) } as unknown as AuthSession;
const signedIn = () =>
  json(200, {
    user: me(),
    accessToken: 'at-2fa',
    accessTokenExpiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    refreshToken: 'rt-2fa',
  });
const challenge = (methods = ['totp', 'recovery_code']) =>
  json(202, {
    status: 'second_factor_required',
    challengeToken: 'challenge-1',
    expiresAt: new Date(Date.now() + 300_000).toISOString(),
    methods,
  });

async function passwordStep(server: ReturnType<typeof fakeServer>) {
  renderRoute([loginRoute], '/login', anonymous);
  await screen.findByRole('heading', { level: 1, name: 'Log in to Kith' });
  await userEvent.type(screen.getByLabelText('Username or e-mail'), 'ada');
  await userEvent.type(screen.getByLabelText('Password'), 'correct horse battery staple');
  await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
  await screen.findByRole('heading', { level: 1, name: 'Two-step verification' });
  expect(server.requests.find((r) => r.path === '/api/v1/auth/login')?.body).toEqual({
    login: 'ada',
    password: 'correct horse battery staple',
  });
}

describe('the second step of a sign-in with 2FA on', () => {
  it('asks for the app code after a right password; a wrong one is said, the right one signs in', async () => {
    const server = fakeServer(on('POST', '/api/v1/auth/login', () => challenge()));
    await passwordStep(server);
    const field = screen.getByLabelText('Code from your app');
    expect(document.activeElement).toBe(field);
    expect(screen.queryByRole('button', { name: 'Use a passkey instead' })).toBeNull();
    server.use(
      on('POST', '/api/v1/auth/login/second-factor', () =>
        apiError(403, 'INVALID_SECOND_FACTOR', 'The code, recovery code or passkey is not right.'),
      ),
    );
    await userEvent.type(field, '12a3456');
    expect((field as HTMLInputElement).value).toBe('123456');
    await userEvent.click(screen.getByRole('button', { name: 'Verify' }));
    expect((await screen.findByRole('alert')).textContent).toContain('is not right');
    expect((field as HTMLInputElement).value).toBe('');

    server.use(on('POST', '/api/v1/auth/login/second-factor', () => signedIn()));
    await userEvent.type(field, '654321');
    await userEvent.click(screen.getByRole('button', { name: 'Verify' }));
    await vi.waitFor(() => expect(session.getState().status).toBe('signedIn'));
    const steps = server.requests.filter((r) => r.path === '/api/v1/auth/login/second-factor');
    expect(steps.map((r) => r.body)).toEqual([
      { challengeToken: 'challenge-1', code: '123456' },
      { challengeToken: 'challenge-1', code: '654321' },
    ]);
  });

  it('takes a recovery code instead, and starts over when the step expired', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/login', () => challenge(['totp', 'recovery_code', 'passkey'])),
    );
    await passwordStep(server);
    expect(screen.getByRole('button', { name: 'Use a passkey instead' })).toBeTruthy();
    await userEvent.click(screen.getByRole('button', { name: 'Use a recovery code instead' }));
    const field = await screen.findByLabelText('Recovery code');
    expect(document.activeElement).toBe(field);
    server.use(
      on('POST', '/api/v1/auth/login/second-factor', () =>
        apiError(401, 'INVALID_CHALLENGE', 'This sign-in step has expired or was used; sign in again.'),
      ),
    );
    await userEvent.type(field, ' abcd-efgh-jkmn-pqrs ');
    await userEvent.click(screen.getByRole('button', { name: 'Verify' }));
    expect((await screen.findByRole('alert')).textContent).toContain('expired');
    const steps = server.requests.filter((r) => r.path === '/api/v1/auth/login/second-factor');
    expect(steps.at(-1)?.body).toEqual({
      challengeToken: 'challenge-1',
      recoveryCode: 'abcd-efgh-jkmn-pqrs',
    });
    expect(screen.getByRole('button', { name: 'Verify' })).toHaveProperty('disabled', true);
    await userEvent.click(screen.getByRole('button', { name: 'Start over' }));
    await screen.findByRole('heading', { level: 1, name: 'Log in to Kith' });
  });
});
