import { configure, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuthSession } from '../../auth/session.ts';
import { fakeServer, json, me, on, renderRoute } from '../../test/render-route.tsx';
import { signupRoute } from './index.ts';

beforeAll(() => import('./signup.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const anonymous = { ready: async () => ({ status: 'anonymous' }) } as unknown as AuthSession;

describe('sign up: the new password field', () => {
  it('shows the rules before submitting, sends nothing while one is broken, then signs up', async () => {
    const server = fakeServer(
      on('POST', '/api/v1/auth/signup', () =>
        json(201, {
          user: me({ username: 'ada_l' }),
          accessToken: 'at-1',
          accessTokenExpiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
          refreshToken: 'rt-1',
        }),
      ),
    );
    renderRoute([signupRoute], '/signup', anonymous);
    await screen.findByRole('heading', { level: 1, name: 'Create your Kith account' });
    const password = screen.getByLabelText('Password') as HTMLInputElement;
    const rules = document.getElementById(password.getAttribute('aria-describedby') ?? '');
    expect(rules?.querySelectorAll('li')).toHaveLength(3);
    await userEvent.type(screen.getByLabelText('Username'), 'ada_l');
    await userEvent.type(screen.getByLabelText('E-mail'), 'ada@example.org');
    await userEvent.type(password, 'ada_l');
    expect(rules?.textContent).toContain('not met yet');
    await userEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(password.getAttribute('aria-invalid')).toBe('true');
    expect(server.requests.some((r) => r.path === '/api/v1/auth/signup')).toBe(false);

    await userEvent.clear(password);
    await userEvent.type(password, 'a long enough passphrase');
    expect(password.getAttribute('aria-invalid')).toBe('false');
    expect(rules?.textContent).not.toContain('not met yet');
    await userEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    await vi.waitFor(() =>
      expect(server.requests.find((r) => r.path === '/api/v1/auth/signup')?.body).toEqual({
        username: 'ada_l',
        email: 'ada@example.org',
        password: 'a long enough passphrase',
      }),
    );
  });
});
