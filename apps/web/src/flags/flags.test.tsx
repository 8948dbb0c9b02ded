import { render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { session } from '../auth/session.ts';
import { loadFlags, refreshFlags, resetFlagsForTests, useFlag } from './use-flag.ts';

const KEY = 'feed-new-posts-event';
const ANA = { id: '0191f6a0-0000-7000-8000-000000000001', username: 'ana', displayName: 'Ana' };

/**
 * The server's GET /api/v1/flags as the contract defines it: evaluated for the caller named by the
 * bearer token (anonymous callers are in no rollout), killed for everyone when `killed`.
 */
class FakeFlagsEndpoint {
  reads: (string | null)[] = [];
  killed = false;
  fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    const path = new URL(request.url).pathname;
    if (path === '/api/v1/auth/logout') return new Response(null, { status: 204 });
    if (path !== '/api/v1/flags') return new Response('{}', { status: 404 });
    const auth = request.headers.get('authorization');
    this.reads.push(auth);
    const on = auth === 'Bearer at-ana' && !this.killed;
    const body = {
      flags: {
        [KEY]: on
          ? { value: true, variant: 'on', reason: 'SPLIT' }
          : { value: false, variant: 'off', reason: this.killed ? 'DISABLED' : 'DEFAULT' },
        'compose.max-images': { value: 4, variant: 'four', reason: 'DEFAULT' },
      },
    };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
}

function Probe() {
  const live = useFlag(KEY, false);
  const asText = useFlag(KEY, 'fallback'); // the wrong type: the default
  const missing = useFlag('no-such-flag', true);
  const images = useFlag('compose.max-images', 1);
  return <p>{`live=${live} text=${asText} missing=${missing} images=${images}`}</p>;
}

describe('useFlag', () => {
  let server: FakeFlagsEndpoint;
  beforeEach(() => {
    server = new FakeFlagsEndpoint();
    vi.stubGlobal('fetch', server.fetch);
    resetFlagsForTests();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('answers the default until loaded, then the server’s evaluation; re-reads on sign-in, sign-out and refresh', async () => {
    render(<Probe />);
    // first render: the SDK is not loaded yet, every flag is its default
    expect(screen.getByText('live=false text=fallback missing=true images=1')).toBeTruthy();
    await screen.findByText('live=false text=fallback missing=true images=4');
    expect(server.reads).toEqual([null]);

    session.signedIn({
      user: { ...ANA, email: 'ana@example.com', role: 'user' },
      accessToken: 'at-ana',
      accessTokenExpiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
      refreshToken: 'rt',
    } as never);
    await screen.findByText('live=true text=fallback missing=true images=4');
    expect(server.reads).toEqual([null, 'Bearer at-ana']);

    // the kill switch thrown on the server reaches the app at its next read
    server.killed = true;
    await refreshFlags();
    await screen.findByText('live=false text=fallback missing=true images=4');

    server.killed = false;
    await refreshFlags();
    await screen.findByText('live=true text=fallback missing=true images=4');
    await session.signOut();
    await screen.findByText('live=false text=fallback missing=true images=4');
    expect(server.reads.at(-1)).toBeNull();
  });

  it('keeps the defaults when the flags cannot be loaded, and tries again on the next use', async () => {
    let attempts = 0;
    const failing = () => {
      attempts += 1;
      return Promise.reject(new Error('offline'));
    };
    await expect(loadFlags(failing)).rejects.toThrow('offline');
    render(<Probe />);
    expect(screen.getByText('live=false text=fallback missing=true images=1')).toBeTruthy();
    await waitFor(() => expect(server.reads.length).toBe(1)); // the next use loaded the real SDK
    await screen.findByText('live=false text=fallback missing=true images=4');
    expect(attempts).toBe(1);
  });
});
