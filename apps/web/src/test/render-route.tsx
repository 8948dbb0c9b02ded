import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type AnyRoute, createMemoryHistory, createRouter, RouterProvider } from '@tanstack/react-router';
import { render } from '@testing-library/react';
import { vi } from 'vitest';
import { AuthSession, type Me } from '../auth/session.ts';
import { rootRoute } from '../routes/root.tsx';

type Json = Record<string, unknown> | unknown[] | null;
/** One answer of the fake server: a status and a JSON body (or none, e.g. 204). */
export type Answer = { status: number; body?: Json; headers?: Record<string, string> };
/** Decides the answer to a request; `undefined` falls through to the next handler. */
export type Handler = (request: Request, url: URL) => Answer | undefined | Promise<Answer | undefined>;

export const json = (status: number, body?: Json, headers: Record<string, string> = {}): Answer => ({
  status,
  body: body ?? null,
  headers,
});
/** The server's error body, as the contract defines it. */
export const apiError = (status: number, code: string, message: string, headers?: Record<string, string>) =>
  json(status, { error: { code, message, requestId: `req-${code.toLowerCase()}` } }, headers);

/**
 * A fake Kith at the HTTP boundary: `fetch` is replaced, every request is recorded, and the first
 * handler that answers wins (an unhandled request answers 404 ROUTE_NOT_FOUND, so a missing
 * handler shows up as an error on screen, never as a hang).
 */
export function fakeServer(...handlers: Handler[]) {
  const requests: { method: string; path: string; url: URL; body: unknown }[] = [];
  const stack = [...handlers];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL) => {
    const request = input as Request;
    const url = new URL(request.url);
    const text = request.method === 'GET' ? '' : await request.clone().text();
    requests.push({
      method: request.method,
      path: url.pathname,
      url,
      body: text ? JSON.parse(text) : undefined,
    });
    for (const handler of stack) {
      const answer = await handler(request, url);
      if (answer) {
        return new Response(answer.status === 204 ? null : JSON.stringify(answer.body), {
          status: answer.status,
          headers: { 'content-type': 'application/json', ...answer.headers },
        });
      }
    }
    return new Response(
      JSON.stringify({
        error: { code: 'ROUTE_NOT_FOUND', message: `no fake for ${request.method} ${url.pathname}` },
      }),
      { status: 404, headers: { 'content-type': 'application/json' } },
    );
  });
  return {
    requests,
    /** Handlers added later win over earlier ones (e.g. an error after a first success). */
    use(handler: Handler) {
      stack.unshift(handler);
    },
  };
}

/** Matches a method and a path (`:name` segments match one segment). */
export function on(
  method: string,
  pattern: string,
  respond: (request: Request, url: URL, params: Record<string, string>) => Answer | Promise<Answer>,
): Handler {
  const names: string[] = [];
  const regex = new RegExp(
    `^${pattern.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    })}$`,
  );
  return (request, url) => {
    if (request.method !== method) return undefined;
    const match = regex.exec(url.pathname);
    if (!match) return undefined;
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? '')]));
    return respond(request, url, params);
  };
}

/** The account the tests sign in as, with fields overridable (e.g. a moderator). */
export function me(over: Partial<Me> = {}): Me {
  return {
    id: '0191f6a0-0000-7000-8000-0000000000aa',
    username: 'me',
    email: 'me@example.org',
    displayName: 'Me Myself',
    bio: '',
    emailVerified: true,
    role: 'user',
    createdAt: '2026-01-01T00:00:00.000Z',
    suspension: null,
    ...over,
  };
}

/**
 * A real AuthSession signed in as `user` through the fake server's refresh and /me (never
 * refreshing again during a test).
 */
export async function signedInAs(server: ReturnType<typeof fakeServer>, user: Me): Promise<AuthSession> {
  server.use(on('GET', '/api/v1/me', () => json(200, user)));
  server.use(
    on('POST', '/api/v1/auth/refresh', () =>
      json(200, {
        accessToken: 'at-test',
        accessTokenExpiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
        refreshToken: 'rt-test',
      }),
    ),
  );
  const session = new AuthSession({ setTimer: () => undefined, clearTimer: () => undefined });
  await session.restore();
  if (session.getState().status !== 'signedIn') throw new Error('the fake sign-in failed');
  return session;
}

/** A session that is signed in as far as the route guards are concerned. */
const signedInSession = {
  ready: async () => ({ status: 'signedIn', user: me() }),
} as unknown as AuthSession;

/** Renders the app shell with the given screens at `path`, over a fresh query cache. */
export function renderRoute(routes: AnyRoute[], path: string, session: AuthSession = signedInSession) {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: 30_000 }, mutations: { retry: false } },
  });
  const router = createRouter({
    routeTree: rootRoute.addChildren(routes),
    context: { queryClient, session },
    history: createMemoryHistory({ initialEntries: [path] }),
  });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router as never} />
    </QueryClientProvider>,
  );
  return { ...view, router, queryClient };
}
