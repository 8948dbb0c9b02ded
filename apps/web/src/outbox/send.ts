import { api, call } from '../api/client.ts';
import { ApiError, NETWORK_ERROR } from '../api/errors.ts';
import type { AttemptOutcome, OutboxItem } from './types.ts';

/** The request for an item, always with the key it got when the person pressed send. */
export function sendItem(item: OutboxItem, signal: AbortSignal): Promise<unknown> {
  const { request, key } = item;
  const header = { 'idempotency-key': key };
  switch (request.kind) {
    case 'post':
      return call(api.POST('/api/v1/posts', { body: request.body, params: { header }, signal }));
    case 'comment':
      return call(
        api.POST('/api/v1/posts/{id}/comments', {
          params: { path: { id: request.postId }, header },
          body: request.body,
          signal,
        }),
      );
    case 'reaction': {
      // PUT and DELETE of one's reaction are idempotent by themselves
      const params = { path: { id: request.postId, kind: request.reaction } };
      return request.on
        ? call(api.PUT('/api/v1/posts/{id}/reactions/{kind}', { params, signal }))
        : call(api.DELETE('/api/v1/posts/{id}/reactions/{kind}', { params, signal }));
    }
    case 'message':
      return call(
        api.POST('/api/v1/conversations/{id}/messages', {
          params: { path: { id: request.conversationId }, header },
          body: { ...request.body, clientMessageId: key },
          signal,
        }),
      );
  }
}

/** Statuses that may pass later: the request timed out, was too early, too many, or is still running. */
const TRANSIENT_4XX = new Set([408, 409, 425, 429]);

/**
 * What to do after an attempt: a 4xx other than the transient ones is the server's final word
 * (shown, waits for an edit or a discard); a 401 after the client's own refresh waits for the
 * session; everything else — no answer, a timeout, a 5xx — is tried again with the same key.
 */
export function classify(error: unknown): AttemptOutcome {
  if (!(error instanceof ApiError) || error.code === NETWORK_ERROR) return { type: 'retry' };
  if (error.status === 401) return { type: 'signedOut' };
  if (error.status >= 400 && error.status < 500 && !TRANSIENT_4XX.has(error.status)) {
    return {
      type: 'refused',
      error: { code: error.code, message: error.message, status: error.status, requestId: error.requestId },
    };
  }
  return { type: 'retry', afterMs: error.retryAfterMs };
}
