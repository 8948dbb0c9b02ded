import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../platform/errors.ts';
import { createMetrics } from '../../platform/observability/metrics.ts';
import { SendBatcher, type SendBatcherOptions } from './chat.batcher.ts';
import type { SendDraft, SendOutcome } from './chat.repository.ts';

const draft = (conversationId: string, n: number): SendDraft => ({
  id: `m-${n}`,
  conversationId,
  senderId: 'u',
  clientMessageId: `c-${n}`,
  body: `body ${n}`,
});

/** An error as pg reports one from the server. */
const serverError = (code: string) => {
  const err = new pg.DatabaseError(`sqlstate ${code}`, 0, 'error');
  err.code = code;
  err.severity = 'ERROR';
  return err;
};

interface Call {
  drafts: SendDraft[];
  signal: AbortSignal;
  finish: () => void;
  fail: (err: unknown) => void;
}

/** Round trips the test finishes by hand; each outcome names the draft it answers. */
function roundTrips(fail?: (d: SendDraft) => unknown) {
  const calls: Call[] = [];
  const run = (drafts: readonly SendDraft[], signal: AbortSignal) =>
    new Promise<SendOutcome[]>((resolve, reject) => {
      calls.push({
        drafts: [...drafts],
        signal,
        finish: () => {
          const failure = drafts.map((d) => fail?.(d)).find((e) => e !== undefined);
          if (failure !== undefined) reject(failure);
          else resolve(drafts.map((d) => ({ status: 'duplicate', draftId: d.id }) as SendOutcome));
        },
        fail: reject,
      });
    });
  return { calls, run };
}

const tick = () => new Promise((r) => setImmediate(r));
const ids = (calls: Call[]) => calls.map((c) => c.drafts.map((d) => d.id));

function batcher(run: ReturnType<typeof roundTrips>['run'], options: SendBatcherOptions = {}) {
  const clock = { now: 0 };
  const metrics = createMetrics();
  const b = new SendBatcher(run, {
    maxBatch: 100,
    timeoutMs: 60_000,
    now: () => clock.now,
    metrics,
    ...options,
  });
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = await metrics.registry.getSingleMetric(name)!.get();
    return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  };
  return { b, clock, value };
}

/** What a refused send was refused with. */
async function refusal(promise: Promise<unknown>) {
  const err = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const app = err as AppError;
  return { code: app.code, retryable: app.retryable, retryAfterMs: app.retryAfterMs, status: app.statusCode };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SendBatcher: group commit', () => {
  it('sends alone at once when idle; what arrives meanwhile goes together, in conversation order', async () => {
    const { calls, run } = roundTrips();
    const { b } = batcher(run);
    const first = b.send(draft('b', 1));
    expect(ids(calls)).toEqual([['m-1']]);
    const later = [draft('b', 2), draft('a', 3), draft('b', 4), draft('a', 5)].map((d) => b.send(d));
    await tick();
    expect(calls).toHaveLength(1); // nothing waits on a timer, but nothing overtakes the round trip
    calls[0]!.finish();
    await first;
    await tick();
    // conversation order, each conversation in arrival order
    expect(calls[1]!.drafts.map((d) => d.id)).toEqual(['m-3', 'm-5', 'm-2', 'm-4']);
    calls[1]!.finish();
    // each caller gets the outcome of its own draft
    expect((await Promise.all(later)).map((o) => (o as { draftId?: string }).draftId)).toEqual([
      'm-2',
      'm-3',
      'm-4',
      'm-5',
    ]);
  });

  it('carries at most `maxBatch` sends per round trip', async () => {
    const { calls, run } = roundTrips();
    const { b } = batcher(run, { maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => b.send(draft('a', n)));
    for (let i = 0; i < 3; i++) {
      await tick();
      calls[i]!.finish();
    }
    await Promise.all(all);
    expect(calls.map((c) => c.drafts.length)).toEqual([1, 2, 2]);
  });
});

describe('SendBatcher: a failed batch', () => {
  it('one send at fault (integrity, data, RAISE): retried one send at a time, only that send fails', async () => {
    for (const code of ['23505', '22P05', 'P0001']) {
      const { calls, run } = roundTrips((d) => (d.id === 'm-3' ? serverError(code) : undefined));
      const { b } = batcher(run);
      const first = b.send(draft('a', 1));
      const rest = Promise.allSettled([2, 3, 4].map((n) => b.send(draft('a', n))));
      calls[0]!.finish();
      await first;
      for (let i = 1; i <= 4; i++) {
        await tick();
        calls[i]!.finish();
      }
      const settled = await rest;
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((settled[1] as PromiseRejectedResult).reason.code).toBe(code);
      expect(ids(calls)).toEqual([['m-1'], ['m-2', 'm-3', 'm-4'], ['m-2'], ['m-3'], ['m-4']]);
      expect(b.stats.circuit).toBe('closed');
    }
  });

  it('no database (connection, timeout, shutdown, too many connections): the whole batch is refused at once as retryable, never split', async () => {
    const failures = [
      serverError('57014'),
      serverError('57P01'),
      serverError('53300'),
      serverError('08006'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
    ];
    for (const failure of failures) {
      const { calls, run } = roundTrips();
      const { b, value } = batcher(run, { breakerFailures: 10 });
      const first = b.send(draft('a', 1));
      const rest = [2, 3, 4].map((n) => refusal(b.send(draft('a', n))));
      calls[0]!.finish();
      await first;
      await tick();
      calls[1]!.fail(failure);
      for (const refused of rest) {
        expect(await refused).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true, status: 503 });
      }
      expect(ids(calls)).toEqual([['m-1'], ['m-2', 'm-3', 'm-4']]);
      expect(await value('kith_chat_send_refused_total', { reason: 'unavailable' })).toBe(3);
    }
  });

  it('contention (deadlock, serialization): refused as retryable, not split, and the database counts as answering', async () => {
    const { calls, run } = roundTrips();
    const { b } = batcher(run, { breakerFailures: 1 });
    const sends = [1, 2].map((n) => refusal(b.send(draft('a', n))));
    calls[0]!.fail(serverError('40P01'));
    expect(await sends[0]!).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
    await tick();
    calls[1]!.fail(serverError('40001'));
    expect(await sends[1]!).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
    expect(b.stats.circuit).toBe('closed');
  });

  it('a bug (anything else): the batch fails with its error, not split, not retryable', async () => {
    const { calls, run } = roundTrips();
    const { b } = batcher(run);
    const first = b.send(draft('a', 1));
    const rest = Promise.allSettled([2, 3].map((n) => b.send(draft('a', n))));
    calls[0]!.finish();
    await first;
    await tick();
    calls[1]!.fail(serverError('42883'));
    const settled = await rest;
    expect(settled.map((s) => (s as PromiseRejectedResult).reason?.code)).toEqual(['42883', '42883']);
    expect(calls).toHaveLength(2);
  });

  it('a round trip not answered within the deadline is aborted and its sends refused; the next batch goes', async () => {
    vi.useFakeTimers();
    const { calls, run } = roundTrips();
    const { b, value } = batcher(run, { timeoutMs: 1000, breakerFailures: 5 });
    const hung = refusal(b.send(draft('a', 1)));
    const next = b.send(draft('a', 2));
    expect(calls[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls[0]!.signal.aborted).toBe(true); // the round trip lets go of its connection
    expect(await hung).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true });
    expect(ids(calls)).toEqual([['m-1'], ['m-2']]);
    calls[1]!.finish();
    await expect(next).resolves.toMatchObject({ status: 'duplicate' });
    calls[0]!.finish(); // answering late changes nothing
    expect(await value('kith_chat_send_refused_total', { reason: 'timeout' })).toBe(1);
  });
});

describe('SendBatcher: bounded queue', () => {
  it('refuses a send at once when `queueMax` are already waiting, and reports the queue', async () => {
    const { calls, run } = roundTrips();
    const { b, value } = batcher(run, { queueMax: 3 });
    const flying = b.send(draft('a', 0));
    const waiting = [1, 2, 3].map((n) => b.send(draft('a', n)));
    expect(await refusal(b.send(draft('a', 4)))).toEqual({
      code: 'OVERLOADED',
      retryable: true,
      retryAfterMs: 1000,
      status: 503,
    });
    expect(b.stats).toMatchObject({ queued: 3, highWater: 3 });
    expect(await value('kith_chat_send_queue_length')).toBe(3);
    expect(await value('kith_chat_send_refused_total', { reason: 'queue_full' })).toBe(1);
    calls[0]!.finish();
    await flying;
    await tick();
    expect(b.stats.queued).toBe(0);
    expect(await value('kith_chat_send_queue_length')).toBe(0);
    calls[1]!.finish();
    await Promise.all(waiting);
    expect(await value('kith_chat_send_queue_high_water')).toBe(3);
  });
});

describe('SendBatcher: circuit breaker', () => {
  it('opens after consecutive failures: every send is then refused at once, without a round trip', async () => {
    const { calls, run } = roundTrips();
    const { b, clock, value } = batcher(run, { breakerFailures: 2, breakerResetMs: 5000 });
    const a = b.send(draft('a', 1));
    calls[0]!.fail(serverError('57P03'));
    await refusal(a);
    const c = b.send(draft('a', 2));
    calls[1]!.fail(new Error('timeout exceeded when trying to connect'));
    await refusal(c);
    expect(b.stats.circuit).toBe('open');
    expect(await value('kith_db_circuit_state', { circuit: 'chat_send' })).toBe(2);
    clock.now = 1500;
    const refused = await Promise.all([3, 4, 5].map((n) => refusal(b.send(draft('a', n)))));
    expect(refused).toEqual(
      [3, 4, 5].map(() => ({
        code: 'DATABASE_UNAVAILABLE',
        retryable: true,
        retryAfterMs: 3500,
        status: 503,
      })),
    );
    expect(calls).toHaveLength(2);
    expect(await value('kith_chat_send_refused_total', { reason: 'circuit_open' })).toBe(3);
  });

  it('after the reset timeout one batch probes: sends meanwhile wait for it; success closes the circuit', async () => {
    const { calls, run } = roundTrips();
    const { b, clock, value } = batcher(run, { breakerFailures: 1, breakerResetMs: 1000 });
    const a = b.send(draft('a', 1));
    calls[0]!.fail(serverError('08006'));
    await refusal(a);
    clock.now = 1000;
    const probe = b.send(draft('a', 2));
    const meanwhile = [3, 4].map((n) => b.send(draft('b', n)));
    expect(ids(calls)).toEqual([['m-1'], ['m-2']]);
    expect(b.stats.circuit).toBe('half_open');
    calls[1]!.finish();
    await probe;
    await tick();
    expect(ids(calls)[2]).toEqual(['m-3', 'm-4']);
    calls[2]!.finish();
    await Promise.all(meanwhile);
    expect(b.stats.circuit).toBe('closed');
    expect(await value('kith_db_circuit_state', { circuit: 'chat_send' })).toBe(0);
    expect(await value('kith_db_circuit_transitions_total', { circuit: 'chat_send', to: 'half_open' })).toBe(
      1,
    );
  });

  it('a failed probe opens it again: the sends that waited for it are refused at once', async () => {
    const { calls, run } = roundTrips();
    const { b, clock } = batcher(run, { breakerFailures: 1, breakerResetMs: 1000 });
    const a = b.send(draft('a', 1));
    calls[0]!.fail(serverError('08006'));
    await refusal(a);
    clock.now = 1000;
    const probe = refusal(b.send(draft('a', 2)));
    const meanwhile = [3, 4].map((n) => refusal(b.send(draft('b', n))));
    calls[1]!.fail(serverError('57P01'));
    await probe;
    for (const m of meanwhile) expect(await m).toMatchObject({ retryAfterMs: 1000 });
    expect(calls).toHaveLength(2);
    expect(b.stats.circuit).toBe('open');
  });

  it('guards the other sends (with media) with the same circuit', async () => {
    const { calls, run } = roundTrips();
    const { b } = batcher(run, { breakerFailures: 1 });
    await expect(b.guard(async () => 'stored')).resolves.toBe('stored');
    // a send at fault keeps its own error; the database answered
    await expect(b.guard(() => Promise.reject(serverError('23503')))).rejects.toMatchObject({
      code: '23503',
    });
    expect(b.stats.circuit).toBe('closed');
    expect(await refusal(b.guard(() => Promise.reject(serverError('57014'))))).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      retryable: true,
    });
    expect(b.stats.circuit).toBe('open');
    let ran = false;
    await refusal(
      b.guard(async () => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
    await refusal(b.send(draft('a', 1)));
    expect(calls).toHaveLength(0);
  });
});
