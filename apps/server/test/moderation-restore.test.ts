import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers/app.ts';
import { openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { startSmtp } from './helpers/mail.ts';
import { befriend, createPost } from './helpers/social.ts';
import { connect } from './helpers/ws-client.ts';

// An appeal that overturns a removal brings the content back (post, comment, chat message): over
// real HTTP, Postgres, jobs, WebSocket and SMTP (a test server; the decisions send mail).
const smtp = await startSmtp();
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, ...smtp.env });
const db = t.platform.db.primary;
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
const mod = await createUser(t, { role: 'moderator' });
const mod2 = await createUser(t, { role: 'moderator' });

const api = (user: TestUser, method: string, url: string, payload?: unknown) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: user.headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
const caseOf = async (targetId: string) =>
  (
    await db
      .selectFrom('report_cases')
      .select('id')
      .where('target_id', '=', targetId)
      .executeTakeFirstOrThrow()
  ).id;
const ok = async <R extends { statusCode: number; body: string }>(res: Promise<R>, status = 200) => {
  const r = await res;
  expect(r.statusCode, r.body).toBe(status);
  return r;
};
/** Reported, removed by `mod`, appealed by the author: the case id, waiting for the appeal's decision. */
async function removeAndAppeal(reporter: TestUser, author: TestUser, type: string, targetId: string) {
  await ok(api(reporter, 'POST', '/reports', { targetType: type, targetId, reason: 'harassment' }), 201);
  const id = await caseOf(targetId);
  await ok(api(mod, 'POST', `/moderation/cases/${id}/resolve`, { action: 'remove', note: 'Rude.' }));
  await ok(
    api(author, 'POST', `/moderation/notices/${id}/appeal`, { text: 'It was a joke between friends.' }),
  );
  return id;
}
const decide = (caseId: string, action: 'overturn' | 'uphold') =>
  ok(api(mod2, 'POST', `/moderation/cases/${caseId}/resolve`, { action, note: 'Reviewed the thread.' }));
const restoreAudits = (targetId: string) =>
  db
    .selectFrom('audit_log')
    .select(['actor_id', 'details'])
    .where('action', '=', 'moderation.content_restore')
    .where('target_id', '=', targetId)
    .execute();
const feedIds = async (user: TestUser) =>
  ((await api(user, 'GET', '/feed')).json().items as { id: string }[]).map((p) => p.id);

describe('an overturned removal restores the content', () => {
  it('a post comes back: readable, in its tag and in friends’ feeds again, restored audited', async () => {
    const [author, friend, reporter] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, author, friend);
    const post = await createPost(t, author, 'an edgy joke #restoretest', 'public');
    await runJobs(t);
    expect(await feedIds(friend)).toContain(post.id);

    const id = await removeAndAppeal(reporter, author, 'post', post.id);
    expect((await api(friend, 'GET', `/posts/${post.id}`)).statusCode).toBe(404);
    expect(await feedIds(friend)).not.toContain(post.id);
    expect((await api(friend, 'GET', '/tags/restoretest/posts')).json().items).toEqual([]);
    // appealed but not yet decided: still removed
    expect((await api(author, 'GET', `/posts/${post.id}`)).statusCode).toBe(404);

    const decided = await decide(id, 'overturn');
    expect(decided.json()).toMatchObject({ current: { contentLive: true } });
    await runJobs(t);
    expect((await api(friend, 'GET', `/posts/${post.id}`)).json()).toMatchObject({
      id: post.id,
      text: 'an edgy joke #restoretest',
    });
    expect(await feedIds(friend)).toContain(post.id);
    expect(await feedIds(author)).toContain(post.id);
    expect(
      ((await api(friend, 'GET', '/tags/restoretest/posts')).json().items as { id: string }[]).map(
        (p) => p.id,
      ),
    ).toEqual([post.id]);
    expect(await restoreAudits(post.id)).toEqual([
      { actor_id: mod2.id, details: expect.objectContaining({ caseId: id, authorId: author.id }) },
    ]);
    const row = await db
      .selectFrom('posts')
      .select(['deleted_at', 'removed_by_case'])
      .where('id', '=', post.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ deleted_at: null, removed_by_case: null });
  });

  it('a comment comes back, counted on its post again', async () => {
    const [author, postAuthor, reporter] = [await createUser(t), await createUser(t), await createUser(t)];
    const post = await createPost(t, postAuthor, 'a post', 'public');
    const created = await ok(api(author, 'POST', `/posts/${post.id}/comments`, { text: 'harsh words' }), 201);
    const commentId = (JSON.parse(created.body) as { id: string }).id;
    const id = await removeAndAppeal(reporter, author, 'comment', commentId);
    const comments = async () =>
      ((await api(reporter, 'GET', `/posts/${post.id}/comments`)).json().items as { id: string }[]).map(
        (c) => c.id,
      );
    expect(await comments()).toEqual([]);
    expect((await api(reporter, 'GET', `/posts/${post.id}`)).json().counts.comments).toBe(0);

    await decide(id, 'overturn');
    expect(await comments()).toEqual([commentId]);
    expect((await api(reporter, 'GET', `/posts/${post.id}`)).json().counts.comments).toBe(1);
    expect(await restoreAudits(commentId)).toHaveLength(1);
  });

  it('a chat message comes back with its text: members hear message.deleted, then message.updated', async () => {
    const [author, other] = [await createUser(t), await createUser(t)];
    await befriend(t, author, other);
    const conversation = await openConversation(t, author, [other]);
    const message = await sendMessage(t, author, conversation.id, 'you will regret this');
    const socket = await connect(base, other.accessToken, { resume: {} });
    try {
      const id = await removeAndAppeal(other, author, 'message', message.id);
      expect(await socket.waitFor('message.deleted')).toMatchObject({ message: { id: message.id } });
      const history = async () =>
        (await api(other, 'GET', `/conversations/${conversation.id}/messages`)).json().items as {
          id: string;
          body: string;
          deleted: boolean;
        }[];
      expect((await history()).find((m) => m.id === message.id)).toMatchObject({ body: '', deleted: true });

      await decide(id, 'overturn');
      expect(await socket.waitFor('message.updated')).toMatchObject({
        message: { id: message.id, body: 'you will regret this', deleted: false },
      });
      expect((await history()).find((m) => m.id === message.id)).toMatchObject({
        body: 'you will regret this',
        deleted: false,
      });
      expect(await restoreAudits(message.id)).toHaveLength(1);
      const row = await db
        .selectFrom('messages')
        .select(['withheld_body', 'removed_by_case'])
        .where('id', '=', message.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ withheld_body: null, removed_by_case: null });
    } finally {
      await socket.close();
    }
  });

  it('erasing the sender erases a withheld message’s text too', async () => {
    const [author, other] = [await createUser(t), await createUser(t)];
    await befriend(t, author, other);
    const conversation = await openConversation(t, author, [other]);
    const message = await sendMessage(t, author, conversation.id, 'words to be erased');
    await removeAndAppeal(other, author, 'message', message.id);
    const row = () =>
      db
        .selectFrom('messages')
        .select(['body', 'withheld_body', 'deleted_at'])
        .where('id', '=', message.id)
        .executeTakeFirstOrThrow();
    expect(await row()).toMatchObject({ body: '', withheld_body: 'words to be erased' });
    // the decision's notifications first: jobs left for an erased user would fail a later runJobs
    await runJobs(t);
    await db.deleteFrom('users').where('id', '=', author.id).execute();
    expect(await row()).toMatchObject({ body: '', withheld_body: null, deleted_at: expect.any(Date) });
  });

  it('an upheld removal stays; a post its author deleted before the decision is not brought back', async () => {
    const [author, reporter] = [await createUser(t), await createUser(t)];
    const upheld = await createPost(t, author, 'stays removed', 'public');
    const upheldCase = await removeAndAppeal(reporter, author, 'post', upheld.id);
    await decide(upheldCase, 'uphold');
    expect((await api(author, 'GET', `/posts/${upheld.id}`)).statusCode).toBe(404);

    const selfDeleted = await createPost(t, author, 'deleted by its author', 'public');
    await ok(
      api(reporter, 'POST', '/reports', { targetType: 'post', targetId: selfDeleted.id, reason: 'spam' }),
      201,
    );
    await ok(api(author, 'DELETE', `/posts/${selfDeleted.id}`), 204);
    const id = await caseOf(selfDeleted.id);
    await ok(api(mod, 'POST', `/moderation/cases/${id}/resolve`, { action: 'remove', note: 'Spam.' }));
    await ok(api(author, 'POST', `/moderation/notices/${id}/appeal`, { text: 'Not spam.' }));
    await decide(id, 'overturn');
    expect((await api(author, 'GET', `/posts/${selfDeleted.id}`)).statusCode).toBe(404);
    expect([...(await restoreAudits(upheld.id)), ...(await restoreAudits(selfDeleted.id))]).toEqual([]);
  });
});

describe('an overturn restores the content and decides the case together, or neither', () => {
  // The database refuses the decision once (a trigger on the case row raises on its first update,
  // counted by a sequence, which a rollback does not undo): the restore must not have committed
  // alone, and the retried overturn restores the content and audits it.
  async function failDecisionOnce(caseId: string) {
    await sql`CREATE SEQUENCE IF NOT EXISTS fail_decision_once`.execute(db);
    await sql`SELECT setval('fail_decision_once', 1, false)`.execute(db);
    await sql
      .raw(`CREATE OR REPLACE FUNCTION fail_decision_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF nextval('fail_decision_once') = 1 THEN RAISE EXCEPTION 'decision refused once'; END IF;
          RETURN NEW;
        END $$`)
      .execute(db);
    await sql
      .raw(`CREATE TRIGGER fail_decision_once BEFORE UPDATE ON report_cases FOR EACH ROW
        WHEN (NEW.id = '${caseId}'::uuid) EXECUTE FUNCTION fail_decision_once()`)
      .execute(db);
    return async () => {
      await sql`DROP TRIGGER IF EXISTS fail_decision_once ON report_cases`.execute(db);
    };
  }
  const caseStatus = async (caseId: string) =>
    (
      await db
        .selectFrom('report_cases')
        .select(['status', 'stage'])
        .where('id', '=', caseId)
        .executeTakeFirstOrThrow()
    ).status;
  const overturn = (caseId: string) =>
    api(mod2, 'POST', `/moderation/cases/${caseId}/resolve`, { action: 'overturn', note: 'Reviewed.' });

  it('a post: the failed decision restored nothing; the retry restores it, audited once', async () => {
    const [author, friend, reporter] = [await createUser(t), await createUser(t), await createUser(t)];
    await befriend(t, author, friend);
    const post = await createPost(t, author, 'a retried overturn #atomicrestore', 'public');
    await runJobs(t);
    const id = await removeAndAppeal(reporter, author, 'post', post.id);
    const undo = await failDecisionOnce(id);
    try {
      const failed = await overturn(id);
      expect(failed.statusCode, failed.body).toBeGreaterThanOrEqual(500);
      expect(await caseStatus(id)).toBe('open');
      const row = await db
        .selectFrom('posts')
        .select(['deleted_at', 'removed_by_case'])
        .where('id', '=', post.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ deleted_at: expect.any(Date), removed_by_case: id });
      expect((await api(friend, 'GET', `/posts/${post.id}`)).statusCode).toBe(404);
      expect((await api(friend, 'GET', '/tags/atomicrestore/posts')).json().items).toEqual([]);
      expect(await restoreAudits(post.id)).toEqual([]);

      await ok(overturn(id));
    } finally {
      await undo();
    }
    expect(await caseStatus(id)).toBe('resolved');
    await runJobs(t);
    expect((await api(friend, 'GET', `/posts/${post.id}`)).json()).toMatchObject({ id: post.id });
    expect(await feedIds(friend)).toContain(post.id);
    expect(await restoreAudits(post.id)).toEqual([
      { actor_id: mod2.id, details: expect.objectContaining({ caseId: id, authorId: author.id }) },
    ]);
  });

  it('a chat message: kept withheld by the failed decision, restored with its text by the retry', async () => {
    const [author, other] = [await createUser(t), await createUser(t)];
    await befriend(t, author, other);
    const conversation = await openConversation(t, author, [other]);
    const message = await sendMessage(t, author, conversation.id, 'said in anger');
    const id = await removeAndAppeal(other, author, 'message', message.id);
    const row = () =>
      db
        .selectFrom('messages')
        .select(['body', 'withheld_body', 'removed_by_case'])
        .where('id', '=', message.id)
        .executeTakeFirstOrThrow();
    const undo = await failDecisionOnce(id);
    try {
      expect((await overturn(id)).statusCode).toBeGreaterThanOrEqual(500);
      expect(await caseStatus(id)).toBe('open');
      expect(await row()).toEqual({ body: '', withheld_body: 'said in anger', removed_by_case: id });
      expect(await restoreAudits(message.id)).toEqual([]);
      await ok(overturn(id));
    } finally {
      await undo();
    }
    expect(await row()).toEqual({ body: 'said in anger', withheld_body: null, removed_by_case: null });
    expect(await restoreAudits(message.id)).toHaveLength(1);
  });
});
