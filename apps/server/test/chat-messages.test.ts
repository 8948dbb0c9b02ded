import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { userChannel } from '../src/modules/notifications/notifications.service.ts';
import { buildTestApp } from './helpers/app.ts';
import { call, openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { befriend } from './helpers/social.ts';

// a send deadline a busy machine cannot reach while a test holds a conversation's lock on purpose
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, CHAT_SEND_TIMEOUT_MS: '20000' });
const db = t.platform.db.primary;

type Event = {
  type: string;
  message?: { id: string; seq: number; body: string; deleted: boolean };
  [k: string]: unknown;
};

/** Collects the events published on users' channels; `next(n)` waits for the n-th (with a timeout). */
async function listen(...users: TestUser[]) {
  const events = new Map<string, Event[]>(users.map((u) => [u.id, []]));
  const waiters: (() => void)[] = [];
  const unsubscribe = await Promise.all(
    users.map((u) =>
      t.platform.broker.subscribe(userChannel(u.id), (event) => {
        events.get(u.id)!.push(event as Event);
        for (const wake of waiters.splice(0)) wake();
      }),
    ),
  );
  return {
    of: (u: TestUser) => events.get(u.id)!,
    /** Resolves once `user` has received `count` events. */
    async waitFor(user: TestUser, count: number) {
      const deadline = Date.now() + 5_000;
      while (events.get(user.id)!.length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} events`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return events.get(user.id)!;
    },
    close: () => Promise.all(unsubscribe.map((u) => u())),
  };
}

async function pair(): Promise<[TestUser, TestUser, string]> {
  const a = await createUser(t);
  const b = await createUser(t);
  await befriend(t, a, b);
  return [a, b, (await openConversation(t, a, [b])).id];
}

const storedSeqs = async (conversationId: string) =>
  (
    await db
      .selectFrom('messages')
      .select('seq')
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute()
  ).map((r) => Number(r.seq));

describe('sending', () => {
  it('50 concurrent sends to one conversation get seqs exactly 1..50', async () => {
    const [a, b, id] = await pair();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(t, i % 2 ? a : b, 'POST', `/conversations/${id}/messages`, {
          clientMessageId: `m-${i}`,
          body: `message ${i}`,
        }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(201));
    const seqs = results.map((r) => r.json().message.seq as number).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await storedSeqs(id)).toEqual(seqs);
    const conversation = (await call(t, a, 'GET', `/conversations/${id}`)).json();
    expect(conversation.lastSeq).toBe(50);
  });

  it('the same clientMessageId again returns the same message (even concurrently) and takes no seq', async () => {
    const [a, , id] = await pair();
    const first = await call(t, a, 'POST', `/conversations/${id}/messages`, {
      clientMessageId: 'same',
      body: 'hello',
    });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      duplicate: false,
      message: { seq: 1, body: 'hello', clientMessageId: 'same' },
    });
    const again = await call(t, a, 'POST', `/conversations/${id}/messages`, {
      clientMessageId: 'same',
      body: 'hello',
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ duplicate: true, message: first.json().message });

    const racing = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(t, a, 'POST', `/conversations/${id}/messages`, { clientMessageId: 'race', body: 'once' }),
      ),
    );
    expect(racing.map((r) => r.statusCode).sort()).toEqual([...Array(9).fill(200), 201]);
    expect(new Set(racing.map((r) => r.json().message.id)).size).toBe(1);
    expect(racing[0]!.json().message.seq).toBe(2);
    expect((await sendMessage(t, a, id, 'next')).seq).toBe(3);
    expect(await storedSeqs(id)).toEqual([1, 2, 3]);
  });

  it('the same clientMessageId with another body is CLIENT_MESSAGE_ID_REUSED; other senders have their own ids', async () => {
    const [a, b, id] = await pair();
    await sendMessage(t, a, id, 'original', 'cid-1');
    const reused = await call(t, a, 'POST', `/conversations/${id}/messages`, {
      clientMessageId: 'cid-1',
      body: 'other',
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error).toMatchObject({ code: 'CLIENT_MESSAGE_ID_REUSED', details: { seq: 1 } });
    expect((await sendMessage(t, b, id, 'other', 'cid-1')).seq).toBe(2);
    expect(await storedSeqs(id)).toEqual([1, 2]);
  });

  it('publishes message.new to every member after the commit', async () => {
    const a = await createUser(t);
    const [b, c] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    await befriend(t, a, c);
    const group = await openConversation(t, a, [b, c], 'Three');
    const bus = await listen(a, b, c);
    const sent = await sendMessage(t, b, group.id, 'hi all');
    for (const user of [a, b, c]) {
      const [event] = await bus.waitFor(user, 1);
      expect(event).toEqual({
        type: 'message.new',
        message: expect.objectContaining({ id: sent.id, seq: 1 }),
      });
    }
    await bus.close();
  });

  it('to a conversation I am not in: 404, nothing stored, nothing published', async () => {
    const [a, b, id] = await pair();
    const outsider = await createUser(t);
    const bus = await listen(a, b, outsider);
    const res = await call(t, outsider, 'POST', `/conversations/${id}/messages`, {
      clientMessageId: 'x',
      body: 'let me in',
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
    const unknown = await call(t, outsider, 'POST', `/conversations/${crypto.randomUUID()}/messages`, {
      clientMessageId: 'x',
      body: 'anyone?',
    });
    expect(unknown.statusCode).toBe(404);
    expect(await storedSeqs(id)).toEqual([]);
    // a real send afterwards: the first event each member gets is that one
    const sent = await sendMessage(t, a, id, 'members only');
    expect(sent.seq).toBe(1);
    expect((await bus.waitFor(b, 1)).map((e) => e.message?.id)).toEqual([sent.id]);
    expect((await bus.waitFor(a, 1)).map((e) => e.message?.id)).toEqual([sent.id]);
    expect(bus.of(outsider)).toEqual([]);
    await bus.close();
  });

  it('a removal that commits while the send waits for the conversation lock wins: 404, no seq taken', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const c = await createUser(t);
    await befriend(t, a, b);
    await befriend(t, a, c);
    const { id } = await openConversation(t, a, [b, c], 'race');
    await db
      .transaction()
      .execute(async (trx) => {
        // what a removal does: the conversation lock first, then the member row
        await sql`SELECT 1 FROM conversations WHERE id = ${id} FOR UPDATE`.execute(trx);
        await sql`UPDATE conversation_members SET left_at = now() WHERE conversation_id = ${id} AND user_id = ${b.id}`.execute(
          trx,
        );
        const sending = call(t, b, 'POST', `/conversations/${id}/messages`, {
          clientMessageId: 'r',
          body: 'late',
        });
        // the send is queued behind the lock before the removal commits
        await expect
          .poll(
            async () =>
              (
                await sql<{ n: number }>`
                SELECT count(*)::int AS n FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db)
              ).rows[0]!.n,
            { timeout: 5_000 },
          )
          .toBe(1);
        // not awaited here: the send finishes only once this transaction commits
        return { sending };
      })
      .then(async ({ sending }) => {
        const res = await sending;
        expect(res.statusCode, res.body).toBe(404);
      });
    expect(await storedSeqs(id)).toEqual([]);
    expect((await sendMessage(t, a, id, 'after')).seq).toBe(1);
  });

  it('a send the database does not answer in time: 503 DATABASE_UNAVAILABLE with Retry-After; the resend is stored once', async () => {
    // an app of its own, with a short send deadline (CHAT_SEND_TIMEOUT_MS)
    const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, CHAT_SEND_TIMEOUT_MS: '500' });
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    const { id } = await openConversation(t, a, [b]);
    // a long transaction holds the conversation's lock past the send's deadline
    const locker = new pg.Client({ connectionString: t.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [id]);
    const payload = { clientMessageId: 'held-up', body: 'held up' };
    try {
      const res = await call(t, a, 'POST', `/conversations/${id}/messages`, payload);
      expect(res.statusCode, res.body).toBe(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.json()).toEqual({
        error: {
          code: 'DATABASE_UNAVAILABLE',
          message: expect.any(String),
          requestId: res.headers['x-request-id'],
        },
      });
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    // the statement given up on may still commit once the lock is free: the resend finds it
    const again = await call(t, a, 'POST', `/conversations/${id}/messages`, payload);
    expect([200, 201], again.body).toContain(again.statusCode);
    expect(again.json().message).toMatchObject({ seq: 1, body: 'held up', clientMessageId: 'held-up' });
    const stored = await t.platform.db.primary
      .selectFrom('messages')
      .select('seq')
      .where('conversation_id', '=', id)
      .execute();
    expect(stored.map((r) => Number(r.seq))).toEqual([1]);
  });

  it('honours Idempotency-Key like every retryable POST', async () => {
    const [a, , id] = await pair();
    const send = (body: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/conversations/${id}/messages`,
        headers: { ...a.headers, 'idempotency-key': 'key-1' },
        payload: { clientMessageId: 'k', body },
      });
    const first = await send('hello');
    expect(first.statusCode).toBe(201);
    const replay = await send('hello');
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((await send('changed')).statusCode).toBe(422);
  });
});

describe('editing and deleting', () => {
  it('the author edits and deletes; members get message.updated and message.deleted; the seq stays', async () => {
    const [a, b, id] = await pair();
    const sent = await sendMessage(t, a, id, 'tpyo', 'orig');
    const bus = await listen(a, b);
    expect((await call(t, b, 'PATCH', `/messages/${sent.id}`, { body: 'not mine' })).statusCode).toBe(404);
    const edited = await call(t, a, 'PATCH', `/messages/${sent.id}`, { body: 'typo' });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ id: sent.id, seq: 1, body: 'typo', deleted: false });
    expect(edited.json().editedAt).toBeTypeOf('string');
    expect((await call(t, b, 'DELETE', `/messages/${sent.id}`)).statusCode).toBe(404);
    expect((await call(t, a, 'DELETE', `/messages/${sent.id}`)).statusCode).toBe(204);
    expect((await call(t, a, 'DELETE', `/messages/${sent.id}`)).statusCode).toBe(404);
    expect((await call(t, a, 'PATCH', `/messages/${sent.id}`, { body: 'back' })).statusCode).toBe(404);

    const events = await bus.waitFor(b, 2);
    expect(events.map((e) => [e.type, e.message?.body, e.message?.deleted])).toEqual([
      ['message.updated', 'typo', false],
      ['message.deleted', '', true],
    ]);
    await bus.waitFor(a, 2);
    const page = (await call(t, b, 'GET', `/conversations/${id}/messages`)).json();
    expect(page.items).toEqual([expect.objectContaining({ id: sent.id, seq: 1, body: '', deleted: true })]);
    // a retry of the original send still answers with the (deleted) message, not a new one
    const retry = await call(t, a, 'POST', `/conversations/${id}/messages`, {
      clientMessageId: 'orig',
      body: 'tpyo',
    });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().message).toMatchObject({ id: sent.id, deleted: true });
    await bus.close();
  });
});

describe('history', () => {
  it('pages before and after a seq, newest page by default, in seq order', async () => {
    const [a, b, id] = await pair();
    for (let i = 1; i <= 7; i++) await sendMessage(t, i % 2 ? a : b, id, `m${i}`);
    const get = async (query: string) => {
      const res = await call(t, b, 'GET', `/conversations/${id}/messages${query}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      return [page.items.map((m: { seq: number }) => m.seq), page.hasMore];
    };
    expect(await get('?limit=3')).toEqual([[5, 6, 7], true]);
    expect(await get('?before=5&limit=3')).toEqual([[2, 3, 4], true]);
    expect(await get('?before=2&limit=3')).toEqual([[1], false]);
    expect(await get('?after=0&limit=3')).toEqual([[1, 2, 3], true]);
    expect(await get('?after=4&limit=3')).toEqual([[5, 6, 7], false]);
    expect(await get('?after=7')).toEqual([[], false]);
    expect(await get('')).toEqual([[1, 2, 3, 4, 5, 6, 7], false]);
  });

  it.each([
    ['before and after', '?before=5&after=1'],
    ['a garbage seq', '?before=abc'],
    ['a negative seq', '?after=-1'],
    ['a fractional seq', '?after=1.5'],
    ['a seq past 2^53', '?after=9007199254740993'],
    ['a seq of 17 digits', '?after=90071992547409930'],
    ['an empty seq', '?after='],
    ['a hex seq', '?after=0x10'],
    ['a limit over 100', '?limit=101'],
    ['a zero limit', '?limit=0'],
    ['an unknown parameter', '?since=3'],
  ])('%s → 400', async (_, query) => {
    const [a, , id] = await pair();
    const res = await call(t, a, 'GET', `/conversations/${id}/messages${query}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({ code: expect.stringMatching(/BAD_REQUEST|VALIDATION_FAILED/) });
  });

  it('is 404 for non-members and 400 for a bad id', async () => {
    const [, , id] = await pair();
    const outsider = await createUser(t);
    expect((await call(t, outsider, 'GET', `/conversations/${id}/messages`)).statusCode).toBe(404);
    expect((await call(t, outsider, 'GET', '/conversations/1234/messages')).statusCode).toBe(400);
  });
});

describe('read markers', () => {
  it('move forward only, never past the last seq, and drive unread counts', async () => {
    const [a, b, id] = await pair();
    for (let i = 1; i <= 5; i++) await sendMessage(t, a, id, `m${i}`);
    const bus = await listen(a, b);
    const unread = async () => (await call(t, b, 'GET', `/conversations/${id}`)).json().unreadCount;
    expect(await unread()).toBe(5);

    const read = (seq: number) => call(t, b, 'POST', `/conversations/${id}/read`, { seq });
    expect((await read(3)).json()).toEqual({ lastReadSeq: 3, unreadCount: 2 });
    expect((await read(1)).json()).toEqual({ lastReadSeq: 3, unreadCount: 2 });
    expect((await read(999)).json()).toEqual({ lastReadSeq: 5, unreadCount: 0 });
    expect(await unread()).toBe(0);

    // my other devices hear about it with my unread count; the other member only that I read up
    // to a seq ("seen by"), never my count; the refused backwards move tells no one
    const events = await bus.waitFor(b, 2);
    expect(events).toEqual([
      { type: 'conversation.read', conversationId: id, lastReadSeq: 3, unreadCount: 2 },
      { type: 'conversation.read', conversationId: id, lastReadSeq: 5, unreadCount: 0 },
    ]);
    expect(await bus.waitFor(a, 2)).toEqual([
      { type: 'member.read', conversationId: id, userId: b.id, lastReadSeq: 3 },
      { type: 'member.read', conversationId: id, userId: b.id, lastReadSeq: 5 },
    ]);

    // deleted messages and my own do not count
    const gone = await sendMessage(t, a, id, 'to be deleted');
    await sendMessage(t, a, id, 'stays');
    await sendMessage(t, b, id, 'mine');
    expect(await unread()).toBe(0);
    expect((await call(t, a, 'GET', `/conversations/${id}`)).json().unreadCount).toBe(1);
    await call(t, b, 'POST', `/conversations/${id}/read`, { seq: 5 });
    expect(await unread()).toBe(0);
    expect((await call(t, a, 'DELETE', `/messages/${gone.id}`)).statusCode).toBe(204);
    await bus.close();
  });

  it('refuses non-members (404), negative, fractional or missing seqs (400)', async () => {
    const [a, , id] = await pair();
    const outsider = await createUser(t);
    expect((await call(t, outsider, 'POST', `/conversations/${id}/read`, { seq: 1 })).statusCode).toBe(404);
    for (const payload of [{ seq: -1 }, { seq: 1.5 }, {}, { seq: '3' }, { seq: 1, extra: true }]) {
      const res = await call(t, a, 'POST', `/conversations/${id}/read`, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });
});

describe('bad input', () => {
  it.each([
    ['a body over 4000 characters', { clientMessageId: 'a', body: 'x'.repeat(4001) }, 'VALIDATION_FAILED'],
    ['an empty body', { clientMessageId: 'a', body: '' }, 'VALIDATION_FAILED'],
    ['a blank body', { clientMessageId: 'a', body: ' \n\u200b\t ' }, 'VALIDATION_FAILED'],
    ['a NUL in the body', { clientMessageId: 'a', body: 'a\u0000b' }, 'NUL_CHARACTER'],
    ['half a surrogate pair', { clientMessageId: 'a', body: 'a\ud800b' }, 'INVALID_UTF8'],
    ['an unknown field', { clientMessageId: 'a', body: 'hi', urgent: true }, 'VALIDATION_FAILED'],
    ['no clientMessageId', { body: 'hi' }, 'VALIDATION_FAILED'],
    [
      'a clientMessageId over 64 characters',
      { clientMessageId: 'c'.repeat(65), body: 'hi' },
      'VALIDATION_FAILED',
    ],
    ['a clientMessageId with spaces', { clientMessageId: 'a b', body: 'hi' }, 'VALIDATION_FAILED'],
    ['a body that is not a string', { clientMessageId: 'a', body: 42 }, 'VALIDATION_FAILED'],
  ])('sending %s → 400 %s', async (_, payload, code) => {
    const [a, , id] = await pair();
    const res = await call(t, a, 'POST', `/conversations/${id}/messages`, payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({
      code,
      message: expect.any(String),
      requestId: expect.any(String),
    });
    expect(await storedSeqs(id)).toEqual([]);
  });

  it('a body of exactly 4000 characters is fine; a bad conversation or message id is 400', async () => {
    const [a, , id] = await pair();
    expect((await sendMessage(t, a, id, 'y'.repeat(4000))).seq).toBe(1);
    expect(
      (await call(t, a, 'POST', '/conversations/nope/messages', { clientMessageId: 'a', body: 'x' }))
        .statusCode,
    ).toBe(400);
    expect((await call(t, a, 'PATCH', '/messages/nope', { body: 'x' })).statusCode).toBe(400);
    expect((await call(t, a, 'DELETE', `/messages/${crypto.randomUUID()}`)).statusCode).toBe(404);
    expect(
      (await call(t, undefined, 'POST', `/conversations/${id}/messages`, { clientMessageId: 'a', body: 'x' }))
        .statusCode,
    ).toBe(401);
  });
});
