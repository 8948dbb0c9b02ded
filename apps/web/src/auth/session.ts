import { api, call, type ResponseOf, setTokenSource } from '../api/client.ts';
import { ApiError } from '../api/errors.ts';

export type Me = ResponseOf<'/api/v1/me', 'get'>;
type AuthResult = ResponseOf<'/api/v1/auth/login', 'post'>;

export type SessionState =
  | { status: 'unknown' }
  | { status: 'anonymous'; expired: boolean }
  | { status: 'signedIn'; user: Me; accessToken: string; expiresAt: number };

/** What tabs tell each other over the BroadcastChannel. */
type TabMessage =
  | { type: 'signedIn'; user: Me; accessToken: string; expiresAt: number }
  | { type: 'signedOut' };

const CHANNEL = 'kith-auth';
const REFRESH_LOCK = 'kith-auth-refresh';
/** The server's non-HttpOnly companion of the refresh cookie (apps/server auth.routes.ts). */
const SESSION_HINT_COOKIE = 'kith_session_hint';
/** Refresh this long before the access token expires (it lives 15 min). */
const REFRESH_LEAD_MS = 60_000;
const MIN_REFRESH_DELAY_MS = 5_000;

export interface SessionEnv {
  locks?: { request<T>(name: string, cb: () => Promise<T>): Promise<T> } | undefined;
  channel?: Pick<BroadcastChannel, 'postMessage' | 'close'> & {
    onmessage: ((event: MessageEvent) => void) | null;
  };
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Who was signed in here last: with no network at start, the app opens as them on their saved data. */
  offlineUser?: () => Promise<Me | undefined>;
  /**
   * Whether the server's session hint cookie is here (set and cleared with the HttpOnly refresh
   * cookie, no secret in it). Without it there is no session to restore, and no refresh is sent
   * (it could only fail with 401). Absent: always try.
   */
  sessionHint?: () => boolean;
}

/**
 * The signed-in state of this tab. The access token lives only in memory; the refresh token only
 * in the HttpOnly cookie, exchanged with the CSRF header. One tab refreshes at a time (a Web Lock),
 * so tabs never present a rotated refresh token twice and trip reuse detection; the new token is
 * shared with the other tabs, and signing out in one tab signs out all of them.
 */
export class AuthSession {
  private state: SessionState = { status: 'unknown' };
  private readonly listeners = new Set<() => void>();
  private inflight: Promise<string | undefined> | undefined;
  private timer: unknown;
  private readonly env: Required<Omit<SessionEnv, 'locks' | 'channel' | 'offlineUser' | 'sessionHint'>> &
    SessionEnv;
  private restoring: Promise<void> | undefined;

  constructor(env: SessionEnv = {}) {
    this.env = {
      now: () => Date.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...env,
    };
    if (this.env.channel) this.env.channel.onmessage = (event) => this.onTabMessage(event.data as TabMessage);
  }

  /** For `useSyncExternalStore`. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): SessionState => this.state;

  accessToken(): string | undefined {
    return this.state.status === 'signedIn' ? this.state.accessToken : undefined;
  }

  /** Once per page load: a tab that finds a refresh cookie stays signed in across reloads. */
  restore(): Promise<void> {
    this.restoring ??= (async () => {
      const token = (this.env.sessionHint?.() ?? true) ? await this.refresh() : undefined;
      if (!token && this.state.status === 'unknown') this.set({ status: 'anonymous', expired: false });
    })();
    return this.restoring;
  }

  /** Resolves once the state is known (after `restore`). */
  async ready(): Promise<SessionState> {
    if (this.state.status === 'unknown') await this.restore();
    return this.state;
  }

  /** After login or signup. */
  signedIn(result: AuthResult): void {
    const expiresAt = Date.parse(result.accessTokenExpiresAt);
    this.set({ status: 'signedIn', user: result.user, accessToken: result.accessToken, expiresAt });
    this.post({ type: 'signedIn', user: result.user, accessToken: result.accessToken, expiresAt });
  }

  /** Replaces the user object (after an edit of the profile). */
  updateUser(user: Me): void {
    if (this.state.status === 'signedIn') this.set({ ...this.state, user });
  }

  /** Logs out this session on the server (best effort) and every tab here. */
  async signOut(everywhere = false): Promise<void> {
    try {
      if (this.accessToken()) {
        await call(api.POST(everywhere ? '/api/v1/auth/logout-all' : '/api/v1/auth/logout'));
      }
    } catch (error) {
      // a session the server no longer knows is logged out already; anything else is reported
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
    } finally {
      this.set({ status: 'anonymous', expired: false });
      this.post({ type: 'signedOut' });
    }
  }

  /**
   * One refresh for every caller of this tab, under a lock shared with the other tabs. A tab that
   * waited for the lock first looks whether another tab has already handed it a newer token.
   */
  refresh(rejected?: string): Promise<string | undefined> {
    this.inflight ??= this.withLock(async () => {
      const current = this.accessToken();
      if (current && current !== rejected && !this.expiresSoon()) return current;
      try {
        const pair = await call(
          api.POST('/api/v1/auth/refresh', { headers: { 'X-Kith-CSRF': '1' }, body: {} }),
        );
        const expiresAt = Date.parse(pair.accessTokenExpiresAt);
        let user = this.state.status === 'signedIn' ? this.state.user : undefined;
        if (!user) {
          // at start: the token is known before the user is
          user = await call(
            api.GET('/api/v1/me', { headers: { Authorization: `Bearer ${pair.accessToken}` } }),
          );
        }
        this.set({ status: 'signedIn', user, accessToken: pair.accessToken, expiresAt });
        this.post({ type: 'signedIn', user, accessToken: pair.accessToken, expiresAt });
        return pair.accessToken;
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          this.set({ status: 'anonymous', expired: this.state.status === 'signedIn' });
          return undefined;
        }
        // offline or the server is down: keep what we have and try again later
        this.schedule(MIN_REFRESH_DELAY_MS);
        if (this.state.status === 'unknown') {
          // at start: open as the last user, on their saved data, without a token until the refresh works
          const user = await this.env.offlineUser?.().catch(() => undefined);
          if (user && this.state.status === 'unknown') {
            this.set({ status: 'signedIn', user, accessToken: '', expiresAt: this.env.now() });
          }
        }
        return this.accessToken();
      }
    }).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Stops timers and the channel (tests, teardown). */
  dispose(): void {
    this.env.clearTimer(this.timer);
    this.env.channel?.close();
  }

  private expiresSoon(): boolean {
    return this.state.status === 'signedIn' && this.state.expiresAt - this.env.now() < REFRESH_LEAD_MS;
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.env.locks ? this.env.locks.request(REFRESH_LOCK, fn) : fn();
  }

  private set(next: SessionState) {
    this.state = next;
    this.env.clearTimer(this.timer);
    if (next.status === 'signedIn') this.schedule(next.expiresAt - REFRESH_LEAD_MS - this.env.now());
    for (const listener of this.listeners) listener();
  }

  private schedule(delayMs: number) {
    this.env.clearTimer(this.timer);
    this.timer = this.env.setTimer(() => void this.refresh(), Math.max(MIN_REFRESH_DELAY_MS, delayMs));
  }

  private post(message: TabMessage) {
    this.env.channel?.postMessage(message);
  }

  private onTabMessage(message: TabMessage) {
    switch (message.type) {
      case 'signedOut':
        if (this.state.status !== 'anonymous') this.set({ status: 'anonymous', expired: false });
        return;
      case 'signedIn':
        // another tab signed in or refreshed: the cookie jar is shared, so its session is this
        // tab's too; use its token instead of refreshing again
        this.set({
          status: 'signedIn',
          user: message.user,
          accessToken: message.accessToken,
          expiresAt: message.expiresAt,
        });
        return;
    }
  }
}

/** The server's session hint cookie is set here: there may be a session to restore. */
export function hasSessionHint(): boolean {
  return document.cookie.split('; ').includes(`${SESSION_HINT_COOKIE}=1`);
}

function browserEnv(): SessionEnv {
  const env: SessionEnv = {};
  if (typeof navigator !== 'undefined' && 'locks' in navigator) env.locks = navigator.locks;
  if (typeof BroadcastChannel !== 'undefined') env.channel = new BroadcastChannel(CHANNEL);
  if (typeof document !== 'undefined') env.sessionHint = hasSessionHint;
  if (typeof indexedDB !== 'undefined') {
    env.offlineUser = () => import('../pwa/last-user.ts').then((m) => m.lastUser.get());
  }
  return env;
}

/** The tab's session; the API client asks it for tokens. */
export const session = new AuthSession(browserEnv());

setTokenSource({
  accessToken: () => session.accessToken(),
  refreshAfter401: (rejected) => session.refresh(rejected),
});
