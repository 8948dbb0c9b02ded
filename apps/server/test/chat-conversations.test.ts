import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { call, openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { befriend } from './helpers/social.ts';

const MAX_MEMBERS = 4;
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, CHAT_GROUP_MAX_MEMBERS: String(MAX_MEMBERS) });
const db = t.platform.db.primary;

/** A user and `n` friends of theirs. */
async function circle(n: number): Promise<[TestUser, TestUser[]]> {
  const me = await createUser(t);
  const friends: TestUser[] = [];
  for (let i = 0; i < n; i++) {
    const friend = await createUser(t);
    await befriend(t, me, friend);
    friends.push(friend);
  }
  return [me, friends];
}

const block = async (blocker: TestUser, blocked: TestUser) =>
  expect((await call(t, blocker, 'PUT', `/blocks/${blocked.username}`)).statusCode).toBe(204);

describe('direct conversations', () => {
  it('there is one per pair: opening it again, from either side, returns the same one (200)', async () => {
    const [a, [b]] = await circle(1);
    const first = await call(t, a, 'POST', '/conversations', { usernames: [b!.username] });
    expect(first.statusCode, first.body).toBe(201);
    const conversation = first.json();
    expect(conversation).toMatchObject({
      kind: 'direct',
      title: null,
      lastSeq: 0,
      unreadCount: 0,
      myRole: 'member',
    });
    expect(conversation.peer).toEqual({ id: b!.id, username: b!.username, displayName: b!.username });
    expect(conversation.members.map((m: { user: { id: string } }) => m.user.id).sort()).toEqual(
      [a.id, b!.id].sort(),
    );

    const again = await call(t, a, 'POST', '/conversations', { usernames: [b!.username.toUpperCase()] });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(conversation.id);
    const fromB = await call(t, b, 'POST', '/conversations', { usernames: [a.username] });
    expect(fromB.statusCode).toBe(200);
    expect(fromB.json()).toMatchObject({ id: conversation.id, peer: { id: a.id } });
  });

  it('opened concurrently from both sides, still one conversation', async () => {
    const [a, [b]] = await circle(1);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(t, i % 2 ? a : b, 'POST', '/conversations', { usernames: [(i % 2 ? b : a)!.username] }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 201,
    ]);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    const rows = await db
      .selectFrom('conversation_members')
      .select('conversation_id')
      .where('user_id', '=', a.id)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('cannot be left or grown', async () => {
    const [a, [b, c]] = await circle(2);
    const { id } = await openConversation(t, a, [b!]);
    const leave = await call(t, a, 'DELETE', `/conversations/${id}/members/${a.username}`);
    expect(leave.statusCode).toBe(400);
    const add = await call(t, a, 'POST', `/conversations/${id}/members`, { username: c!.username });
    expect(add.statusCode).toBe(400);
    expect(add.json().error.code).toBe('BAD_REQUEST');
  });

  it('only with friends, never with oneself, unknown users are 404', async () => {
    const [a] = await circle(0);
    const stranger = await createUser(t);
    const res = await call(t, a, 'POST', '/conversations', { usernames: [stranger.username] });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'NOT_FRIENDS', details: { username: stranger.username } });
    const self = await call(t, a, 'POST', '/conversations', { usernames: [a.username] });
    expect(self.statusCode).toBe(400);
    const ghost = await call(t, a, 'POST', '/conversations', { usernames: ['nobody_at_all_here'] });
    expect(ghost.statusCode).toBe(404);
    expect(ghost.json().error.details).toEqual({ username: 'nobody_at_all_here' });
    expect(await db.selectFrom('conversation_members').where('user_id', '=', a.id).execute()).toHaveLength(0);
  });

  it('never across a block (either way): 404 for that username; an existing one refuses sends', async () => {
    const [a, [b, c]] = await circle(2);
    const { id } = await openConversation(t, a, [b!]);
    await block(b!, a);
    const res = await call(t, a, 'POST', '/conversations', { usernames: [b!.username] });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.details).toEqual({ username: b!.username });
    const group = await call(t, a, 'POST', '/conversations', { usernames: [c!.username, b!.username] });
    expect(group.statusCode).toBe(404);
    const send = await call(t, a, 'POST', `/conversations/${id}/messages`, {
      clientMessageId: 'x1',
      body: 'hi',
    });
    expect(send.statusCode).toBe(403);
    const stored = await db.selectFrom('messages').select('id').where('conversation_id', '=', id).execute();
    expect(stored).toHaveLength(0);

    await block(a, c!);
    expect((await call(t, c, 'POST', '/conversations', { usernames: [a.username] })).statusCode).toBe(404);
  });
});

describe('groups', () => {
  it('are created with a title, the creator as admin, up to CHAT_GROUP_MAX_MEMBERS members', async () => {
    const [a, friends] = await circle(MAX_MEMBERS);
    const tooMany = await call(t, a, 'POST', '/conversations', {
      usernames: friends.map((f) => f.username),
      title: 'Too many',
    });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json().error).toMatchObject({ code: 'GROUP_FULL', details: { maxMembers: MAX_MEMBERS } });

    const res = await call(t, a, 'POST', '/conversations', {
      usernames: friends.slice(0, MAX_MEMBERS - 1).map((f) => f.username),
      title: '  Climbing  ',
    });
    expect(res.statusCode, res.body).toBe(201);
    const group = res.json();
    expect(group).toMatchObject({ kind: 'group', title: 'Climbing', myRole: 'admin', peer: null });
    expect(group.members).toHaveLength(MAX_MEMBERS);
    expect(group.members[0]).toMatchObject({ user: { id: a.id }, role: 'admin' });

    // full: adding one more is refused
    const add = await call(t, a, 'POST', `/conversations/${group.id}/members`, {
      username: friends[3]!.username,
    });
    expect(add.statusCode).toBe(409);
    expect(add.json().error.code).toBe('GROUP_FULL');
  });

  it('one username with a title is a group of two, not the direct conversation', async () => {
    const [a, [b]] = await circle(1);
    const direct = await openConversation(t, a, [b!]);
    const group = await openConversation(t, a, [b!], 'Just us');
    expect(group.kind).toBe('group');
    expect(group.id).not.toBe(direct.id);
  });

  it('admins add friends of theirs; members cannot add; non-members get 404', async () => {
    const [a, [b, c, d]] = await circle(3);
    const outsider = await createUser(t);
    const group = await openConversation(t, a, [b!], 'Group');

    const byMember = await call(t, b, 'POST', `/conversations/${group.id}/members`, {
      username: c!.username,
    });
    expect(byMember.statusCode).toBe(403);
    const byOutsider = await call(t, outsider, 'POST', `/conversations/${group.id}/members`, {
      username: c!.username,
    });
    expect(byOutsider.statusCode).toBe(404);
    const notFriend = await call(t, a, 'POST', `/conversations/${group.id}/members`, {
      username: outsider.username,
    });
    expect(notFriend.statusCode).toBe(403);
    expect(notFriend.json().error.code).toBe('NOT_FRIENDS');

    const added = await call(t, a, 'POST', `/conversations/${group.id}/members`, { username: c!.username });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toMatchObject({ user: { id: c!.id, username: c!.username }, role: 'member' });
    const again = await call(t, a, 'POST', `/conversations/${group.id}/members`, { username: c!.username });
    expect(again.statusCode).toBe(200);

    await block(d!, a);
    const blocked = await call(t, a, 'POST', `/conversations/${group.id}/members`, { username: d!.username });
    expect(blocked.statusCode).toBe(404);

    const view = await call(t, c, 'GET', `/conversations/${group.id}`);
    expect(view.statusCode).toBe(200);
    expect(view.json().members.map((m: { user: { id: string } }) => m.user.id)).toEqual([a.id, b!.id, c!.id]);
  });

  it('admins remove members, anyone leaves, the last admin leaving promotes the oldest member', async () => {
    const [a, [b, c, d]] = await circle(3);
    const group = await openConversation(t, a, [b!, c!, d!], 'Group');

    expect((await call(t, b, 'DELETE', `/conversations/${group.id}/members/${c!.username}`)).statusCode).toBe(
      403,
    );
    expect((await call(t, a, 'DELETE', `/conversations/${group.id}/members/${d!.username}`)).statusCode).toBe(
      204,
    );
    expect((await call(t, d, 'GET', `/conversations/${group.id}`)).statusCode).toBe(404);
    expect((await call(t, a, 'DELETE', `/conversations/${group.id}/members/${d!.username}`)).statusCode).toBe(
      404,
    );

    expect((await call(t, a, 'DELETE', `/conversations/${group.id}/members/${a.username}`)).statusCode).toBe(
      204,
    );
    const view = (await call(t, b, 'GET', `/conversations/${group.id}`)).json();
    expect(view.myRole).toBe('admin');
    expect(view.members.map((m: { user: { id: string }; role: string }) => [m.user.id, m.role])).toEqual([
      [b!.id, 'admin'],
      [c!.id, 'member'],
    ]);
    expect((await call(t, a, 'GET', `/conversations/${group.id}/messages`)).statusCode).toBe(404);
    // the left member cannot send any more
    const send = await call(t, a, 'POST', `/conversations/${group.id}/messages`, {
      clientMessageId: 'z',
      body: 'x',
    });
    expect(send.statusCode).toBe(404);

    // added back, the old read marker is kept
    expect(
      (await call(t, b, 'POST', `/conversations/${group.id}/members`, { username: a.username })).statusCode,
    ).toBe(201);
    expect((await call(t, a, 'GET', `/conversations/${group.id}`)).json().myRole).toBe('member');
  });
});

describe('listing', () => {
  it('orders my conversations by last activity, with unread counts and the last message, by cursor', async () => {
    const [a, friends] = await circle(3);
    const ids: string[] = [];
    for (const f of friends) ids.push((await openConversation(t, a, [f])).id);
    // activity: the first conversation gets the newest message
    await sendMessage(t, friends[1]!, ids[1]!, 'older');
    await sendMessage(t, friends[0]!, ids[0]!, 'one');
    await sendMessage(t, friends[0]!, ids[0]!, 'two');

    const first = await call(t, a, 'GET', '/conversations?limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.items.map((c: { id: string }) => c.id)).toEqual([ids[0], ids[1]]);
    expect(page1.items[0]).toMatchObject({
      unreadCount: 2,
      lastSeq: 2,
      lastReadSeq: 0,
      lastMessage: { body: 'two', seq: 2 },
    });
    expect(page1.items[1]).toMatchObject({ unreadCount: 1, lastMessage: { body: 'older' } });
    expect(page1.nextCursor).toBeTypeOf('string');

    const second = await call(t, a, 'GET', `/conversations?limit=2&cursor=${page1.nextCursor}`);
    const page2 = second.json();
    expect(page2.items.map((c: { id: string }) => c.id)).toEqual([ids[2]]);
    expect(page2.items[0]).toMatchObject({ unreadCount: 0, lastMessage: null });
    expect(page2.nextCursor).toBeUndefined();

    // the sender's own messages are not unread for them
    const theirs = (await call(t, friends[0], 'GET', '/conversations')).json();
    expect(theirs.items[0]).toMatchObject({ id: ids[0], unreadCount: 0, lastReadSeq: 2 });
  });

  it('refuses foreign and garbage cursors, and other users’ conversations are 404', async () => {
    const [a, [b]] = await circle(1);
    const { id } = await openConversation(t, a, [b!]);
    for (const cursor of ['abc', Buffer.from('["notifications","1","x"]').toString('base64url')]) {
      const res = await call(t, a, 'GET', `/conversations?cursor=${cursor}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('INVALID_CURSOR');
    }
    const outsider = await createUser(t);
    expect((await call(t, outsider, 'GET', `/conversations/${id}`)).statusCode).toBe(404);
    expect((await call(t, a, 'GET', '/conversations/not-a-uuid')).statusCode).toBe(400);
    expect((await call(t, undefined, 'GET', '/conversations')).statusCode).toBe(401);
  });
});

describe('bad input', () => {
  it.each([
    ['no usernames', { usernames: [] }],
    ['an unknown field', { usernames: ['someone'], colour: 'red' }],
    ['a bad username', { usernames: ['no spaces allowed'] }],
    ['the same username twice', { usernames: ['dup_name', 'dup_name'] }],
    ['a title too long', { usernames: ['someone'], title: 'x'.repeat(101) }],
    ['a blank title', { usernames: ['someone'], title: ' \u200b ' }],
    ['a NUL in the title', { usernames: ['someone'], title: 'a\u0000b' }],
    ['usernames not an array', { usernames: 'someone' }],
  ])('creating with %s → 400', async (_, payload) => {
    const [a] = await circle(0);
    const res = await call(t, a, 'POST', '/conversations', payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(res.json().error.requestId).toBeTypeOf('string');
  });
});
