import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { call, openConversation } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { startSmtp, tokenIn } from './helpers/mail.ts';
import { befriend } from './helpers/social.ts';

// Until its address is verified an account may post, comment, ask for friends and open
// conversations RATE_LIMIT_UNVERIFIED_PER_HOUR times an hour each (here 2), and send ten times as
// many chat messages; verifying lifts the limit at once, on every instance (docs/mail.md).
const smtp = await startSmtp();
const t = await buildTestApp({ ...smtp.env, ...GENEROUS_AUTH_LIMITS, RATE_LIMIT_UNVERIFIED_PER_HOUR: '2' });
const db = t.platform.db.primary;

const post = (user: TestUser, text: string) =>
  call(t, user, 'POST', '/posts', { text, visibility: 'public' });

function expectLimited(
  res: { statusCode: number; body: string; headers: Record<string, unknown> },
  policy: string,
) {
  expect(res.statusCode, res.body).toBe(429);
  const { error } = JSON.parse(res.body);
  expect(error.code).toBe('RATE_LIMITED');
  expect(error.details.policies).toEqual([policy]);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
}

const markVerified = (user: TestUser) =>
  db.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', user.id).execute();

describe('unverified accounts', () => {
  it('post, comment and ask for friends at most the hourly share each, and nothing is half-written', async () => {
    const user = await createUser(t);
    expect((await post(user, 'one')).statusCode).toBe(201);
    expect((await post(user, 'two')).statusCode).toBe(201);
    expectLimited(await post(user, 'three'), 'unverified-posts');
    const posts = await db.selectFrom('posts').select('text').where('author_id', '=', user.id).execute();
    expect(posts.map((p) => p.text).sort()).toEqual(['one', 'two']);

    // each kind has its own count
    const target = (
      await db.selectFrom('posts').select('id').where('author_id', '=', user.id).executeTakeFirstOrThrow()
    ).id;
    for (const text of ['a', 'b'])
      expect((await call(t, user, 'POST', `/posts/${target}/comments`, { text })).statusCode).toBe(201);
    expectLimited(
      await call(t, user, 'POST', `/posts/${target}/comments`, { text: 'c' }),
      'unverified-comments',
    );

    const others = [await createUser(t), await createUser(t), await createUser(t)];
    for (const other of others.slice(0, 2))
      expect((await call(t, user, 'POST', '/friend-requests', { username: other.username })).statusCode).toBe(
        201,
      );
    expectLimited(
      await call(t, user, 'POST', '/friend-requests', { username: others[2]!.username }),
      'unverified-friend-requests',
    );
  });

  it('open conversations at most the hourly share, and send ten times as many messages', async () => {
    const user = await createUser(t);
    const friends = [await createUser(t), await createUser(t), await createUser(t)];
    for (const friend of friends) {
      await markVerified(friend);
      await befriend(t, friend, user);
    }
    const first = await openConversation(t, user, [friends[0]!]);
    await openConversation(t, user, [friends[1]!]);
    expectLimited(
      await call(t, user, 'POST', '/conversations', { usernames: [friends[2]!.username] }),
      'unverified-conversations',
    );
    for (let i = 0; i < 20; i++) {
      const res = await call(t, user, 'POST', `/conversations/${first.id}/messages`, {
        clientMessageId: `m-${i}`,
        body: `hello ${i}`,
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    expectLimited(
      await call(t, user, 'POST', `/conversations/${first.id}/messages`, {
        clientMessageId: 'm-20',
        body: 'one more',
      }),
      'unverified-messages',
    );
  });

  it('verifying the address lifts the limit at once, without signing in again', async () => {
    const user = await createUser(t);
    await post(user, 'one');
    await post(user, 'two');
    expectLimited(await post(user, 'three'), 'unverified-posts');
    await runJobs(t);
    const mail = smtp.received.find(
      (m) => m.to.includes(user.email) && m.parsed.subject === 'Confirm your e-mail address',
    );
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/verify-email',
      payload: { token: tokenIn(mail!) },
    });
    expect(verified.statusCode, verified.body).toBe(204);
    expect((await post(user, 'three')).statusCode).toBe(201);
  });

  it('verified accounts are not counted', async () => {
    const user = await createUser(t);
    await markVerified(user);
    for (let i = 0; i < 4; i++) expect((await post(user, `p${i}`)).statusCode).toBe(201);
  });
});
