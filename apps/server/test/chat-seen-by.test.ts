import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { call, openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS } from './helpers/factories.ts';
import { connect } from './helpers/ws-client.ts';

const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, CHAT_FRIENDS_ONLY: 'false' });
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });

describe('"seen by": other members’ read markers', () => {
  it('a moved read marker reaches the other members live and is listed with the members', async () => {
    const [a, b, c] = [await createUser(t), await createUser(t), await createUser(t)];
    const { id } = await openConversation(t, a, [b, c], 'trio');
    await sendMessage(t, a, id, 'one');
    await sendMessage(t, a, id, 'two');
    const [sa, sb] = [
      await connect(base, a.accessToken, { resume: {} }),
      await connect(base, b.accessToken, { resume: {} }),
    ];

    const read = await call(t, b, 'POST', `/conversations/${id}/read`, { seq: 2 });
    expect(read.statusCode, read.body).toBe(200);
    expect(await sa.waitFor('member.read')).toEqual({
      type: 'member.read',
      conversationId: id,
      userId: b.id,
      lastReadSeq: 2,
    });
    // the reader's own devices get conversation.read (with the unread count), not member.read
    await sb.waitFor('conversation.read', (e) => e.lastReadSeq === 2);

    // a marker that does not move (same seq again) publishes nothing: a ping is answered after it
    expect((await call(t, b, 'POST', `/conversations/${id}/read`, { seq: 1 })).statusCode).toBe(200);
    sa.send({ type: 'ping' });
    await sa.waitFor('pong');
    expect(sa.events.filter((e) => e.type === 'member.read')).toHaveLength(1);

    const detail = await call(t, a, 'GET', `/conversations/${id}`);
    const markers = Object.fromEntries(
      (detail.json().members as { user: { id: string }; lastReadSeq: number }[]).map((m) => [
        m.user.id,
        m.lastReadSeq,
      ]),
    );
    // a sender has seen what they sent
    expect(markers).toEqual({ [a.id]: 2, [b.id]: 2, [c.id]: 0 });
  });
});
