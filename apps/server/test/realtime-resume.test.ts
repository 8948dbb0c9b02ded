import { randomUUID } from 'node:crypto';
import type { ChatMessage, ServerMessage } from '@kith/contract';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { connect } from './helpers/ws-client.ts';

// Exactly once, in order (issue 15). The wait for a resume is long here, so that only the client's
// own frames end it: every test below is decided by the order of events, not by a clock.
const t = await buildTestApp({
  ...GENEROUS_AUTH_LIMITS,
  CHAT_FRIENDS_ONLY: 'false',
  REALTIME_REPLAY_BATCH: '10',
  REALTIME_RESUME_WAIT_MS: '30000',
});
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });

const seqs = (events: ServerMessage[], conversationId: string) =>
  events
    .filter((e): e is { type: 'message.new'; message: ChatMessage } => e.type === 'message.new')
    .filter((e) => e.message.conversationId === conversationId)
    .map((e) => e.message.seq);

async function sendMany(sender: TestUser, id: string, count: number) {
  for (let i = 0; i < count; i++) await sendMessage(t, sender, id, `m ${randomUUID()}`);
}

/** Resolves once `sender`'s own socket got `seq` back: the broker has handed it to every member's socket here. */
const handedOut = (socket: Awaited<ReturnType<typeof connect>>, id: string, seq: number) =>
  socket.waitFor('message.new', (e) => e.message.conversationId === id && e.message.seq === seq);

describe('resume: exactly once, in order', () => {
  it('a live message that arrives before the resume is held: [7, 8, 9, 10], not [10, 7, 8, 9, 10]', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const { id } = await openConversation(t, a, [b]);
    const sa = await connect(base, a.accessToken);
    sa.send({ type: 'resume', conversations: {} });
    await sendMany(a, id, 9);
    const sb = await connect(base, b.accessToken); // b holds 1..6 from an earlier socket
    await sendMany(a, id, 1);
    await handedOut(sa, id, 10);
    sb.send({ type: 'resume', conversations: { [id]: 6 } });
    expect(await sb.waitFor('resume.done')).toMatchObject({ conversations: { [id]: 10 }, replayed: 4 });
    await sendMany(a, id, 1);
    await sb.waitForCount('message.new', 5);
    sb.send({ type: 'ping' });
    await sb.waitFor('pong');
    expect(seqs(sb.events, id)).toEqual([7, 8, 9, 10, 11]);
    const types = sb.events.map((e) => e.type);
    expect(types.indexOf('resume.done')).toBe(types.lastIndexOf('message.new') - 1);
  });

  it('holds every conversation: the ones the resume names replay from it, the others follow from the socket’s start', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const one = (await openConversation(t, a, [b], 'one')).id;
    const two = (await openConversation(t, a, [b], 'two')).id;
    const sa = await connect(base, a.accessToken);
    sa.send({ type: 'resume', conversations: {} });
    await sendMany(a, one, 3);
    await sendMany(a, two, 2);
    const sb = await connect(base, b.accessToken);
    await sendMany(a, one, 1);
    await sendMany(a, two, 1);
    await handedOut(sa, two, 3);
    sb.send({ type: 'resume', conversations: { [one]: 1 } });
    await sb.waitFor('resume.done');
    await sb.waitForCount('message.new', 4);
    sb.send({ type: 'ping' });
    await sb.waitFor('pong');
    expect(seqs(sb.events, one)).toEqual([2, 3, 4]);
    expect(seqs(sb.events, two)).toEqual([3]);
  });

  it('a resume naming nothing ends the wait at once', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const { id } = await openConversation(t, a, [b]);
    await sendMany(a, id, 2);
    const sb = await connect(base, b.accessToken);
    await sendMany(a, id, 1); // held
    sb.send({ type: 'resume', conversations: {} });
    expect(await sb.waitFor('resume.done')).toMatchObject({ conversations: {}, replayed: 0 });
    await sb.waitFor('message.new');
    expect(seqs(sb.events, id)).toEqual([3]);
  });

  it('a resume after live messages began (another frame first) replays only the gap below them: nothing twice', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    const { id } = await openConversation(t, a, [b]);
    await sendMany(a, id, 10);
    const sb = await connect(base, b.accessToken);
    sb.send({ type: 'ping' }); // not resuming: live from the socket's start (10)
    await sb.waitFor('pong');
    await sendMany(a, id, 1);
    await sb.waitFor('message.new', (e) => e.message.seq === 11);
    sb.send({ type: 'resume', conversations: { [id]: 5 } });
    expect(await sb.waitFor('resume.done')).toMatchObject({ conversations: { [id]: 11 }, replayed: 5 });
    await sendMany(a, id, 1);
    await sb.waitFor('message.new', (e) => e.message.seq === 12);
    sb.send({ type: 'resume', conversations: { [id]: 0 } }); // lower again: only 1..5 are new here
    sb.send({ type: 'resume', conversations: { [id]: 12 } }); // and what it has: nothing
    await sb.waitForCount('resume.done', 3);
    expect(seqs(sb.events, id)).toEqual([11, 6, 7, 8, 9, 10, 12, 1, 2, 3, 4, 5]);
  });
});
