import type { ChatMessage } from '@kith/contract';

/** The later of two versions of one message (an edit or a delete supersedes the original). */
function newer(a: ChatMessage, b: ChatMessage): ChatMessage {
  if (a.deleted !== b.deleted) return a.deleted ? a : b;
  return (b.editedAt ?? '') > (a.editedAt ?? '') ? b : a;
}

/**
 * The messages of one conversation held by this tab, keyed by seq: whatever path a message comes
 * by (a history page, a poll while the socket is down, a live event, a replay after a resume), it
 * is held once, and `list()` is always in seq order. A later version (edited, deleted) replaces an
 * earlier one; an older version arriving late never undoes it.
 */
export class MessageLog {
  private readonly bySeq = new Map<number, ChatMessage>();
  private ordered: ChatMessage[] | undefined = [];
  /** Older messages exist on the server below the oldest held (unknown until a page says). */
  hasOlder = true;

  /** Adds or updates messages; returns how many were new (not held before). */
  add(messages: readonly ChatMessage[]): number {
    let added = 0;
    for (const message of messages) {
      const held = this.bySeq.get(message.seq);
      if (!held) added++;
      const next = held ? newer(held, message) : message;
      if (next !== held) {
        this.bySeq.set(message.seq, next);
        this.ordered = undefined;
      }
    }
    return added;
  }

  has(seq: number): boolean {
    return this.bySeq.has(seq);
  }

  /** Every message held, in seq order (the same array until something changes). */
  list(): readonly ChatMessage[] {
    this.ordered ??= [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    return this.ordered;
  }

  get size(): number {
    return this.bySeq.size;
  }

  /** The lowest seq held (0 when none). */
  get oldest(): number {
    return this.list()[0]?.seq ?? 0;
  }

  /** The highest seq held (0 when none). */
  get newest(): number {
    return this.list().at(-1)?.seq ?? 0;
  }

  /**
   * The highest seq up to which nothing is missing from the oldest held on: what to resume or
   * poll from (a gap is asked for again rather than skipped).
   */
  get contiguous(): number {
    const list = this.list();
    let top = list[0]?.seq ?? 0;
    for (const m of list) {
      if (m.seq > top + 1) break;
      top = m.seq;
    }
    return top;
  }
}
