import type { BodyOf } from '../api/client.ts';

export type ReactionKind = 'like' | 'love' | 'laugh' | 'wow' | 'sad';

/** What the person asked for, as it will be sent (the key is the item's, not part of it). */
export type OutboxRequest =
  | { kind: 'post'; body: BodyOf<'/api/v1/posts', 'post'> }
  | { kind: 'comment'; postId: string; body: { text: string } }
  | { kind: 'reaction'; postId: string; reaction: ReactionKind; on: boolean }
  | {
      kind: 'message';
      conversationId: string;
      body: { body?: string; mediaIds?: string[] };
    };

/** The server's refusal, kept to show it (an ApiError does not survive IndexedDB). */
export interface OutboxError {
  code: string;
  message: string;
  status: number;
  requestId: string;
}

/**
 * One write waiting to reach the server. `key` is made when the person pressed send and goes with
 * every attempt (Idempotency-Key, and clientMessageId for chat), so a retry after a timeout, a
 * reload or a crash is stored once.
 */
export interface OutboxItem {
  /** Queue order (IndexedDB auto-increment); absent before the item is stored. */
  seq?: number;
  key: string;
  userId: string;
  request: OutboxRequest;
  createdAt: number;
  /** pending: will be sent; failed: refused (4xx), waits for an edit or a discard. */
  state: 'pending' | 'failed';
  attempts: number;
  error?: OutboxError;
}

/** How an attempt ended, as the queue treats it. */
export type AttemptOutcome =
  | { type: 'sent'; value: unknown }
  | { type: 'refused'; error: OutboxError }
  /** no answer, a timeout, a 5xx, 409 (first attempt still running), 408, 425 or 429 */
  | { type: 'retry'; afterMs?: number | undefined }
  /** 401 after the client's own refresh: waits until the session is back */
  | { type: 'signedOut' };
