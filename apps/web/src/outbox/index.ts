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
  const { getOutbox } = await import('./runtime.ts');
  const box = getOutbox();
  const state = session.getState();
  if (state.status === 'signedIn') await box.setUser(state.user.id);
  return box.submit(request, options);
}
