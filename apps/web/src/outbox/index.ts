import { session } from '../auth/session.ts';
import type { SubmitResult } from './outbox.ts';
import type { OutboxRequest } from './types.ts';

export type { SubmitResult } from './outbox.ts';
export type { OutboxItem, OutboxRequest, ReactionKind } from './types.ts';

/**
 * The one way a screen sends a post, a comment, a reaction or a chat message: kept in the outbox
 * first (IndexedDB), then sent — now when the network allows, else when it returns — with the key
 * made at the press of send. `inline`: the screen shows a refusal itself (the item is not kept).
 * Loads the outbox on first use.
 */
export async function submitWrite(
  request: OutboxRequest,
  options: { key?: string; inline?: boolean } = {},
): Promise<SubmitResult> {
  if (typeof indexedDB === 'undefined') {
    // nowhere to keep it (no IndexedDB): sent at once, or the screen shows why not
    const { sendItem } = await import('./send.ts');
    const key = options.key ?? crypto.randomUUID();
    const item = { key, userId: '', request, createdAt: Date.now(), state: 'pending' as const, attempts: 0 };
    return { status: 'sent', value: await sendItem(item, new AbortController().signal) };
  }
  const { getOutbox } = await import('./runtime.ts');
  const box = getOutbox();
  const state = session.getState();
  if (state.status === 'signedIn') await box.setUser(state.user.id);
  return box.submit(request, options);
}

/**
 * Keeps a write that its screen delivers by itself (chat over the socket), so that a reload or a
 * crash before delivery still sends it, with the same key. Returns what to call once it is
 * delivered or refused.
 */
export async function keepWrite(request: OutboxRequest, key: string): Promise<() => Promise<void>> {
  if (typeof indexedDB === 'undefined') return async () => {};
  const { getOutbox } = await import('./runtime.ts');
  const box = getOutbox();
  const state = session.getState();
  if (state.status !== 'signedIn') return async () => {};
  await box.setUser(state.user.id);
  return box.keep(request, key);
}
