import { configure, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { session } from '../../auth/session.ts';
import { fakeServer, json, me, on, renderRoute } from '../../test/render-route.tsx';
import { homeRoute } from './index.ts';

// two shared cores: a first render may take seconds, which is no failure
configure({ asyncUtilTimeout: 5000 });
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => vi.unstubAllGlobals());

describe('home: the banners above the screen', () => {
  it('has the verify banner in place before the screen appears, so the screen is never pushed down', async () => {
    fakeServer(on('GET', '/api/v1/feed', () => json(200, { items: [], nextCursor: null })));
    // the app's own session (the shell reads it), signed in as an unverified user
    session.signedIn({
      user: me({ emailVerified: false }),
      accessToken: 'at-test',
      accessTokenExpiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
      refreshToken: 'rt-test',
    });
    // what was in the page the first time the screen's heading was
    let bannerWhenScreenCame: boolean | undefined;
    const watch = new MutationObserver(() => {
      if (bannerWhenScreenCame === undefined && document.querySelector('main h1')) {
        bannerWhenScreenCame = document.querySelector('.verify-banner') !== null;
      }
    });
    watch.observe(document.body, { childList: true, subtree: true });
    try {
      renderRoute([homeRoute], '/', session);
      expect(await screen.findByRole('heading', { level: 1, name: 'Home' })).toBeTruthy();
      expect(await screen.findByRole('region', { name: 'Confirm your e-mail address' })).toBeTruthy();
      expect(bannerWhenScreenCame).toBe(true);
    } finally {
      watch.disconnect();
      session.dispose();
    }
  });
});
