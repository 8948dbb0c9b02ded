import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { jobHandlers } from '../src/jobs.ts';
import { SECTION_QUERIES } from '../src/modules/account/export-sections.ts';
import { buildTestApp } from './helpers/app.ts';
import { openConversation, sendMessage } from './helpers/chat.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { startSmtp } from './helpers/mail.ts';
import { befriend, createPost } from './helpers/social.ts';
import { connect } from './helpers/ws-client.ts';

// Reports and the moderation queue over real HTTP, Postgres, jobs and SMTP (a test server).
const smtp = await startSmtp();
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, ...smtp.env, REPORTS_PER_HOUR: '5' });
const db = t.platform.db.primary;
// listening too: the suspension test sends over the WebSocket
const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
const admin = await createUser(t, { role: 'admin' });
const admin2 = await createUser(t, { role: 'admin' });
const mod = await createUser(t, { role: 'moderator' });
const mod2 = await createUser(t, { role: 'moderator' });

const api = (user: TestUser | undefined, method: string, url: string, payload?: unknown) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: user?.headers ?? {},
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
const report = (user: TestUser, targetType: string, targetId: string, reason = 'spam', note?: string) =>
  api(user, 'POST', '/reports', { targetType, targetId, reason, ...(note === undefined ? {} : { note }) });
const caseOf = async (targetId: string) =>
  (
    await db
      .selectFrom('report_cases')
      .select('id')
      .where('target_id', '=', targetId)
      .executeTakeFirstOrThrow()
  ).id;
const resolve = (user: TestUser, caseId: string, body: Record<string, unknown>) =>
  api(user, 'POST', `/moderation/cases/${caseId}/resolve`, body);
const notifications = async (user: TestUser) =>
  (await api(user, 'GET', '/notifications')).json().items as {
    kind: string;
    subjectId: string;
    data: Record<string, string>;
  }[];
const expectError = (
  res: { statusCode: number; json(): { error?: unknown } },
  status: number,
  code: string,
) => {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  expect(res.json().error).toMatchObject({
    code,
    message: expect.any(String),
    requestId: expect.any(String),
  });
};

describe('filing reports', () => {
  it('folds reports on one thing into one case, keeps the note as text, and answers a repeat with the first report', async () => {
    const author = await createUser(t);
    const [r1, r2] = [await createUser(t), await createUser(t)];
    const post = await createPost(t, author, 'buy cheap watches at example.test', 'public');
    const html = '<img src=x onerror="alert(1)"> <b>spam</b> & more';
    const first = await report(r1, 'post', post.id, 'spam', html);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toEqual({ reportId: expect.any(String), duplicate: false });
    const again = await report(r1, 'post', post.id, 'harassment');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ reportId: first.json().reportId, duplicate: true });
    expect((await report(r2, 'post', post.id, 'hate')).statusCode).toBe(201);

    const cases = await db.selectFrom('report_cases').selectAll().where('target_id', '=', post.id).execute();
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ status: 'open', reporter_count: 2, reasons: ['spam', 'hate'] });
    const detail = await api(mod, 'GET', `/moderation/cases/${cases[0]!.id}`);
    expect(detail.statusCode, detail.body).toBe(200);
    // stored and answered exactly as typed: the web app renders it as text
    expect(detail.json().reports.map((r: { note: string }) => r.note)).toEqual([html, '']);
    expect(detail.headers['content-type']).toContain('application/json');
    expect(detail.json().snapshot).toMatchObject({
      text: 'buy cheap watches at example.test',
      author: { id: author.id, username: author.username },
      context: { visibility: 'public' },
    });
  });

  it('answers bad input with a clear 4xx and stores nothing', async () => {
    const author = await createUser(t);
    const reporter = await createUser(t);
    const post = await createPost(t, author, 'hello', 'public');
    expectError(await report(reporter, 'post', post.id, 'i-dont-like-it'), 400, 'VALIDATION_FAILED');
    expectError(await report(reporter, 'planet', post.id), 400, 'VALIDATION_FAILED');
    expectError(await report(reporter, 'post', 'not-a-uuid'), 400, 'VALIDATION_FAILED');
    expectError(await report(reporter, 'post', post.id, 'spam', 'x'.repeat(1001)), 400, 'VALIDATION_FAILED');
    expectError(await report(author, 'post', post.id), 400, 'CANNOT_REPORT_SELF');
    expectError(await report(author, 'user', author.id), 400, 'CANNOT_REPORT_SELF');
    expect(
      (await api(undefined, 'POST', '/reports', { targetType: 'post', targetId: post.id, reason: 'spam' }))
        .statusCode,
    ).toBe(401);
    expect(
      await db
        .selectFrom('reports')
        .select('id')
        .where('reporter_id', 'in', [reporter.id, author.id])
        .execute(),
    ).toEqual([]);
  });

  it('answers 404 for what the reporter cannot see: a friends-only post, a deleted comment, another conversation’s message, an unknown user', async () => {
    const author = await createUser(t);
    const stranger = await createUser(t);
    const hidden = await createPost(t, author, 'friends only', 'friends');
    expectError(await report(stranger, 'post', hidden.id), 404, 'NOT_FOUND');

    const publicPost = await createPost(t, author, 'public', 'public');
    const comment = (
      await api(author, 'POST', `/posts/${publicPost.id}/comments`, { text: 'gone soon' })
    ).json();
    expect((await api(author, 'DELETE', `/comments/${comment.id}`)).statusCode).toBe(204);
    expectError(await report(stranger, 'comment', comment.id), 404, 'NOT_FOUND');

    const friend = await createUser(t);
    await befriend(t, author, friend);
    const conversation = await openConversation(t, author, [friend]);
    const message = await sendMessage(t, author, conversation.id, 'private words');
    expectError(await report(stranger, 'message', message.id), 404, 'NOT_FOUND');
    expectError(await report(stranger, 'user', '01a20661-42ef-7ab2-a5cf-b26043916287'), 404, 'NOT_FOUND');
    expect(
      await db.selectFrom('reports').select('id').where('reporter_id', '=', stranger.id).execute(),
    ).toEqual([]);
  });

  it('keeps a chat message with its neighbours and a comment with its post, even once deleted', async () => {
    const [a, b] = [await createUser(t), await createUser(t)];
    await befriend(t, a, b);
    const conversation = await openConversation(t, a, [b]);
    await sendMessage(t, b, conversation.id, 'hi');
    const bad = await sendMessage(t, a, conversation.id, 'you are awful');
    await sendMessage(t, b, conversation.id, 'please stop');
    expect((await report(b, 'message', bad.id, 'harassment')).statusCode).toBe(201);
    expect((await api(a, 'DELETE', `/messages/${bad.id}`)).statusCode).toBe(204);
    const detail = (await api(mod, 'GET', `/moderation/cases/${await caseOf(bad.id)}`)).json();
    expect(detail.snapshot.text).toBe('you are awful');
    expect(detail.snapshot.context.messages.map((m: { body: string }) => m.body)).toEqual([
      'hi',
      'please stop',
    ]);
    expect(detail.current.contentLive).toBe(false);

    const post = await createPost(t, a, 'the post', 'public');
    const comment = (await api(a, 'POST', `/posts/${post.id}/comments`, { text: 'mean comment' })).json();
    expect((await report(b, 'comment', comment.id, 'hate')).statusCode).toBe(201);
    const commentCase = (await api(mod, 'GET', `/moderation/cases/${await caseOf(comment.id)}`)).json();
    expect(commentCase.snapshot).toMatchObject({
      text: 'mean comment',
      context: { post: { id: post.id, text: 'the post' } },
    });
  });

  it('rate-limits reports per user (429 with Retry-After)', async () => {
    const author = await createUser(t);
    const reporter = await createUser(t);
    const posts = [];
    for (let i = 0; i < 6; i++) posts.push(await createPost(t, author, `post ${i}`, 'public'));
    for (const post of posts.slice(0, 5))
      expect((await report(reporter, 'post', post.id)).statusCode).toBe(201);
    const limited = await report(reporter, 'post', posts[5].id);
    expectError(limited, 429, 'RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
  });
});

describe('the moderation queue', () => {
  it('is for staff only, oldest first, filtered and keyset-paged', async () => {
    const user = await createUser(t);
    expectError(await api(user, 'GET', '/moderation/cases'), 403, 'FORBIDDEN');
    expectError(
      await api(user, 'POST', `/moderation/cases/${'01a20661-42ef-7ab2-a5cf-b26043916287'}/resolve`, {
        action: 'dismiss',
      }),
      403,
      'FORBIDDEN',
    );
    const author = await createUser(t);
    const reporter = await createUser(t);
    const target = await createUser(t);
    expect((await report(reporter, 'user', target.id, 'misinformation')).statusCode).toBe(201);
    const first = await api(mod, 'GET', '/moderation/cases?limit=1');
    expect(first.statusCode, first.body).toBe(200);
    const page = first.json();
    expect(page.items).toHaveLength(1);
    const all = [...page.items];
    let cursor = page.nextCursor;
    while (cursor) {
      const next = (await api(mod, 'GET', `/moderation/cases?limit=20&cursor=${cursor}`)).json();
      all.push(...next.items);
      cursor = next.nextCursor;
    }
    const queued = all.map((c: { queuedAt: string }) => c.queuedAt);
    expect(queued).toEqual([...queued].sort());
    expect(new Set(all.map((c: { id: string }) => c.id)).size).toBe(all.length);
    const filtered = (
      await api(mod, 'GET', '/moderation/cases?reason=misinformation&targetType=user')
    ).json();
    expect(filtered.items.map((c: { targetId: string }) => c.targetId)).toContain(target.id);
    expect(filtered.items.every((c: { targetType: string }) => c.targetType === 'user')).toBe(true);
    expectError(await api(mod, 'GET', '/moderation/cases?reason=bogus'), 400, 'VALIDATION_FAILED');
    expectError(await api(mod, 'GET', '/moderation/cases?cursor=abc'), 400, 'INVALID_CURSOR');
    void author;
  });

  it('refuses a moderator acting on their own report or on an admin’s content (403); an admin may', async () => {
    const author = await createUser(t);
    const post = await createPost(t, author, 'reported by a moderator', 'public');
    expect((await report(mod, 'post', post.id)).statusCode).toBe(201);
    const own = await caseOf(post.id);
    expectError(await resolve(mod, own, { action: 'dismiss' }), 403, 'FORBIDDEN');
    expect((await api(mod, 'GET', `/moderation/cases/${own}`)).json()).toMatchObject({ canAct: false });

    const reporter = await createUser(t);
    const adminPost = await createPost(t, admin, 'an admin speaks', 'public');
    expect((await report(reporter, 'post', adminPost.id)).statusCode).toBe(201);
    const adminCase = await caseOf(adminPost.id);
    expectError(await resolve(mod, adminCase, { action: 'remove', note: 'no' }), 403, 'FORBIDDEN');
    expect(
      (
        await db
          .selectFrom('posts')
          .select('deleted_at')
          .where('id', '=', adminPost.id)
          .executeTakeFirstOrThrow()
      ).deleted_at,
    ).toBeNull();
    // not on their own content either: another admin decides
    expectError(await resolve(admin, adminCase, { action: 'dismiss' }), 403, 'FORBIDDEN');
    expect((await resolve(admin2, adminCase, { action: 'dismiss' })).statusCode).toBe(200);
  });

  it('removes the content: audited, reporters told the outcome, the author told what and why (notification + mail); a second decision is 409', async () => {
    const author = await createUser(t);
    const reporter = await createUser(t);
    const post = await createPost(t, author, 'really bad post', 'public');
    expect((await report(reporter, 'post', post.id, 'violence')).statusCode).toBe(201);
    const id = await caseOf(post.id);
    expectError(await resolve(mod, id, { action: 'remove' }), 400, 'INVALID_PARAMETER'); // no reason given
    expectError(await resolve(mod, id, { action: 'explode', note: 'x' }), 400, 'VALIDATION_FAILED');
    const res = await resolve(mod, id, { action: 'remove', note: 'Threats of violence are not allowed.' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'resolved',
      resolution: { action: 'remove' },
      current: { contentLive: false },
    });
    expectError(await resolve(mod2, id, { action: 'dismiss' }), 409, 'CASE_ALREADY_RESOLVED');
    expect((await api(reporter, 'GET', `/posts/${post.id}`)).statusCode).toBe(404);

    const audit = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({
      action: 'moderation.report_resolve',
      actor_id: mod.id,
      details: expect.objectContaining({ action: 'remove' }),
    });

    await runJobs(t);
    const told = (await notifications(reporter)).find((n) => n.kind === 'report_resolved');
    expect(told).toMatchObject({ subjectId: id, data: { outcome: 'action_taken', targetType: 'post' } });
    expect(JSON.stringify(told)).not.toContain('remove');
    const notice = (await notifications(author)).find((n) => n.kind === 'moderation_notice');
    expect(notice).toMatchObject({ subjectId: id, data: { action: 'remove', targetType: 'post' } });
    // the job awaited the SMTP server's answer: the mail is in
    const mail = smtp.received.find(
      (m) => m.to.includes(author.email) && m.parsed.subject?.includes('moderator'),
    );
    expect(mail?.parsed.subject).toBe('A moderator acted on your Kith account');
    expect(mail!.parsed.text).toContain('Threats of violence are not allowed.');
    expect(mail!.parsed.text).toContain(`/moderation/notices/${id}`);
    const view = await api(author, 'GET', `/moderation/notices/${id}`);
    expect(view.json()).toMatchObject({
      action: 'remove',
      note: 'Threats of violence are not allowed.',
      appeal: { state: 'available' },
    });
    expect((await api(reporter, 'GET', `/moderation/notices/${id}`)).statusCode).toBe(404);
    // both find it in their data export: the report filed, the decision about the author
    const section = async (user: TestUser) =>
      (await SECTION_QUERIES.reports(user.id, null, 50).execute(db)).rows.map((r) => JSON.parse(r.doc));
    expect(await section(reporter)).toEqual([
      expect.objectContaining({ type: 'filed', targetId: post.id, reason: 'violence', status: 'resolved' }),
    ]);
    expect(await section(author)).toEqual([
      expect.objectContaining({
        type: 'decision',
        caseId: id,
        action: 'remove',
        note: 'Threats of violence are not allowed.',
      }),
    ]);
  });

  it('suspends: the account reads but cannot write (REST and chat), may appeal once, and a different moderator decides the appeal', async () => {
    const author = await createUser(t);
    const reporter = await createUser(t);
    await befriend(t, author, reporter);
    const conversation = await openConversation(t, author, [reporter]);
    expect((await report(reporter, 'user', author.id, 'harassment', 'keeps insulting me')).statusCode).toBe(
      201,
    );
    const id = await caseOf(author.id);
    expectError(await resolve(mod, id, { action: 'suspend', note: 'Harassment.' }), 400, 'INVALID_PARAMETER');
    expectError(
      await resolve(mod, id, { action: 'suspend', note: 'Harassment.', durationHours: 0 }),
      400,
      'VALIDATION_FAILED',
    );
    expect(
      (await resolve(mod, id, { action: 'suspend', note: 'Harassment.', durationHours: 24 })).statusCode,
    ).toBe(200);

    const refused = await api(author, 'POST', '/posts', { text: 'still here', visibility: 'public' });
    expectError(refused, 403, 'ACCOUNT_SUSPENDED');
    expect(refused.json().error.details.until).toEqual(expect.any(String));
    expectError(
      await api(author, 'POST', `/conversations/${conversation.id}/messages`, {
        clientMessageId: 'c1',
        body: 'hey',
      }),
      403,
      'ACCOUNT_SUSPENDED',
    );
    // the socket's sends ask the same guard; the socket itself (reading) stays open
    const socket = await connect(base, author.accessToken, { resume: {} });
    const wsSend = (clientMessageId: string) =>
      socket.send({ type: 'message.send', conversationId: conversation.id, clientMessageId, body: 'hey' });
    wsSend('ws-1');
    expect(await socket.waitFor('error')).toMatchObject({
      code: 'ACCOUNT_SUSPENDED',
      clientMessageId: 'ws-1',
    });
    expect((await api(author, 'GET', '/feed')).statusCode).toBe(200);
    expect((await api(author, 'GET', `/conversations/${conversation.id}/messages`)).statusCode).toBe(200);
    expect(await db.selectFrom('posts').select('id').where('author_id', '=', author.id).execute()).toEqual(
      [],
    );

    // appeal once; the same moderator may not decide it
    const appealed = await api(author, 'POST', `/moderation/notices/${id}/appeal`, {
      text: 'I was <i>provoked</i>.',
    });
    expect(appealed.statusCode, appealed.body).toBe(200);
    expect(appealed.json().appeal).toEqual({ state: 'pending', text: 'I was <i>provoked</i>.' });
    expectError(
      await api(author, 'POST', `/moderation/notices/${id}/appeal`, { text: 'again' }),
      409,
      'ALREADY_APPEALED',
    );
    expectError(
      await api(reporter, 'POST', `/moderation/notices/${id}/appeal`, { text: 'me too' }),
      404,
      'NOT_FOUND',
    );
    expectError(await resolve(mod, id, { action: 'overturn', note: 'x' }), 403, 'FORBIDDEN');
    expectError(await resolve(mod2, id, { action: 'ban', note: 'x' }), 400, 'INVALID_PARAMETER');
    const overturned = await resolve(mod2, id, {
      action: 'overturn',
      note: 'Provocation shown in the thread.',
    });
    expect(overturned.statusCode, overturned.body).toBe(200);
    expect(overturned.json()).toMatchObject({
      stage: 'appeal',
      status: 'resolved',
      appeal: { decision: 'suspend', decidedBy: mod.id },
    });
    expect((await api(author, 'POST', '/posts', { text: 'back', visibility: 'public' })).statusCode).toBe(
      201,
    );
    wsSend('ws-2');
    expect(await socket.waitFor('message.ack')).toMatchObject({ clientMessageId: 'ws-2', duplicate: false });
    await socket.close();
    expect((await api(author, 'GET', `/moderation/notices/${id}`)).json()).toMatchObject({
      action: 'overturn',
      appeal: { state: 'decided' },
    });
  });

  it('bans: the banned user reads and appeals through the signed link of the notice mail; overturned, they sign in again', async () => {
    const author = await createUser(t);
    const reporter = await createUser(t);
    expect((await report(reporter, 'user', author.id, 'hate')).statusCode).toBe(201);
    const id = await caseOf(author.id);
    expect((await resolve(mod, id, { action: 'ban', note: 'Hate speech.' })).statusCode).toBe(200);
    const login = () =>
      api(undefined, 'POST', '/auth/login', { login: author.username, password: author.password });
    expect((await login()).statusCode).not.toBe(200);
    await runJobs(t);
    const mail = smtp.received.find(
      (m) => m.to.includes(author.email) && m.parsed.subject?.includes('moderator'),
    );
    const match = /\/moderation\/notices\/([0-9a-f-]{36})\?token=([0-9]+\.[A-Za-z0-9_-]+)/.exec(
      mail?.parsed.text ?? '',
    );
    expect(match?.[1]).toBe(id);
    const token = match![2]!;
    const read = await api(undefined, 'GET', `/moderation/notices/${id}/by-link?token=${token}`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({
      action: 'ban',
      note: 'Hate speech.',
      appeal: { state: 'available' },
    });
    const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`;
    expectError(
      await api(undefined, 'GET', `/moderation/notices/${id}/by-link?token=${forged}`),
      403,
      'INVALID_LINK',
    );
    // a token opens only its own case
    const elsewhere = await createPost(t, reporter, 'another reported thing', 'public');
    expect((await report(mod, 'post', elsewhere.id)).statusCode).toBe(201);
    expectError(
      await api(undefined, 'GET', `/moderation/notices/${await caseOf(elsewhere.id)}/by-link?token=${token}`),
      403,
      'INVALID_LINK',
    );
    expectError(
      await api(undefined, 'GET', `/moderation/notices/${id}/by-link?token=nope`),
      400,
      'VALIDATION_FAILED',
    );
    const appealed = await api(undefined, 'POST', `/moderation/notices/${id}/appeal-by-link`, {
      token,
      text: 'It was a quote.',
    });
    expect(appealed.statusCode, appealed.body).toBe(200);
    expect(appealed.json().appeal).toEqual({ state: 'pending', text: 'It was a quote.' });
    expectError(
      await api(undefined, 'POST', `/moderation/notices/${id}/appeal-by-link`, { token, text: 'again' }),
      409,
      'ALREADY_APPEALED',
    );
    expect((await resolve(mod2, id, { action: 'overturn', note: 'It was a quote.' })).statusCode).toBe(200);
    expect((await login()).statusCode).toBe(200);
  });

  it('ends a suspension by itself: the guard stops refusing at the time, the job clears it, audits and tells the user', async () => {
    const author = await createUser(t);
    const reporter = await createUser(t);
    expect((await report(reporter, 'user', author.id, 'spam')).statusCode).toBe(201);
    expect(
      (await resolve(mod, await caseOf(author.id), { action: 'suspend', note: 'Spam.', durationHours: 1 }))
        .statusCode,
    ).toBe(200);
    expectError(
      await api(author, 'POST', '/posts', { text: 'x', visibility: 'public' }),
      403,
      'ACCOUNT_SUSPENDED',
    );
    // the hour passes
    await sql`UPDATE users SET suspended_until = now() - interval '1 second' WHERE id = ${author.id}`.execute(
      db,
    );
    // the cron job (every minute in the worker), then the notification it enqueued
    await jobHandlers(t.services)['reports.expire-suspensions']({}, { jobId: '', attempts: 1 });
    await runJobs(t);
    const row = await db
      .selectFrom('users')
      .select('suspended_until')
      .where('id', '=', author.id)
      .executeTakeFirstOrThrow();
    expect(row.suspended_until).toBeNull();
    expect(
      (await api(author, 'POST', '/posts', { text: 'free again', visibility: 'public' })).statusCode,
    ).toBe(201);
    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', author.id)
      .execute();
    expect(audit.map((a) => a.action)).toContain('moderation.suspension_end');
    expect((await notifications(author)).map((n) => n.data.action)).toContain('suspension_ended');
  });

  it('exports the queue to Prometheus: reports opened, cases resolved, the oldest open case’s age', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/kith_reports_opened_total\{reason="spam",target_type="post"\} \d+/);
    expect(res.body).toMatch(/kith_report_cases_resolved_total\{action="remove",stage="report"\} 1/);
    expect(res.body).toMatch(/kith_report_queue_oldest_seconds \d/);
    expect(res.body).toMatch(/kith_report_cases_open \d+/);
  });
});
