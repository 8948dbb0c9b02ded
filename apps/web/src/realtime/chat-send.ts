import type { ChatMessage, ServerMessage } from '@kith/contract';
import { api, call } from '../api/client.ts';
import { ApiError } from '../api/errors.ts';
import { keepWrite } from '../outbox/index.ts';
import { backoffDelay } from './backoff.ts';
import { chatStore, currentHub } from './realtime.ts';

/** What the person pressed send on; `clientMessageId` is made then, once, and kept for every retry. */
export interface ChatDraft {
  conversationId: string;
  clientMessageId: string;
  body: string;
  mediaIds?: string[];
}

/** An outgoing message as the screens show it until the server's copy arrives. */
export interface Outgoing {
  draft: ChatDraft;
  /** pending: not acknowledged yet (retried by itself); failed: refused, with the server's message; sent. */
  status: 'pending' | 'failed' | 'sent';
  error?: ApiError;
  createdAt: string;
}

/** How long a send over the socket may go unanswered before it goes again over HTTP (same id). */
export const ACK_TIMEOUT_MS = 8000;

const entries = new Map<string, Outgoing>();
const listeners = new Set<() => void>();
let version = 0;

function set(clientMessageId: string, entry: Outgoing) {
  entries.set(clientMessageId, entry);
  version++;
  for (const l of listeners) l();
}

/** The outgoing messages shown as pending/failed; subscribe for changes (useSyncExternalStore). */
export const outgoing = {
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  version: () => version,
  get: (clientMessageId: string) => entries.get(clientMessageId),
  inConversation: (conversationId: string): Outgoing[] =>
    [...entries.values()].filter((e) => e.draft.conversationId === conversationId),
  /** Forgets a failed message (the person chose to discard it). */
  discard(clientMessageId: string) {
    if (entries.delete(clientMessageId)) {
      version++;
      for (const l of listeners) l();
    }
  },
};

/** A new client message id, for the moment the person presses send. */
export function newClientMessageId(): string {
  return crypto.randomUUID();
}

/** 4xx other than 408/429: the server will say the same again; anything else may pass later. */
function isFinal(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 408 &&
    error.status !== 429
  );
}

/** Over the socket: resolves with the ack, rejects with the server's error, or undefined on timeout / not live. */
function viaSocket(draft: ChatDraft): Promise<{ seq: number } | undefined> {
  const hub = currentHub();
  if (hub?.state !== 'live') return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      clearTimeout(timer);
      stop();
      fn();
    };
    const stop = hub.subscribe((event: ServerMessage) => {
      if (event.type === 'message.ack' && event.clientMessageId === draft.clientMessageId) {
        done(() => resolve({ seq: event.seq }));
      } else if (event.type === 'error' && event.clientMessageId === draft.clientMessageId) {
        const error = new ApiError({
          code: event.code,
          message: event.message,
          status: event.retryable ? 503 : 400,
        });
        done(() => (event.retryable ? resolve(undefined) : reject(error)));
      }
    });
    const timer = setTimeout(() => done(() => resolve(undefined)), ACK_TIMEOUT_MS);
    const sent = hub.send({
      type: 'message.send',
      conversationId: draft.conversationId,
      clientMessageId: draft.clientMessageId,
      ...(draft.body ? { body: draft.body } : {}),
      ...(draft.mediaIds?.length ? { mediaIds: draft.mediaIds } : {}),
    });
    if (!sent) done(() => resolve(undefined));
  });
}

async function viaHttp(draft: ChatDraft): Promise<ChatMessage> {
  const result = await call(
    api.POST('/api/v1/conversations/{id}/messages', {
      params: { path: { id: draft.conversationId } },
      body: {
        clientMessageId: draft.clientMessageId,
        ...(draft.body ? { body: draft.body } : {}),
        ...(draft.mediaIds?.length ? { mediaIds: draft.mediaIds } : {}),
      },
    }),
  );
  return result.message as ChatMessage;
}

/** Resolves after `ms`, or sooner when the socket comes back or the browser goes online. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const hub = currentHub();
    const finish = () => {
      clearTimeout(timer);
      stopHub?.();
      window.removeEventListener('online', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    const stopHub = hub?.subscribeState(() => {
      if (hub.state === 'live') finish();
    });
    window.addEventListener('online', finish);
  });
}

/**
 * THE way a chat message is sent (every screen calls this; an outbox may wrap it). The message is
 * shown as pending at once; it goes over the shared socket when live (acknowledged by
 * clientMessageId) and over HTTP otherwise or when no ack comes in time — always with the same
 * clientMessageId, so however often it is tried the server stores it once. Retries with backoff
 * until the server answers; a refusal (4xx) marks it failed with the server's message.
 */
export async function sendChatMessage(draft: ChatDraft): Promise<void> {
  const createdAt = entries.get(draft.clientMessageId)?.createdAt ?? new Date().toISOString();
  set(draft.clientMessageId, { draft, status: 'pending', createdAt });
  // kept in the outbox (IndexedDB) until the server has it: a reload or a crash still sends it
  const settle = keepWrite(
    {
      kind: 'message',
      conversationId: draft.conversationId,
      body: {
        ...(draft.body ? { body: draft.body } : {}),
        ...(draft.mediaIds?.length ? { mediaIds: draft.mediaIds } : {}),
      },
    },
    draft.clientMessageId,
  ).catch(() => async () => {});
  for (let attempt = 0; ; attempt++) {
    try {
      const acked = await viaSocket(draft);
      if (acked) break;
      const message = await viaHttp(draft);
      chatStore.addMessages(message.conversationId, [message]);
      break;
    } catch (error) {
      if (isFinal(error)) {
        set(draft.clientMessageId, { draft, status: 'failed', error: error as ApiError, createdAt });
        void settle.then((done) => done());
        return;
      }
      // no answer, a 5xx or a 429: the same id again after a while is safe (not before Retry-After)
      const delay = backoffDelay(attempt, { baseMs: 1000, capMs: 30_000, random: Math.random });
      await pause(Math.max(delay, error instanceof ApiError ? (error.retryAfterMs ?? 0) : 0));
    }
  }
  set(draft.clientMessageId, { draft, status: 'sent', createdAt });
  void settle.then((done) => done());
}
