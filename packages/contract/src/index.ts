import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.d.ts';

export * from './realtime.ts';
export type { components, operations, paths } from './schema.d.ts';

/** The body of every error Kith answers with. */
export type ErrorResponse = components['schemas']['ErrorResponse'];

export type KithClient = Client<paths>;

export interface KithClientOptions {
  /** Where the API is served, e.g. `http://localhost:8080` (paths already start with /api/v1). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; a function is asked before every request (token refresh). */
  accessToken?: string | (() => string | undefined);
  /** Replaces `globalThis.fetch` (tests, instrumentation). */
  fetch?: (input: Request) => Promise<Response>;
}

/**
 * A client typed by the generated contract: paths, parameters, bodies and responses are checked.
 *
 * @example
 * const kith = createKithClient({ baseUrl: 'http://localhost:8080', accessToken: () => token });
 * const { data, error } = await kith.GET('/api/v1/me');
 */
export function createKithClient(options: KithClientOptions): KithClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { accessToken } = options;
  if (accessToken !== undefined) {
    client.use({
      onRequest({ request }) {
        const token = typeof accessToken === 'function' ? accessToken() : accessToken;
        if (token) request.headers.set('Authorization', `Bearer ${token}`);
        return request;
      },
    });
  }
  return client;
}
