import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost } from './helpers/social.ts';
import { connect, connectWithTicket, ticketFor } from './helpers/ws-client.ts';

// One composition root: REST, the WebSocket gateway and the jobs use the services built once.
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS });
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('one set of services per process', () => {
  it('sends over REST and over the socket through the same ChatService (and its one batcher)', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    const { id } = await openConversation(t, a, [b]);
    const send = vi.spyOn(t.services.chat.chat, 'send');

    const overRest = await sendMessage(t, a, id, 'over REST', 'rest-1');
    const socket = await connect(base, a.accessToken);
    socket.send({
      type: 'message.send',
      conversationId: id,
      clientMessageId: 'ws-1',
      body: 'over the socket',
    });
    const ack = await socket.waitFor('message.ack');

    expect(send.mock.calls.map(([, input]) => input.clientMessageId)).toEqual(['rest-1', 'ws-1']);
    expect([overRest.seq, ack.seq]).toEqual([1, 2]);
    socket.close();
  });

  it('runs jobs on the same services the routes use', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    const fanOut = vi.spyOn(t.services.social.feed, 'fanOut');
    const post = await createPost(t, a, 'fanned out by the one feed service');
    await runJobs(t);
    expect(fanOut).toHaveBeenCalledWith(post.id);
  });

  it('checks sessions for the REST routes and the socket upgrade in one session cache', async () => {
    const user = await createUser(t);
    const get = vi.spyOn(t.services.kit.sessions, 'get');
    const ticket = await ticketFor(base, user.accessToken); // REST: the authentication hook
    const afterTicket = get.mock.calls.length;
    expect(afterTicket).toBeGreaterThan(0);
    const socket = await connectWithTicket(base, ticket); // the gateway's check before the upgrade
    expect(get.mock.calls.length).toBeGreaterThan(afterTicket);
    expect(new Set(get.mock.calls.map(([sessionId]) => sessionId)).size).toBe(1);
    socket.close();
  });
});
