import { configure, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiError, fakeServer, json, me, on, renderRoute, signedInAs } from '../../test/render-route.tsx';
import type { HashtagMute, UserMute } from '../../ui/mute/mutes-query.ts';
import { settingsRoute } from './index.ts';

beforeAll(() => import('./settings.lazy.tsx'));
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

const AT = '2026-12-01T10:00:00.000Z';

describe('muted, in settings', () => {
  it('lists muted people and hashtags, unmutes one, and mutes a hashtag typed with its #', async () => {
    let users: UserMute[] = [
      {
        user: {
          id: '0191f6a0-1111-7000-8000-000000000009',
          username: 'loud',
          displayName: 'Loud <b>One</b>',
        },
        mutedAt: AT,
        expiresAt: null,
      },
    ];
    let tags: HashtagMute[] = [];
    const server = fakeServer(
      on('GET', '/api/v1/auth/sessions', () => json(200, { items: [] })),
      on('GET', '/api/v1/me/export', () => apiError(404, 'NOT_FOUND', 'No export yet.')),
      on('GET', '/api/v1/mutes/users', () => json(200, { items: users })),
      on('GET', '/api/v1/mutes/hashtags', () => json(200, { items: tags })),
      on('GET', '/api/v1/mutes/conversations', () => json(200, { items: [] })),
      on('DELETE', '/api/v1/mutes/users/loud', () => {
        users = [];
        return json(204);
      }),
      on('PUT', '/api/v1/mutes/hashtags/spoilers', () => {
        tags = [{ tag: 'spoilers', mutedAt: AT, expiresAt: null }];
        return json(200, tags[0]);
      }),
      on('PUT', '/api/v1/mutes/hashtags/12345', () =>
        apiError(400, 'INVALID_PARAMETER', 'This is not a hashtag.'),
      ),
    );
    renderRoute([settingsRoute], '/settings', await signedInAs(server, me()));
    const region = await screen.findByRole('region', { name: 'Muted' });
    // names are text, never markup
    expect(await within(region).findByText('Loud <b>One</b>')).toBeTruthy();
    expect(within(region).getByText('You have not muted any hashtag.')).toBeTruthy();

    await userEvent.click(within(region).getByRole('button', { name: 'Unmute @loud' }));
    expect(await within(region).findByText('You have not muted anyone.')).toBeTruthy();

    const field = within(region).getByRole('textbox', { name: 'Mute a hashtag' });
    await userEvent.type(field, '12345');
    await userEvent.click(within(region).getByRole('button', { name: 'Mute' }));
    expect((await within(region).findByRole('alert')).textContent).toContain('This is not a hashtag.');

    await userEvent.clear(field);
    await userEvent.type(field, '#spoilers');
    await userEvent.click(within(region).getByRole('button', { name: 'Mute' }));
    expect(await within(region).findByRole('link', { name: '#spoilers' })).toBeTruthy();
    expect((field as HTMLInputElement).value).toBe('');
  });
});
