import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, call } from '../api/client.ts';
import { ApiError } from '../api/errors.ts';
import { AuthSession, hasSessionHint, type SessionEnv, session } from './session.ts';

const USER = { id: '0191f6a0-0000-7000-8000-000000000001', username: 'ana', displayName: 'Ana' };
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const inFifteenMinutes = () => new Date(Date.now() + 15 * 60_000).toISOString();

/**
 * The server's side of the auth exchange, as the contract defines it: rotating refresh tokens in a
 * cookie jar shared by the tabs (reuse of a rotated token fails), access tokens checked on /me.
 */
class FakeKith {
  refreshCalls = 0;
  requests: Request[] = [];
  private generation = 0;
  valid = new Set<string>();
  cookie: string | undefined = 'rt-0';
  revoked = false;
  inFlight = 0;
  maxConcurrentRefreshes = 0;

  fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    this.requests.push(request);
    const path = new URL(request.url).pathname;
    if (path === '/api/v1/auth/refresh') {
      this.refreshCalls += 1;
      this.inFlight += 1;
      this.maxConcurrentRefreshes = Math.max(this.maxConcurrentRefreshes, this.inFlight);
      // the answer takes a round trip: another tab's refresh could overlap here without the lock
      await new Promise((resolve) => setTimeout(resolve, 10));
      this.inFlight -= 1;
      if (request.headers.get('x-kith-csrf') !== '1') return json(403, err('CSRF_FAILED'));
      if (this.revoked || !this.cookie) {
        setHint(false); // the server drops a dead refresh cookie and its hint
        return json(401, err('INVALID_REFRESH_TOKEN'));
      }
      setHint(true);
      this.generation += 1;
      this.cookie = `rt-${this.generation}`;
      const accessToken = `at-${this.generation}`;
      this.valid.add(accessToken);
      return json(200, { accessToken, accessTokenExpiresAt: inFifteenMinutes(), refreshToken: this.cookie });
    }
    const token = request.headers.get('authorization')?.replace('Bearer ', '');
    if (!token || !this.valid.has(token)) return json(401, err('UNAUTHENTICATED'));
    if (path === '/api/v1/me') return json(200, USER);
    if (path === '/api/v1/auth/logout') return new Response(null, { status: 204 });
    return json(404, err('ROUTE_NOT_FOUND'));
  };

  expire(token: string) {
    this.valid.delete(token);
  }
}
/** The server's readable session hint cookie, beside the HttpOnly refresh cookie. */
const setHint = (on: boolean) => {
  // biome-ignore lint/suspicious/noDocumentCookie: as a Set-Cookie answer would (jsdom has no Cookie Store API)
  document.cookie = on
    ? 'kith_session_hint=1; path=/'
    : 'kith_session_hint=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';
};
const err = (code: string) => ({ error: { code, message: `${code} message`, requestId: `req-${code}` } });

/** The Web Locks API's exclusive mode: one holder at a time, FIFO. */
function fifoLocks(): NonNullable<SessionEnv['locks']> {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, cb: () => Promise<T>): Promise<T> {
      const prev = tails.get(name) ?? Promise.resolve();
      const next = prev.then(cb, cb);
      tails.set(
        name,
        next.catch(() => undefined),
      );
      return next;
    },
  };
}

let kith: FakeKith;
beforeEach(() => {
  kith = new FakeKith();
  setHint(true);
  vi.stubGlobal('fetch', kith.fetch);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the tab session', () => {
  it('restores a session from the refresh cookie, with the CSRF header and no token in the body', async () => {
    const s = new AuthSession();
    await s.restore();
    const state = s.getState();
    expect(state.status).toBe('signedIn');
    expect(state.status === 'signedIn' && state.user.username).toBe('ana');
    const refresh = kith.requests.find((r) => r.url.endsWith('/auth/refresh'))!;
    expect(refresh.headers.get('x-kith-csrf')).toBe('1');
    expect(await refresh.clone().json()).toEqual({});
    s.dispose();
  });

  it('is anonymous (not expired) when there is no cookie', async () => {
    kith.cookie = undefined;
    const s = new AuthSession();
    await s.restore();
    expect(s.getState()).toEqual({ status: 'anonymous', expired: false });
    s.dispose();
  });

  it('sends no refresh at all (nothing to fail with 401) when the session hint cookie is absent', async () => {
    kith.cookie = undefined;
    setHint(false);
    const s = new AuthSession({ sessionHint: hasSessionHint });
    await s.restore();
    expect(s.getState()).toEqual({ status: 'anonymous', expired: false });
    expect(kith.requests).toEqual([]);
    s.dispose();

    // with the hint, the refresh cookie is tried
    kith.cookie = 'rt-0';
    setHint(true);
    const t = new AuthSession({ sessionHint: hasSessionHint });
    await t.restore();
    expect(t.getState().status).toBe('signedIn');
    t.dispose();
  });

  it('answers a 401 with one refresh and one retry, shared by concurrent requests', async () => {
    await session.restore();
    const first = session.accessToken()!;
    kith.expire(first);
    const before = kith.refreshCalls;
    const [a, b] = await Promise.all([call(api.GET('/api/v1/me')), call(api.GET('/api/v1/me'))]);
    expect(a.username).toBe('ana');
    expect(b.username).toBe('ana');
    expect(kith.refreshCalls - before).toBe(1);
    expect(session.accessToken()).not.toBe(first);
  });

  it('goes to the login screen (expired) when the refresh fails after a 401', async () => {
    await session.ready();
    kith.expire(session.accessToken()!);
    kith.revoked = true;
    const error = await call(api.GET('/api/v1/me')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).requestId).toBe('req-UNAUTHENTICATED');
    expect(session.getState()).toEqual({ status: 'anonymous', expired: true });
  });
});

describe('several tabs', () => {
  const tabs: AuthSession[] = [];
  afterEach(() => {
    for (const t of tabs.splice(0)) t.dispose();
  });
  const openTab = (locks: SessionEnv['locks']) => {
    const tab = new AuthSession({ locks, channel: new BroadcastChannel('kith-auth-test') });
    tabs.push(tab);
    return tab;
  };
  const until = async (check: () => boolean) => {
    await vi.waitFor(() => expect(check()).toBe(true), { timeout: 2000, interval: 5 });
  };

  it('refreshes in one tab at a time and shares the new token with the others', async () => {
    const locks = fifoLocks();
    const a = openTab(locks);
    const b = openTab(locks);
    await a.restore();
    await until(() => b.getState().status === 'signedIn');
    const token = a.accessToken()!;
    expect(b.accessToken()).toBe(token);
    // both tabs see the token rejected at once: their refreshes never overlap, so the server
    // never sees one refresh token presented twice
    await Promise.all([a.refresh(token), b.refresh(token)]);
    expect(kith.maxConcurrentRefreshes).toBe(1);
    await until(() => a.accessToken() === b.accessToken());
    expect(a.accessToken()).not.toBe(token);
  });

  it('logs every tab out when one logs out', async () => {
    const locks = fifoLocks();
    const a = openTab(locks);
    const b = openTab(locks);
    await a.restore();
    await until(() => b.getState().status === 'signedIn');
    await a.signOut();
    await until(() => b.getState().status === 'anonymous');
    expect(b.accessToken()).toBeUndefined();
    expect(kith.requests.some((r) => r.url.endsWith('/auth/logout'))).toBe(true);
  });

  it('refreshes silently a minute before the access token expires', async () => {
    const timers: { fn: () => void; ms: number }[] = [];
    const tab = new AuthSession({ setTimer: (fn, ms) => timers.push({ fn, ms }), clearTimer: () => {} });
    tabs.push(tab);
    await tab.restore();
    const scheduled = timers.at(-1)!;
    expect(scheduled.ms).toBeGreaterThan(13 * 60_000);
    expect(scheduled.ms).toBeLessThanOrEqual(14 * 60_000);
    const before = tab.accessToken();
    // the timer fires: the token is "about to expire" from the session's point of view
    (tab as unknown as { state: { expiresAt: number } }).state.expiresAt = Date.now() + 30_000;
    scheduled.fn();
    await until(() => tab.accessToken() !== before);
    expect(kith.refreshCalls).toBe(2);
  });
});
