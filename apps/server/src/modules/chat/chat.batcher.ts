import type { SendDraft, SendOutcome } from './chat.repository.ts';

/** The most sends one round trip carries. */
export const MAX_SEND_BATCH = 100;

interface Pending {
  draft: SendDraft;
  resolve: (outcome: SendOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for chat sends. A send that arrives while a round trip is in flight waits for it,
 * then goes with every other send that arrived meanwhile: one statement, one commit. At low load
 * each send goes alone and at once (nothing waits for a timer); under load a round trip carries
 * many messages, and their events reach each socket together (one write for several).
 *
 * A batch runs in conversation order (stable: each conversation keeps its arrival order), so that
 * batches of different instances take the conversation locks in the same order and never deadlock.
 * A batch whose statement fails (one send's constraint, a deadlock) is retried one send at a time,
 * so only the send at fault fails.
 */
export class SendBatcher {
  private queue: Pending[] = [];
  private flying = false;

  constructor(
    private readonly run: (drafts: readonly SendDraft[]) => Promise<SendOutcome[]>,
    private readonly max = MAX_SEND_BATCH,
  ) {}

  send(draft: SendDraft): Promise<SendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, resolve, reject });
      if (!this.flying) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flying = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.max);
        batch.sort((a, b) => compare(a.draft.conversationId, b.draft.conversationId));
        await this.runBatch(batch);
      }
    } finally {
      this.flying = false;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let outcomes: SendOutcome[];
    try {
      outcomes = await this.run(batch.map((p) => p.draft));
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const pending of batch) await this.runBatch([pending]);
      return;
    }
    for (const [i, pending] of batch.entries()) pending.resolve(outcomes[i]!);
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
