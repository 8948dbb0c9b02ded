import { configure, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import { staffRoute } from './index.ts';

beforeAll(() => import('./staff.lazy.tsx'));
// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const ana = { id: '0191f6a0-0000-7000-8000-000000000001', username: 'ana', displayName: 'Ana' };
const account = (over: Record<string, unknown>) => ({
  ...ana,
  role: 'user',
  bannedAt: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
const entry = (n: number, action: string) => ({
  id: `0191f6a0-6666-7000-8000-00000000000${n}`,
  at: new Date(Date.now() - n * 60_000).toISOString(),
  action,
  actorId: n === 1 ? null : ana.id,
  targetType: 'user',
  targetId: ana.id,
  ip: '192.0.2.1',
  userAgent: 'test',
  details: {},
});

async function asStaff(role: 'moderator' | 'admin', ...handlers: Parameters<typeof fakeServer>) {
  const server = fakeServer(
    on('GET', '/api/v1/users', () => json(200, { items: [ana] })),
    ...handlers,
  );
  const session = await signedInAs(server, me({ role }));
  renderRoute([staffRoute], '/staff', session);
  return server;
}

describe('staff screen', () => {
  it('is not found for a plain user', async () => {
    const server = fakeServer();
    renderRoute([staffRoute], '/staff', await signedInAs(server, me({ role: 'user' })));
    expect(await screen.findByRole('heading', { level: 1, name: 'Page not found' })).toBeTruthy();
  });

  it('lets a moderator find and ban a user after confirming, without role change or audit log', async () => {
    const server = await asStaff(
      'moderator',
      on('POST', '/api/v1/admin/users/:id/ban', () =>
        json(200, account({ bannedAt: new Date().toISOString() })),
      ),
    );
    await userEvent.type(await screen.findByRole('searchbox', { name: 'Username or name' }), 'an');
    const row = (await screen.findByRole('link', { name: 'Ana' })).closest('li') as HTMLElement;
    expect(within(row).queryByRole('combobox')).toBeNull();
    expect(screen.queryByRole('region', { name: 'Audit log' })).toBeNull();
    await userEvent.click(within(row).getByRole('button', { name: 'Ban' }));
    await userEvent.click(within(row).getByRole('button', { name: 'Yes, ban' }));
    expect(await within(row).findByText('Banned (User).')).toBeTruthy();
    expect(server.requests.some((r) => r.path === `/api/v1/admin/users/${ana.id}/ban`)).toBe(true);
  });

  it('lets an admin change a role, and shows a refusal with its message', async () => {
    let refuse = false;
    const server = await asStaff(
      'admin',
      on('GET', '/api/v1/admin/audit-log', () => json(200, { items: [], nextCursor: null })),
      on('POST', '/api/v1/admin/users/:id/role', async (request) =>
        refuse
          ? apiError(403, 'FORBIDDEN', 'Admins cannot demote the last admin.')
          : json(200, account({ role: ((await request.json()) as { role: string }).role })),
      ),
    );
    await userEvent.type(await screen.findByRole('searchbox', { name: 'Username or name' }), 'an');
    await userEvent.selectOptions(await screen.findByRole('combobox', { name: 'Role of Ana' }), 'moderator');
    await userEvent.click(screen.getByRole('button', { name: 'Set role of Ana' }));
    expect(await screen.findByText('Role is now Moderator.')).toBeTruthy();
    expect(server.requests.find((r) => r.path.endsWith('/role'))?.body).toEqual({ role: 'moderator' });
    refuse = true;
    await userEvent.click(screen.getByRole('button', { name: 'Set role of Ana' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Admins cannot demote the last admin.');
  });

  it('shows the audit log to an admin, page by page, and says when it is empty or failing', async () => {
    let page = 0;
    await asStaff(
      'admin',
      on('GET', '/api/v1/admin/audit-log', (_r, url) => {
        page += 1;
        return url.searchParams.get('cursor') === 'older'
          ? json(200, { items: [entry(3, 'account.delete')], nextCursor: null })
          : json(200, { items: [entry(1, 'flag.change'), entry(2, 'user.ban')], nextCursor: 'older' });
      }),
    );
    const log = await screen.findByRole('region', { name: 'Audit log' });
    const table = await within(log).findByRole('table', { name: 'Audit log entries, newest first' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(within(table).getByText('Kith')).toBeTruthy();
    await userEvent.click(within(log).getByRole('button', { name: 'Load older entries' }));
    expect(await within(table).findByText('account.delete')).toBeTruthy();
    expect(within(log).queryByRole('button', { name: 'Load older entries' })).toBeNull();
    expect(page).toBe(2);
  });

  it('shows an audit log error with its message', async () => {
    await asStaff(
      'admin',
      on('GET', '/api/v1/admin/audit-log', () => apiError(503, 'OVERLOADED', 'Kith is busy.')),
    );
    const log = await screen.findByRole('region', { name: 'Audit log' });
    expect((await within(log).findByRole('alert')).textContent).toContain('Kith is busy.');
  });
});
