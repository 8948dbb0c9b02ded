import { createKithClient, type KithClient, type paths } from '@kith/contract';
import { i18next } from '../i18n/index.ts';
import { ApiError, NETWORK_ERROR, toApiError } from './errors.ts';

/** The hooks the auth session gives the client: the token to send, and what to do on a 401. */
export interface TokenSource {
  accessToken(): string | undefined;
  /** Gets a fresh access token (one refresh, shared between callers); undefined when signed out. */
  refreshAfter401(rejected: string): Promise<string | undefined>;
}

/** Paths that authenticate by themselves: a 401 there is an answer, not an expired token. */
const NO_RETRY = /\/api\/v1\/auth\/(?:login|signup|refresh)$/;

let tokens: TokenSource = { accessToken: () => undefined, refreshAfter401: async () => undefined };

/** Called once by the auth session. */
export function setTokenSource(source: TokenSource): void {
  tokens = source;
}

/**
 * fetch with the access token, and on a 401 one refresh and one retry (the request is cloned
 * before it is sent, so its body can go again).
 */
async function authedFetch(request: Request): Promise<Response> {
  const token = tokens.accessToken();
  if (token) request.headers.set('Authorization', `Bearer ${token}`);
  const again = token && !NO_RETRY.test(new URL(request.url).pathname) ? request.clone() : undefined;
  const response = await globalThis.fetch(request);
  if (response.status !== 401 || !again || !token) return response;
  const fresh = await tokens.refreshAfter401(token);
  if (!fresh) return response;
  again.headers.set('Authorization', `Bearer ${fresh}`);
  return globalThis.fetch(again);
}

/** The one client every screen uses: the generated contract, same origin. */
export const api: KithClient = createKithClient({
  baseUrl: globalThis.location?.origin ?? 'http://localhost',
  fetch: authedFetch,
});

type FetchResult<T> = { data?: T; error?: unknown; response: Response };

/**
 * Waits for a call of the generated client and returns its data, or throws an ApiError with the
 * server's code, message and request id (or `NETWORK` when no answer came).
 *
 * @example const me = await call(api.GET('/api/v1/me'));
 */
export async function call<T>(pending: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await pending;
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError({ code: NETWORK_ERROR, message: i18next.t('errors.network'), status: 0 });
  }
  if (result.response.ok) return result.data as T;
  throw toApiError(result.error, result.response, i18next.t('errors.unexpected'));
}

/** The JSON body of a path's successful answer, e.g. `ResponseOf<'/api/v1/me', 'get'>`. */
export type ResponseOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? SuccessBody<R>
  : never;
type SuccessBody<R> = R extends { 200: { content: { 'application/json': infer B } } }
  ? B
  : R extends { 201: { content: { 'application/json': infer B } } }
    ? B
    : R extends { 202: { content: { 'application/json': infer B } } }
      ? B
      : never;

/** The JSON body a path accepts. */
export type BodyOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;
