import { configure, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import { settingsRoute } from './index.ts';
import { deviceName } from './sessions-section.tsx';
import type { DataExport, DeviceSession } from './settings-query.ts';

beforeAll(() => import('./settings.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36';
const device = (n: number, userAgent: string, current = false): DeviceSession => ({
  id: `0191f6a0-4444-7000-8000-00000000000${n}`,
  userAgent,
  ip: `192.0.2.${n}`,
  createdAt: new Date(Date.now() - 86_400_000).toISOString(),
  lastUsedAt: new Date(Date.now() - n * 3_600_000).toISOString(),
  current,
});
const exportOf = (over: Partial<DataExport>): DataExport => ({
  id: '0191f6a0-5555-7000-8000-000000000001',
  status: 'pending',
  createdAt: new Date().toISOString(),
  completedAt: null,
  sizeBytes: null,
  download: null,
  fileExpiresAt: null,
  ...over,
});

async function setup(...handlers: Parameters<typeof fakeServer>) {
  const server = fakeServer(
    on('GET', '/api/v1/auth/sessions', () => json(200, { items: [device(1, FIREFOX_LINUX, true)] })),
    on('GET', '/api/v1/me/export', () => apiError(404, 'NOT_FOUND', 'No export yet.')),
  );
  for (const handler of handlers) server.use(handler);
  const session = await signedInAs(server, me());
  renderRoute([settingsRoute], '/settings', session);
  await screen.findByRole('heading', { level: 1, name: 'Settings' });
  return { server, session };
}
const section = (name: string) => screen.findByRole('region', { name });

describe('device names', () => {
  it('reads browser and system from the User-Agent', () => {
    expect(deviceName(FIREFOX_LINUX)).toBe('Firefox · Linux');
    expect(deviceName(CHROME_ANDROID)).toBe('Chrome · Android');
    expect(deviceName('curl/8.5')).toBeUndefined();
  });
});

describe('settings screen', () => {
  it('changes the password once the new one is long enough and typed twice', async () => {
    const { server } = await setup(on('POST', '/api/v1/auth/password', () => json(204)));
    const form = await section('Password');
    const submit = within(form).getByRole('button', { name: 'Change password' });
    await userEvent.type(within(form).getByLabelText('Current password'), 'old-password-1');
    await userEvent.type(within(form).getByLabelText('New password'), 'short');
    expect(within(form).getByLabelText('New password').getAttribute('aria-invalid')).toBe('true');
    await userEvent.type(within(form).getByLabelText('New password'), '-and-long-now');
    await userEvent.type(within(form).getByLabelText('New password again'), 'different');
    expect(within(form).getByText('The two new passwords are not the same.')).toBeTruthy();
    expect(submit).toHaveProperty('disabled', true);
    await userEvent.clear(within(form).getByLabelText('New password again'));
    await userEvent.type(within(form).getByLabelText('New password again'), 'short-and-long-now');
    await userEvent.click(submit);
    expect(await within(form).findByText(/Password changed/)).toBeTruthy();
    expect(server.requests.find((r) => r.path === '/api/v1/auth/password')?.body).toEqual({
      currentPassword: 'old-password-1',
      newPassword: 'short-and-long-now',
    });
  });

  it("shows the server's message for a wrong current password", async () => {
    await setup(
      on('POST', '/api/v1/auth/password', () =>
        apiError(401, 'WRONG_PASSWORD', 'The current password is wrong.'),
      ),
    );
    const form = await section('Password');
    await userEvent.type(within(form).getByLabelText('Current password'), 'nope');
    await userEvent.type(within(form).getByLabelText('New password'), 'a-long-new-one');
    await userEvent.type(within(form).getByLabelText('New password again'), 'a-long-new-one');
    await userEvent.click(within(form).getByRole('button', { name: 'Change password' }));
    expect((await within(form).findByRole('alert')).textContent).toContain('The current password is wrong.');
  });

  it('lists devices and signs one out (not this one)', async () => {
    let items = [device(1, FIREFOX_LINUX, true), device(2, CHROME_ANDROID)];
    await setup(
      on('GET', '/api/v1/auth/sessions', () => json(200, { items })),
      on('DELETE', '/api/v1/auth/sessions/:id', (_r, _u, { id }) => {
        items = items.filter((s) => s.id !== id);
        return json(204);
      }),
    );
    const list = await section('Where you are signed in');
    expect(await within(list).findByText('Chrome · Android')).toBeTruthy();
    expect(within(list).getByText('192.0.2.2')).toBeTruthy();
    expect(within(list).getAllByRole('button', { name: /^Sign out/ })).toHaveLength(1);
    await userEvent.click(within(list).getByRole('button', { name: 'Sign out Chrome · Android' }));
    await vi.waitFor(() => expect(within(list).queryByText('Chrome · Android')).toBeNull());
    expect(within(list).getByText('Firefox · Linux')).toBeTruthy();
  });

  it('logs out everywhere after confirming', async () => {
    const { server, session } = await setup(on('POST', '/api/v1/auth/logout-all', () => json(204)));
    const list = await section('Where you are signed in');
    await userEvent.click(within(list).getByRole('button', { name: 'Log out everywhere' }));
    await userEvent.click(within(list).getByRole('button', { name: 'Yes, log out everywhere' }));
    await vi.waitFor(() => expect(session.getState().status).toBe('anonymous'));
    expect(server.requests.some((r) => r.path === '/api/v1/auth/logout-all')).toBe(true);
  });

  it('shows the sessions error with its message', async () => {
    await setup(on('GET', '/api/v1/auth/sessions', () => apiError(503, 'OVERLOADED', 'Kith is busy.')));
    const list = await section('Where you are signed in');
    expect((await within(list).findByRole('alert')).textContent).toContain('Kith is busy.');
  });

  it('requests an export, shows its progress and then the download link', async () => {
    let current: DataExport | undefined;
    const keys: (string | null)[] = [];
    const { server } = await setup(
      on('GET', '/api/v1/me/export', () =>
        current ? json(200, current) : apiError(404, 'NOT_FOUND', 'None.'),
      ),
      on('POST', '/api/v1/me/export', (request) => {
        keys.push(request.headers.get('idempotency-key'));
        current = exportOf({});
        return json(202, current);
      }),
    );
    const box = await section('Export your data');
    expect(await within(box).findByText('You have not asked for an export yet.')).toBeTruthy();
    await userEvent.click(within(box).getByRole('button', { name: 'Export my data' }));
    expect(await within(box).findByText(/Your export is being prepared/)).toBeTruthy();
    expect(within(box).getByRole('button', { name: 'Preparing export…' })).toHaveProperty('disabled', true);
    current = exportOf({
      status: 'ready',
      sizeBytes: 2_500_000,
      completedAt: new Date().toISOString(),
      download: {
        url: '/api/v1/me/export/x/download?expires=1&sig=abc',
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    const link = await within(box).findByRole('link', { name: 'Download your data' }, { timeout: 8000 });
    expect(link.getAttribute('href')).toBe('/api/v1/me/export/x/download?expires=1&sig=abc');
    expect(within(box).getByText(/Your export is ready \(2\.4 MB\)/)).toBeTruthy();
    expect(keys).toHaveLength(1);
    expect(
      server.requests.filter((r) => r.path === '/api/v1/me/export' && r.method === 'GET').length,
    ).toBeGreaterThan(1);
  });

  it('deletes the account only with the password and the confirmation, then says when data is erased', async () => {
    const { server } = await setup(
      on('DELETE', '/api/v1/me', async (request) => {
        const body = (await request.clone().json()) as { password: string };
        return body.password === 'right'
          ? json(202, { status: 'deactivated', eraseAfter: '2026-12-31T10:00:00.000Z' })
          : apiError(403, 'WRONG_PASSWORD', 'The password is wrong.');
      }),
    );
    const box = await section('Delete your account');
    expect(within(box).getByText(/erased for good/)).toBeTruthy();
    expect(within(box).getByText(/Kept:/)).toBeTruthy();
    const submit = within(box).getByRole('button', { name: 'Delete my account' });
    await userEvent.type(within(box).getByLabelText('Your password, to confirm'), 'wrong');
    expect(submit).toHaveProperty('disabled', true);
    await userEvent.click(within(box).getByRole('checkbox', { name: /I understand/ }));
    await userEvent.click(submit);
    expect((await within(box).findByRole('alert')).textContent).toContain('The password is wrong.');
    await userEvent.clear(within(box).getByLabelText('Your password, to confirm'));
    await userEvent.type(within(box).getByLabelText('Your password, to confirm'), 'right');
    await userEvent.click(submit);
    expect(
      (await screen.findByText(/Its data will be erased on December 31, 2026/)).getAttribute('role'),
    ).toBe('status');
    expect(server.requests.filter((r) => r.path === '/api/v1/me' && r.method === 'DELETE')).toHaveLength(2);
  });
});
