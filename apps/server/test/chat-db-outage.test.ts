import type { ServerMessage } from '@kith/contract';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { buildAppOn, type PrivatePostgres, startPrivatePostgres } from './helpers/private-postgres.ts';
import { connect, type TestSocket } from './helpers/ws-client.ts';

/**
 * Chat sends while PostgreSQL hangs (SIGSTOP on a server of this file's own): every send is
 * answered — acknowledged, or refused with a retryable error — instead of waiting for the database;
 * the queue stays within its bound; and once the server runs again, every refused send resent with
 * its clientMessageId is stored exactly once, with gapless seqs.
 */

const SENDS_PER_SOCKET = 100; // two sockets: 200 sends
const BEFORE = 3; // messages each conversation holds before the outage

let db: PrivatePostgres;
let t: TestApp;
let base: string;

beforeAll(async () => {
  db = await startPrivatePostgres();
  t = await buildAppOn(db.url, {
    ...GENEROUS_AUTH_LIMITS,
    CHAT_FRIENDS_ONLY: 'false',
    REALTIME_MAX_MESSAGES_PER_10S: '10000',
    CHAT_SEND_QUEUE_MAX: '50',
    CHAT_SEND_TIMEOUT_MS: '1000',
    CHAT_SEND_BREAKER_FAILURES: '2',
    CHAT_SEND_BREAKER_RESET_MS: '1000',
  });
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  // the server runs again before the app closes its pools, and is stopped whatever happened
  db?.resume();
  try {
    await t?.close();
  } finally {
    await db?.stop();
  }
}, 60_000);

type Answer = Extract<ServerMessage, { type: 'message.ack' | 'error' }>;

/** Resolves once every id has an ack or an error among the events from index `from` on. */
function answers(socket: TestSocket, ids: readonly string[], from: number, timeoutMs = 60_000) {
  return new Promise<Map<string, Answer>>((resolve, reject) => {
    const wanted = new Set(ids);
    const got = new Map<string, Answer>();
    const check = () => {
      for (const event of socket.events.slice(from)) {
        if (event.type !== 'message.ack' && event.type !== 'error') continue;
        const id = event.clientMessageId;
        if (id !== undefined && wanted.has(id) && !got.has(id)) got.set(id, event);
      }
      if (got.size === wanted.size) {
        done();
        resolve(got);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${got.size}/${wanted.size} sends answered within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.ws.off('message', check);
    };
    socket.ws.on('message', check);
    check();
  });
}

async function conversation(owner: TestUser, other: TestUser): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/conversations',
    headers: owner.headers,
    payload: { usernames: [other.username] },
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json().id;
}

const frame = (conversationId: string, clientMessageId: string) => ({
  type: 'message.send',
  conversationId,
  clientMessageId,
  body: `message ${clientMessageId}`,
});

describe('chat send while PostgreSQL hangs', () => {
  it('answers every send at once, keeps the queue bounded, and stores each resent message exactly once', async () => {
    const [a, b, c, d] = [await createUser(t), await createUser(t), await createUser(t), await createUser(t)];
    const senders = [
      { user: a, conversationId: await conversation(a, b), prefix: 'a' },
      { user: c, conversationId: await conversation(c, d), prefix: 'c' },
    ];
    const sockets = await Promise.all(senders.map((s) => connect(base, s.user.accessToken)));
    // a few messages go through while the database answers
    for (const [i, s] of senders.entries()) {
      const ids = Array.from({ length: BEFORE }, (_, n) => `${s.prefix}-before-${n}`);
      const from = sockets[i]!.events.length;
      for (const id of ids) sockets[i]!.send(frame(s.conversationId, id));
      for (const answer of (await answers(sockets[i]!, ids, from)).values()) {
        expect(answer.type).toBe('message.ack');
      }
    }

    const frozen = await db.pause();
    expect(frozen.length).toBeGreaterThan(1); // the postmaster and at least one backend

    // 200 sends arrive while nothing answers
    const ids = senders.map((s) => Array.from({ length: SENDS_PER_SOCKET }, (_, n) => `${s.prefix}-${n}`));
    const from = sockets.map((s) => s.events.length);
    for (let n = 0; n < SENDS_PER_SOCKET; n++) {
      for (const [i, s] of senders.entries()) sockets[i]!.send(frame(s.conversationId, ids[i]![n]!));
    }
    const during = await Promise.all(sockets.map((s, i) => answers(s, ids[i]!, from[i]!)));
    const all = during.flatMap((m) => [...m.values()]);
    expect(all).toHaveLength(2 * SENDS_PER_SOCKET);
    const refused = all.filter((e): e is Extract<Answer, { type: 'error' }> => e.type === 'error');
    // the database is frozen: nothing can have been acknowledged, everything was refused as retryable
    expect(refused).toHaveLength(all.length);
    for (const e of refused) {
      expect(e).toMatchObject({ requestType: 'message.send', retryable: true });
      expect(['DATABASE_UNAVAILABLE', 'OVERLOADED']).toContain(e.code);
      expect(e.retryAfterMs).toBeGreaterThan(0);
      expect(typeof e.message).toBe('string');
    }
    // the queue never held more than its bound; the circuit opened, so later sends cost nothing
    const stats = t.services.chat.chat.sendStats;
    expect(stats.queueMax).toBe(t.platform.config.chat.send.queueMax); // CHAT_SEND_QUEUE_MAX reaches it
    expect(stats.highWater).toBeLessThanOrEqual(stats.queueMax);
    expect(stats.queued).toBe(0);
    expect(stats.circuit).not.toBe('closed');
    // and so say the metrics: the queue's high-water mark within the bound, the refusals counted,
    // the circuit open
    const metric = async (name: string, labels: Record<string, string> = {}) => {
      const { values } = await t.platform.metrics.registry.getSingleMetric(name)!.get();
      const match = values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
      return match.reduce((sum, v) => sum + v.value, 0);
    };
    const highWater = await metric('kith_chat_send_queue_high_water');
    expect(highWater).toBeGreaterThan(0);
    expect(highWater).toBeLessThanOrEqual(t.platform.config.chat.send.queueMax);
    expect(await metric('kith_chat_send_queue_length')).toBe(0);
    expect(await metric('kith_chat_send_refused_total')).toBe(2 * SENDS_PER_SOCKET);
    expect(await metric('kith_db_circuit_transitions_total', { circuit: 'chat_send', to: 'open' })).toBe(1);

    // the same condition over REST: 503 with Retry-After and the error body
    const rest = await t.app.inject({
      method: 'POST',
      url: `/api/v1/conversations/${senders[0]!.conversationId}/messages`,
      headers: a.headers,
      payload: { clientMessageId: 'a-rest', body: 'over http' },
    });
    expect(rest.statusCode, rest.body).toBe(503);
    expect(Number(rest.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(rest.json()).toMatchObject({
      error: { code: 'DATABASE_UNAVAILABLE', message: expect.any(String), requestId: expect.any(String) },
    });

    db.resume();

    // every refused send again, with the same clientMessageId, after the wait the server asked for,
    // until each is acknowledged (a resend refused again waits and goes again)
    for (const [i, s] of senders.entries()) {
      let pending = ids[i]!;
      for (let round = 0; pending.length > 0; round++) {
        expect(round, 'resend rounds').toBeLessThan(30);
        const start = sockets[i]!.events.length;
        for (const id of pending) sockets[i]!.send(frame(s.conversationId, id));
        const got = await answers(sockets[i]!, pending, start);
        const again = [...got.values()].filter((e) => e.type === 'error');
        for (const e of again) expect(e).toMatchObject({ retryable: true });
        pending = again.map((e) => e.clientMessageId!);
        const wait = Math.max(0, ...again.map((e) => (e.type === 'error' ? (e.retryAfterMs ?? 0) : 0)));
        // as a client does: wait as long as the server asked before sending again
        if (pending.length > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }

    // the REST send refused during the outage, retried with its clientMessageId: stored once too
    const retried = await t.app.inject({
      method: 'POST',
      url: `/api/v1/conversations/${senders[0]!.conversationId}/messages`,
      headers: a.headers,
      payload: { clientMessageId: 'a-rest', body: 'over http' },
    });
    expect([200, 201], retried.body).toContain(retried.statusCode);
    ids[0]!.push('a-rest');

    // exactly once, gapless
    const check = new pg.Client({ connectionString: db.url });
    await check.connect();
    try {
      for (const [i, s] of senders.entries()) {
        const { rows } = await check.query<{ client_message_id: string; copies: number }>(
          `SELECT client_message_id, count(*)::int AS copies FROM messages
            WHERE conversation_id = $1 GROUP BY client_message_id`,
          [s.conversationId],
        );
        const copies = new Map(rows.map((r) => [r.client_message_id, r.copies]));
        for (const id of ids[i]!) expect(copies.get(id), id).toBe(1);
        expect(rows.every((r) => r.copies === 1)).toBe(true);
        expect(rows).toHaveLength(BEFORE + ids[i]!.length);
        const seqs = await check.query<{ seq: string }>(
          'SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq',
          [s.conversationId],
        );
        expect(seqs.rows.map((r) => Number(r.seq))).toEqual(
          Array.from({ length: BEFORE + ids[i]!.length }, (_, n) => n + 1),
        );
      }
    } finally {
      await check.end();
    }
    expect(t.services.chat.chat.sendStats.circuit).toBe('closed');
  }, 300_000); // generous: the machine may be busy; every wait inside has its own bound
  it('a database that is gone refuses connections: sends are refused as retryable and the circuit opens', async () => {
    db.resume(); // whatever the test before left
    const [a, b] = [await createUser(t), await createUser(t)];
    const conversationId = await conversation(a, b);
    const socket = await connect(base, a.accessToken);
    const from = socket.events.length;
    socket.send(frame(conversationId, 'gone-before'));
    expect((await answers(socket, ['gone-before'], from)).get('gone-before')?.type).toBe('message.ack');

    await db.stop(); // fast shutdown: backends end (57P01), then connections are refused
    const ids = Array.from({ length: 50 }, (_, n) => `gone-${n}`);
    const start = socket.events.length;
    for (const id of ids) socket.send(frame(conversationId, id));
    const got = await answers(socket, ids, start);
    for (const answer of got.values()) {
      expect(answer).toMatchObject({ type: 'error', code: 'DATABASE_UNAVAILABLE', retryable: true });
    }
    expect(t.services.chat.chat.sendStats.circuit).toBe('open');
    // refused at once while open: not queued behind a connection attempt
    const more = socket.events.length;
    socket.send(frame(conversationId, 'gone-more'));
    expect((await answers(socket, ['gone-more'], more)).get('gone-more')).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      retryable: true,
    });
    expect(t.services.chat.chat.sendStats.queued).toBe(0);
  }, 300_000);
});
