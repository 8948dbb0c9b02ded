import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError, NETWORK_ERROR } from '../api/errors.ts';
import { Outbox, type OutboxEnv } from './outbox.ts';
import { classify } from './send.ts';
import { idbOutboxStore } from './store.ts';
import type { OutboxItem, OutboxRequest } from './types.ts';

const post = (text: string): OutboxRequest => ({ kind: 'post', body: { text, visibility: 'friends' } });
const comment = (text: string): OutboxRequest => ({ kind: 'comment', postId: 'p1', body: { text } });
const message = (text: string): OutboxRequest => ({
  kind: 'message',
  conversationId: 'c1',
  body: { body: text },
});
const reaction: OutboxRequest = { kind: 'reaction', postId: 'p1', reaction: 'like', on: true };

const networkError = () => new ApiError({ code: NETWORK_ERROR, message: 'no network', status: 0 });
const refused = (message: string) =>
  new ApiError({ code: 'VALIDATION_FAILED', message, status: 400, requestId: 'req-1' });

/** Timers the test fires itself (the outbox's attempt timeouts and retry delays). */
function manualTimers() {
  let next = 0;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  return {
    setTimer: (fn: () => void, ms: number) => {
      next += 1;
      pending.set(next, { fn, ms });
      return next;
    },
    clearTimer: (handle: unknown) => void pending.delete(handle as number),
    /** Fires every timer of exactly `ms` (an attempt's timeout, say). */
    fire(ms: number) {
      for (const [id, t] of [...pending]) {
        if (t.ms === ms) {
          pending.delete(id);
          t.fn();
        }
      }
    },
    delays: () => [...pending.values()].map((t) => t.ms),
  };
}

/** One Web Lock name at a time, in request order (what navigator.locks gives across tabs). */
function sharedLocks() {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    request<T>(_name: string, cb: () => Promise<T>): Promise<T> {
      const run = tail.then(cb, cb);
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

/** BroadcastChannel between tabs of this test: a message reaches every other end. */
function channels() {
  const ends: { onmessage: ((e: MessageEvent) => void) | null }[] = [];
  return () => {
    const end = {
      onmessage: null as ((e: MessageEvent) => void) | null,
      postMessage(data: unknown) {
        for (const other of ends) {
          if (other !== end) queueMicrotask(() => other.onmessage?.({ data } as MessageEvent));
        }
      },
      close() {},
    };
    ends.push(end);
    return end;
  };
}

interface Sent {
  key: string;
  request: OutboxRequest;
}

/** A scripted server: answers each attempt with the next result (default: success). */
function server(script: (item: OutboxItem, n: number) => Promise<unknown> | unknown = () => ({ ok: true })) {
  const sent: Sent[] = [];
  return {
    sent,
    send: async (item: OutboxItem, signal: AbortSignal) => {
      sent.push({ key: item.key, request: item.request });
      return await new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new DOMException('timed out', 'AbortError')));
        Promise.resolve()
          .then(() => script(item, sent.length))
          .then(resolve, reject);
      });
    },
  };
}

let keys = 0;
function outbox(env: Partial<OutboxEnv> & Pick<OutboxEnv, 'send'>, online = { value: true }) {
  return new Outbox({
    store: idbOutboxStore(),
    online: () => online.value,
    newKey: () => `key-${++keys}`,
    random: () => 0.5,
    timeoutMs: 1000,
    ...manualTimers(),
    ...env,
  });
}

/** Waits until `check` holds, turn by turn of the event loop (IndexedDB answers asynchronously). */
async function until(check: () => boolean | Promise<boolean>, turns = 500) {
  for (let i = 0; i < turns; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 0));
  }
  throw new Error('condition not reached');
}

beforeEach(() => {
  // a fresh database per test
  globalThis.indexedDB = new IDBFactory();
  keys = 0;
});

describe('outbox', () => {
  it('sends at once when online, with the key made when send was pressed, and keeps nothing', async () => {
    const api = server((item) => ({ id: 'post-1', key: item.key }));
    const box = outbox({ send: api.send });
    await box.setUser('u1');
    const result = await box.submit(post('hello'), { key: 'pressed-send-key' });
    expect(result).toEqual({ status: 'sent', value: { id: 'post-1', key: 'pressed-send-key' } });
    expect(api.sent.map((s) => s.key)).toEqual(['pressed-send-key']);
    await until(() => box.getSnapshot().items.length === 0);
  });

  it('keeps writes made offline and sends them in order when the network returns, each once', async () => {
    const online = { value: false };
    const api = server();
    const box = outbox({ send: api.send }, online);
    await box.setUser('u1');
    for (const request of [post('first'), comment('second'), reaction, message('third')]) {
      expect((await box.submit(request)).status).toBe('queued');
    }
    expect(api.sent).toEqual([]);
    expect(box.getSnapshot().items.map((i) => i.state)).toEqual(['pending', 'pending', 'pending', 'pending']);

    online.value = true;
    box.online();
    await until(() => box.getSnapshot().items.length === 0);
    expect(api.sent.map((s) => s.request.kind)).toEqual(['post', 'comment', 'reaction', 'message']);
    expect(new Set(api.sent.map((s) => s.key)).size).toBe(4);
  });

  it('tries again with the same key after no answer, and holds the queue behind it meanwhile', async () => {
    const timers = manualTimers();
    const api = server((_item, n) => {
      if (n <= 2) throw networkError();
      return { ok: true };
    });
    const box = outbox({ send: api.send, ...timers });
    await box.setUser('u1');
    expect((await box.submit(post('one'))).status).toBe('queued');
    // a new write tries the head again first; it fails again, so the new one waits behind it
    expect((await box.submit(post('two'))).status).toBe('queued');
    expect(api.sent.map((s) => s.request)).toEqual([post('one'), post('one')]);
    // exponential backoff with full jitter (random 0.5): half of 1 s, then half of 2 s
    expect(timers.delays()).toContain(1000);
    timers.fire(1000);
    await until(() => box.getSnapshot().items.length === 0);
    expect(api.sent.map((s) => s.key)).toEqual(['key-1', 'key-1', 'key-1', 'key-2']);
  });

  it('abandons an attempt that gets no answer in time and sends it again with the same key', async () => {
    const timers = manualTimers();
    let first = true;
    const api = server(() => {
      if (first) {
        first = false;
        return new Promise(() => {}); // the server committed, the answer never comes
      }
      return { replayed: true };
    });
    const box = outbox({ send: api.send, ...timers, timeoutMs: 1000 });
    await box.setUser('u1');
    const submitted = box.submit(comment('slow'));
    await until(() => api.sent.length === 1);
    timers.fire(1000); // the attempt times out
    await until(() => timers.delays().includes(500));
    timers.fire(500); // the retry delay
    await until(() => box.getSnapshot().items.length === 0);
    expect(api.sent.map((s) => s.key)).toEqual(['key-1', 'key-1']);
    expect((await submitted).status).toBe('queued');
  });

  it("keeps a refused write with the server's message, goes on with the next, and sends an edit under a new key", async () => {
    const api = server((item) => {
      if (item.request.kind === 'comment' && item.request.body.text === 'bad')
        throw refused('Text is too long');
      return { ok: true };
    });
    const online = { value: false };
    const box = outbox({ send: api.send }, online);
    await box.setUser('u1');
    await box.submit(comment('bad'));
    await box.submit(comment('good'));
    online.value = true;
    box.online();
    await until(() => box.getSnapshot().items.length === 1);
    const [failed] = box.getSnapshot().items;
    expect(failed).toMatchObject({
      state: 'failed',
      key: 'key-1',
      error: { status: 400, message: 'Text is too long', requestId: 'req-1' },
    });
    expect(api.sent.map((s) => s.key)).toEqual(['key-1', 'key-2']);

    await box.resend('key-1', 'fixed');
    await until(() => box.getSnapshot().items.length === 0);
    expect(api.sent.at(-1)).toEqual({ key: 'key-3', request: comment('fixed') });
  });

  it('rejects an inline send the server refuses and keeps nothing; discard drops a kept one', async () => {
    const api = server(() => {
      throw refused('Post not found');
    });
    const box = outbox({ send: api.send });
    await box.setUser('u1');
    await expect(box.submit(reaction, { inline: true })).rejects.toMatchObject({
      status: 400,
      message: 'Post not found',
    });
    await until(() => box.getSnapshot().items.length === 0);

    await expect(box.submit(comment('x'))).rejects.toBeInstanceOf(ApiError);
    expect(box.getSnapshot().items).toHaveLength(1);
    await box.discard(box.getSnapshot().items[0]!.key);
    expect(box.getSnapshot().items).toHaveLength(0);
  });

  it('survives a reload: a new outbox over the same database sends what the old one kept', async () => {
    const online = { value: false };
    const before = outbox({ send: server().send }, online);
    await before.setUser('u1');
    await before.submit(message('written offline'), { key: 'client-message-1' });
    before.dispose();

    online.value = true;
    const api = server();
    const after = outbox({ send: api.send }, online);
    await after.setUser('u1');
    await until(() => api.sent.length === 1 && after.getSnapshot().items.length === 0);
    expect(api.sent).toEqual([{ key: 'client-message-1', request: message('written offline') }]);
  });

  it("never sends one user's writes while another is signed in", async () => {
    const online = { value: false };
    const api = server();
    const box = outbox({ send: api.send }, online);
    await box.setUser('alice');
    await box.submit(post("alice's"));
    await box.setUser('bob');
    expect(box.getSnapshot().items).toEqual([]);
    online.value = true;
    await box.submit(post("bob's"));
    await box.drain();
    expect(api.sent.map((s) => s.request)).toEqual([post("bob's")]);
    await box.setUser('alice');
    await until(() => api.sent.length === 2);
    expect(api.sent[1]!.request).toEqual(post("alice's"));
  });

  it('two tabs draining at once send each write exactly once, and both hear the result', async () => {
    const online = { value: false };
    const locks = sharedLocks();
    const channel = channels();
    const api = server();
    const tabA = outbox({ send: api.send, locks, channel: channel() }, online);
    const tabB = outbox({ send: api.send, locks, channel: channel() }, online);
    await tabA.setUser('u1');
    await tabB.setUser('u1');
    await tabA.submit(post('a1'));
    await tabB.submit(comment('b1'));
    await tabA.submit(message('a2'));
    online.value = true;
    tabA.online();
    tabB.online();
    await Promise.all([tabA.drain(), tabB.drain()]);
    await until(() => tabA.getSnapshot().items.length === 0 && tabB.getSnapshot().items.length === 0);
    expect(api.sent.map((s) => s.key)).toEqual(['key-1', 'key-2', 'key-3']);
  });
});

describe('classify', () => {
  it('retries what may pass later and keeps the final word of a 4xx', () => {
    const status = (s: number, retryAfterMs?: number) =>
      classify(new ApiError({ code: 'X', message: 'm', status: s, retryAfterMs }));
    expect(classify(networkError())).toEqual({ type: 'retry' });
    expect(classify(new DOMException('timed out', 'AbortError'))).toEqual({ type: 'retry' });
    expect(status(503, 2000)).toEqual({ type: 'retry', afterMs: 2000 });
    expect(status(500)).toEqual({ type: 'retry', afterMs: undefined });
    for (const s of [408, 409, 425, 429]) expect(status(s).type).toBe('retry');
    expect(status(401)).toEqual({ type: 'signedOut' });
    for (const s of [400, 403, 404, 413, 422]) expect(status(s).type).toBe('refused');
  });
});
