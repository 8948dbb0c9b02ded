import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '@kith/contract';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { connect } from './helpers/ws-client.ts';

const t = await buildTestApp({
  ...GENEROUS_AUTH_LIMITS,
  CHAT_FRIENDS_ONLY: 'false',
  REALTIME_REPLAY_BATCH: '10',
  // long: a socket's first frame ends the wait for its resume, never the clock
  REALTIME_RESUME_WAIT_MS: '30000',
});
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });

async function conversation(owner: TestUser, others: TestUser[], title?: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/conversations',
    headers: owner.headers,
    payload: { usernames: others.map((u) => u.username), ...(title ? { title } : {}) },
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json().id;
}

const send = (conversationId: string, body: string, clientMessageId: string = randomUUID()) => ({
  type: 'message.send',
  conversationId,
  clientMessageId,
  body,
});

const seqs = (events: { type: string }[], conversationId: string) =>
  events
    .filter((e): e is { type: 'message.new'; message: ChatMessage } => e.type === 'message.new')
    .filter((e) => e.message.conversationId === conversationId)
    .map((e) => e.message.seq);

describe('chat over the socket', () => {
  it('acknowledges a send after it is stored and delivers it to every member, once', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const id = await conversation(a, [b]);
    const [sa, sb] = [await connect(base, a.accessToken), await connect(base, b.accessToken, { resume: {} })];
    sa.send(send(id, 'hello', 'c-1'));
    const ack = await sa.waitFor('message.ack');
    expect(ack).toMatchObject({ clientMessageId: 'c-1', seq: 1, duplicate: false });
    const got = await sb.waitFor('message.new');
    expect(got.message).toMatchObject({ id: ack.id, body: 'hello', seq: 1, senderId: a.id });
    await sa.waitFor('message.new'); // the sender's other devices (and this one) get it too

    // the same clientMessageId again: the same message acknowledged again, nothing new delivered
    sa.send(send(id, 'hello', 'c-1'));
    expect(await sa.waitFor('message.ack', (e) => e.duplicate)).toMatchObject({ id: ack.id, seq: 1 });
    // with another body: an error event
    sa.send(send(id, 'other words', 'c-1'));
    expect(await sa.waitFor('error')).toMatchObject({
      code: 'CLIENT_MESSAGE_ID_REUSED',
      clientMessageId: 'c-1',
    });
    sb.send({ type: 'ping' });
    await sb.waitFor('pong');
    expect(seqs(sb.events, id)).toEqual([1]);
  });

  it('a burst of sends from one socket, into two conversations, commits together and keeps every order', async () => {
    const [a, b, c, stranger] = [
      await createUser(t),
      await createUser(t),
      await createUser(t),
      await createUser(t),
    ];
    const [ab, ac] = [await conversation(a, [b]), await conversation(a, [c])];
    const theirs = await conversation(stranger, [b]);
    const [sa, sb] = [await connect(base, a.accessToken), await connect(base, b.accessToken, { resume: {} })];
    // 60 sends written at once (they join the same round trips), with a send to a conversation
    // a is not in and a retry among them, then a ping that is answered only after all of them
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `burst-${i}`;
      ids.push(id);
      sa.send(send(i % 3 === 2 ? ac : ab, `message ${i}`, id));
      if (i === 30) sa.send(send(theirs, 'not mine', 'stray'));
      if (i === 40) sa.send(send(ab, 'message 0', 'burst-0'));
    }
    sa.send({ type: 'ping' });
    const answers = await sa.waitForCount('message.ack', 61, undefined, 30_000);
    // acks in the order sent (the retry's in its place), each conversation's seqs in send order
    expect(answers.map((e) => e.clientMessageId)).toEqual([...ids.slice(0, 41), 'burst-0', ...ids.slice(41)]);
    expect(answers[41]).toMatchObject({ duplicate: true, seq: 1 });
    const fresh = answers.filter((e) => !e.duplicate);
    const seqsOf = (n: number) => fresh.filter((_, i) => (i % 3 === 2) === (n === 1)).map((e) => e.seq);
    expect(seqsOf(0)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(seqsOf(1)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await sa.waitFor('error')).toMatchObject({ code: 'NOT_FOUND', clientMessageId: 'stray' });
    await sa.waitFor('pong');
    const types = sa.events.map((e) => e.type);
    expect(types.indexOf('pong')).toBeGreaterThan(types.lastIndexOf('message.ack'));
    // b gets the 40 of its conversation once each, in order
    await sb.waitForCount('message.new', 40, (e) => e.message.conversationId === ab, 30_000);
    expect(seqs(sb.events, ab)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(seqs(sb.events, theirs)).toEqual([]);
  });

  it('answers a send to a conversation one is not in with an error, storing and delivering nothing', async () => {
    const [a, b, stranger] = [await createUser(t), await createUser(t), await createUser(t)];
    const id = await conversation(a, [b]);
    const [ss, sb] = [await connect(base, stranger.accessToken), await connect(base, b.accessToken)];
    ss.send(send(id, 'let me in', 'x-1'));
    expect(await ss.waitFor('error')).toMatchObject({ code: 'NOT_FOUND', clientMessageId: 'x-1' });
    const page = await t.app.inject({
      method: 'GET',
      url: `/api/v1/conversations/${id}/messages`,
      headers: b.headers,
    });
    expect(page.json().items).toEqual([]);
    sb.send({ type: 'ping' });
    await sb.waitFor('pong');
    expect(sb.events.some((e) => e.type === 'message.new')).toBe(false);
  });

  it('refuses a body over 4,000 characters with an error event', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const id = await conversation(a, [b]);
    const sa = await connect(base, a.accessToken);
    sa.send(send(id, 'x'.repeat(4001), 'big'));
    expect(await sa.waitFor('error')).toMatchObject({ code: 'VALIDATION_FAILED', clientMessageId: 'big' });
    expect(sa.ws.readyState).toBe(sa.ws.OPEN);
  });

  it('resumes: replays what was missed in order, then live, with no gap and no duplicate, also when a live message comes first', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const id = await conversation(a, [b], 'resume');
    const sa = await connect(base, a.accessToken);
    for (let i = 1; i <= 25; i++) sa.send(send(id, `m${i}`));
    await sa.waitForCount('message.ack', 25);

    const sb = await connect(base, b.accessToken);
    // 26 is committed and handed to b's socket (a's own copy has come back) before b's resume is read
    sa.send(send(id, 'm26'));
    await sa.waitFor('message.new', (e) => e.message.seq === 26);
    sb.send({ type: 'resume', conversations: { [id]: 3 } });
    // messages sent while the replay runs (it reads 10 at a time here) arrive live and are merged in order
    for (let i = 27; i <= 40; i++) sa.send(send(id, `m${i}`));
    await sa.waitForCount('message.ack', 40);
    const done = await sb.waitFor('resume.done');
    expect(done.replayed).toBeGreaterThanOrEqual(22);
    await sb.waitForCount('message.new', 37);
    sb.send({ type: 'ping' });
    await sb.waitFor('pong');
    expect(seqs(sb.events, id)).toEqual(Array.from({ length: 37 }, (_, i) => i + 4));
  });

  it('relays typing to the other members, throttled', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const id = await conversation(a, [b]);
    const [sa, sb] = [await connect(base, a.accessToken), await connect(base, b.accessToken)];
    sa.send({ type: 'typing', conversationId: id });
    sa.send({ type: 'typing', conversationId: id });
    expect(await sb.waitFor('typing')).toEqual({ type: 'typing', conversationId: id, userId: a.id });
    sb.send({ type: 'typing', conversationId: randomUUID() });
    expect(await sb.waitFor('error')).toMatchObject({ code: 'NOT_FOUND', requestType: 'typing' });
    sa.send({ type: 'ping' });
    await sa.waitFor('pong');
    expect(sb.events.filter((e) => e.type === 'typing')).toHaveLength(1);
    expect(sa.events.some((e) => e.type === 'typing')).toBe(false);
  });

  it('moves read markers and tells my other devices', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const id = await conversation(a, [b]);
    const sa = await connect(base, a.accessToken);
    sa.send(send(id, 'one'));
    await sa.waitFor('message.ack');
    const [b1, b2] = [await connect(base, b.accessToken), await connect(base, b.accessToken)];
    b1.send({ type: 'conversation.read', conversationId: id, seq: 1 });
    expect(await b2.waitFor('conversation.read')).toMatchObject({
      conversationId: id,
      lastReadSeq: 1,
      unreadCount: 0,
    });
  });
});
