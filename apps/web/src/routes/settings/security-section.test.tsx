import { configure, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import { settingsRoute } from './index.ts';
import type { TwoFactorStatus } from './two-factor-query.ts';

beforeAll(() => import('./settings.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const status = (over: Partial<TwoFactorStatus>): TwoFactorStatus => ({
  totpEnabled: false,
  totpEnabledAt: null,
  recoveryCodesLeft: 0,
  passkeys: 0,
  lockedUntil: null,
  ...over,
});
const CODES = Array.from({ length: 10 }, (_, i) => `abc${i}-defg-hjkm-npqr`);
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('settings → two-step verification', () => {
  it('sets up the app from a QR code, shows the recovery codes once, and turns it off with password + code', async () => {
    let current = status({});
    const server = fakeServer(
      on('GET', '/api/v1/auth/sessions', () => json(200, { items: [] })),
      on('GET', '/api/v1/me/export', () => apiError(404, 'NOT_FOUND', 'No export yet.')),
      on('GET', '/api/v1/auth/passkeys', () => json(200, { items: [] })),
      on('GET', '/api/v1/auth/2fa', () => json(200, current)),
      on('POST', '/api/v1/auth/2fa/totp', () =>
        json(200, { secret: SECRET, uri: `otpauth://totp/Kith:ada?secret=${SECRET}&issuer=Kith` }),
      ),
      on('POST', '/api/v1/auth/2fa/totp/confirm', () => {
        current = status({
          totpEnabled: true,
          totpEnabledAt: new Date().toISOString(),
          recoveryCodesLeft: 10,
        });
        return json(200, { recoveryCodes: CODES });
      }),
      on('POST', '/api/v1/auth/2fa/disable', () => {
        current = status({});
        return json(204);
      }),
    );
    renderRoute([settingsRoute], '/settings', await signedInAs(server, me()));
    const region = await screen.findByRole('region', { name: 'Two-step verification and passkeys' });
    const setUp = await within(region).findByRole('button', { name: 'Set up an authenticator app' });
    expect(setUp).toHaveProperty('disabled', true);
    // the first "Password" field is the authenticator's (the passkeys' own comes after it)
    await userEvent.type(within(region).getAllByLabelText('Password')[0]!, 'my password');
    await userEvent.click(setUp);
    expect(
      await within(region).findByRole('img', { name: 'QR code to add Kith to your authenticator app' }),
    ).toBeTruthy();
    expect(within(region).getByText(SECRET)).toBeTruthy();
    const turnOn = within(region).getByRole('button', { name: 'Turn on' });
    expect(turnOn).toHaveProperty('disabled', true);
    await userEvent.type(within(region).getByLabelText('Code from the app'), '123456');
    await userEvent.click(turnOn);
    const list = await within(region).findByRole('list', { name: 'Your recovery codes' });
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(CODES);
    await userEvent.click(within(region).getByRole('button', { name: 'I have saved my codes' }));
    expect(await within(region).findByText(/10 recovery codes left/)).toBeTruthy();
    // shown once: nowhere on the page any more
    expect(screen.queryByText(CODES[0]!)).toBeNull();

    const off = within(region).getByRole('button', { name: 'Turn off' });
    await userEvent.type(within(region).getAllByLabelText('Password')[0]!, 'my password');
    expect(off).toHaveProperty('disabled', true);
    const [, disableCode] = within(region).getAllByLabelText('Code from the app, or a recovery code');
    await userEvent.type(disableCode!, CODES[2]!);
    await userEvent.click(off);
    expect(await within(region).findByRole('button', { name: 'Set up an authenticator app' })).toBeTruthy();
    expect(server.requests.find((r) => r.path === '/api/v1/auth/2fa/totp')?.body).toEqual({
      password: 'my password',
    });
    expect(server.requests.find((r) => r.path === '/api/v1/auth/2fa/totp/confirm')?.body).toEqual({
      code: '123456',
    });
    expect(server.requests.find((r) => r.path === '/api/v1/auth/2fa/disable')?.body).toEqual({
      password: 'my password',
      recoveryCode: CODES[2],
    });
  });
});
