import type { FastifyInstance } from 'fastify';
import { AppError } from '../../platform/errors.ts';

/** What the guard needs to know about an account (UsersService fits it). */
export interface SuspensionSource {
  get(id: string): Promise<{ suspended_until: Date | null }>;
}

/**
 * The one check that keeps a suspended account read-only: every unsafe HTTP method under /api/v1
 * (a hook, so a new write route is covered without knowing about it) and every chat send over the
 * WebSocket (`guardChatSends`) ask it. Reads the account through the users module's short
 * per-instance cache: exact on the instance that suspended, within its TTL (5 s) elsewhere. The
 * suspension ends by itself at `suspended_until` (a job clears the column afterwards and tells the
 * user).
 */
export class WriteGuard {
  constructor(
    private readonly users: SuspensionSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Until when the user is suspended, or undefined when they may write. */
  async suspendedUntil(userId: string): Promise<Date | undefined> {
    const { suspended_until: until } = await this.users.get(userId);
    return until && until.getTime() > this.now() ? until : undefined;
  }

  /** Throws 403 ACCOUNT_SUSPENDED while the user is suspended. */
  async assertMayWrite(userId: string): Promise<void> {
    const until = await this.suspendedUntil(userId);
    if (until) {
      throw new AppError(
        'ACCOUNT_SUSPENDED',
        `This account is suspended until ${until.toISOString()}: it may read but not write until then.`,
        { until: until.toISOString() },
      );
    }
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Writes a suspended account may still make: its session and security (auth, sessions, password),
 * its data rights (export, deletion), reading (read markers, the realtime ticket), protecting
 * itself (blocks, reports), its push subscription and appealing. Route patterns, optionally for one method.
 */
const ALLOWED: readonly { prefix: string; method?: string }[] = [
  { prefix: '/api/v1/auth/' },
  { prefix: '/api/v1/sessions' },
  { prefix: '/api/v1/me/password' },
  { prefix: '/api/v1/me/export' },
  { prefix: '/api/v1/me', method: 'DELETE' },
  { prefix: '/api/v1/notifications/read' },
  { prefix: '/api/v1/conversations/:id/read' },
  { prefix: '/api/v1/realtime/ticket' },
  // its devices' push channel: not content, and turning pushes off must work while suspended
  { prefix: '/api/v1/push/subscription' },
  { prefix: '/api/v1/rum' },
  { prefix: '/api/v1/blocks/' },
  { prefix: '/api/v1/reports' },
  { prefix: '/api/v1/moderation/notices/:id/appeal' },
];

/** Whether `method` on the route pattern `url` is a write a suspended account may not make. */
export function isGuardedWrite(method: string, url: string): boolean {
  if (!UNSAFE.has(method) || !url.startsWith('/api/v1/')) return false;
  return !ALLOWED.some(
    (a) =>
      (a.method === undefined || a.method === method) &&
      (a.method ? url === a.prefix : url === a.prefix || url.startsWith(a.prefix)),
  );
}

/** The app-level hook: register after authentication (it reads `request.auth`). */
export function registerWriteGuard(app: FastifyInstance, guard: WriteGuard): void {
  app.addHook('onRequest', async (request) => {
    const auth = request.auth;
    if (!auth) return;
    const url = request.routeOptions.url;
    if (url === undefined || !isGuardedWrite(request.method, url)) return;
    await guard.assertMayWrite(auth.userId);
  });
}

/** Wraps the chat port the WebSocket gateway sends through so that its sends ask the guard too. */
export function guardChatSends<C extends { send(userId: string, input: never): Promise<unknown> }>(
  chat: C,
  guard: WriteGuard,
): C {
  // Sends of one user are checked one after another, so they reach the chat service (and take
  // their seq) in the order the socket sent them; the checks do not wait for the sends themselves.
  const tails = new Map<string, Promise<unknown>>();
  const send = (userId: string, input: never) => {
    const checked = (tails.get(userId) ?? Promise.resolve()).then(() => guard.assertMayWrite(userId));
    const tail = checked.catch(() => {});
    tails.set(userId, tail);
    void tail.then(() => {
      if (tails.get(userId) === tail) tails.delete(userId);
    });
    return checked.then(() => chat.send(userId, input));
  };
  return new Proxy(chat, {
    get(target, prop, receiver) {
      if (prop === 'send') return send;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
