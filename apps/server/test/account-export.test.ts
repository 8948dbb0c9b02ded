import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { jobHandlers } from '../src/jobs.ts';
import { exportLinks } from '../src/modules/account/account.wiring.ts';
import { TABLE_COVERAGE } from '../src/modules/account/export-sections.ts';
import { authKit } from '../src/modules/auth/auth-kit.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend, createPost, get } from './helpers/social.ts';

const dataDir = await mkdtemp(join(tmpdir(), 'kith-export-test-'));
afterAll(() => rm(dataDir, { recursive: true, force: true }));
const t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, DATA_DIR: dataDir });
const { app } = t;
const db = t.platform.db.primary;
const links = exportLinks((await authKit(t.platform)).keys.privateKey);

const startExport = (user: TestUser) =>
  app.inject({ method: 'POST', url: '/api/v1/me/export', headers: user.headers });
const download = (url: string) => app.inject({ method: 'GET', url });
const exportFiles = async () => (await readdir(join(dataDir, 'exports')).catch(() => [])).sort();

/** A user with something in every section, and the finished export's status. */
async function userWithReadyExport() {
  const [user, friend] = [await createUser(t, { displayName: 'Exporter' }), await createUser(t)];
  await befriend(t, user, friend);
  const post = await createPost(t, user, 'my #first post', 'private');
  const friendPost = await createPost(t, friend, `hello @${user.username}`, 'friends');
  await runJobs(t);
  await app.inject({
    method: 'POST',
    url: `/api/v1/posts/${friendPost.id}/comments`,
    headers: user.headers,
    payload: { text: 'my comment' },
  });
  await app.inject({
    method: 'PUT',
    url: `/api/v1/posts/${friendPost.id}/reactions/wow`,
    headers: user.headers,
  });
  await app.inject({
    method: 'POST',
    url: '/api/v1/collections',
    headers: user.headers,
    payload: { title: 'My list', visibility: 'private' },
  });
  const conversation = await app.inject({
    method: 'POST',
    url: '/api/v1/conversations',
    headers: user.headers,
    payload: { usernames: [friend.username] },
  });
  expect(conversation.statusCode, conversation.body).toBeLessThan(300);
  const sent = await app.inject({
    method: 'POST',
    url: `/api/v1/conversations/${conversation.json().id}/messages`,
    headers: user.headers,
    payload: { clientMessageId: 'm1', body: 'my message' },
  });
  expect(sent.statusCode, sent.body).toBeLessThan(300);
  const started = await startExport(user);
  expect(started.statusCode, started.body).toBe(202);
  await runJobs(t);
  const status = await get(t, user, `/api/v1/me/export/${started.json().id}`);
  return { user, friend, post, friendPost, status: status.json() };
}

describe('data export', () => {
  it('starts one job per user at a time and reports its status', async () => {
    const user = await createUser(t);
    expect((await get(t, user, '/api/v1/me/export')).statusCode).toBe(404);
    const first = await startExport(user);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ status: 'pending', download: null, completedAt: null });
    // a second request while the first is pending returns the same export
    const again = await startExport(user);
    expect(again.json().id).toBe(first.json().id);
    expect((await get(t, user, '/api/v1/me/export')).json().id).toBe(first.json().id);
    await runJobs(t);
    const ready = (await get(t, user, '/api/v1/me/export')).json();
    expect(ready).toMatchObject({ id: first.json().id, status: 'ready', completedAt: expect.any(String) });
    expect(ready.sizeBytes).toBeGreaterThan(0);
    const linkExpiry = new Date(ready.download.expiresAt).getTime();
    expect(linkExpiry).toBeGreaterThan(Date.now());
    expect(linkExpiry).toBeLessThanOrEqual(Date.now() + 3_600_000);
    // once done, a new request starts a new export
    const next = await startExport(user);
    expect(next.json().id).not.toBe(first.json().id);
    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('actor_id', '=', user.id)
      .where('action', '=', 'account.export')
      .execute();
    expect(audit).toHaveLength(2);
  });

  it("builds a JSON archive of the user's data, downloadable through the signed link", async () => {
    const { user, friend, post, friendPost, status } = await userWithReadyExport();
    expect(status.status).toBe('ready');
    const res = await download(status.download.url);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="kith-export-${status.id}.json"`);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const archive = res.json();
    expect(archive.format).toBe('kith-export/1');
    expect(archive.account).toMatchObject({ id: user.id, username: user.username, email: user.email });
    expect(archive.account).not.toHaveProperty('passwordHash');
    expect(res.body).not.toContain('$argon2');
    expect(archive.posts).toEqual([
      expect.objectContaining({ id: post.id, text: 'my #first post', visibility: 'private' }),
    ]);
    expect(archive.comments).toEqual([
      expect.objectContaining({ postId: friendPost.id, text: 'my comment' }),
    ]);
    expect(archive.reactions).toEqual([expect.objectContaining({ postId: friendPost.id, kind: 'wow' })]);
    expect(archive.friends).toEqual([
      expect.objectContaining({ userId: friend.id, username: friend.username }),
    ]);
    expect(archive.collections).toEqual([expect.objectContaining({ title: 'My list', items: [] })]);
    expect(archive.notifications.map((n: { kind: string }) => n.kind).sort()).toEqual([
      'friend_accepted',
      'mention',
    ]);
    expect(archive.sessions).toHaveLength(1);
    expect(archive.conversations).toEqual([expect.objectContaining({ kind: 'direct', createdByMe: true })]);
    expect(archive.messages).toEqual([expect.objectContaining({ seq: 1, body: 'my message' })]);
    expect(archive.dataExports).toEqual([expect.objectContaining({ id: status.id })]);
    expect(archive.auditLog.map((a: { action: string }) => a.action)).toEqual([
      'auth.signup',
      'account.export',
    ]);
    for (const key of ['friendRequests', 'blocks', 'media']) expect(archive[key]).toEqual([]);
    // nothing of the friend's own data
    expect(res.body).not.toContain(friend.email);
  });

  it('writes sections larger than one batch completely, in order', async () => {
    const user = await createUser(t);
    await sql`
      INSERT INTO posts (id, author_id, text, visibility)
      SELECT uuid_generate_v7(), ${user.id}, 'bulk ' || i, 'public' FROM generate_series(1, 1234) AS i`.execute(
      db,
    );
    const started = (await startExport(user)).json();
    await runJobs(t);
    const status = (await get(t, user, `/api/v1/me/export/${started.id}`)).json();
    const { posts } = (await download(status.download.url)).json();
    expect(posts).toHaveLength(1234);
    const ids = posts.map((p: { id: string }) => p.id);
    expect(new Set(ids).size).toBe(1234);
    expect(ids).toEqual([...ids].sort());
  });

  it("answers 404 for another user's export and an unknown id, 400 for a malformed one", async () => {
    const { status } = await userWithReadyExport();
    const other = await createUser(t);
    expect((await get(t, other, `/api/v1/me/export/${status.id}`)).statusCode).toBe(404);
    expect((await get(t, other, '/api/v1/me/export/01900000-0000-7000-8000-000000000000')).statusCode).toBe(
      404,
    );
    expect((await get(t, other, '/api/v1/me/export/not-a-uuid')).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/v1/me/export' })).statusCode).toBe(401);
  });

  it('refuses tampered, expired and borrowed links with 403, malformed ones with 400', async () => {
    const { status } = await userWithReadyExport();
    const url = new URL(status.download.url, 'http://kith.test');
    const id = status.id as string;
    const expires = Number(url.searchParams.get('expires'));
    const sig = url.searchParams.get('sig')!;
    const otherId = '01900000-0000-7000-8000-000000000000';
    const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const forbidden = [
      `/api/v1/me/export/${id}/download?expires=${expires}&sig=${flipped}`,
      `/api/v1/me/export/${id}/download?expires=${expires + 3600}&sig=${sig}`,
      `/api/v1/me/export/${id}/download?expires=${expires}&sig=${sig.slice(0, 20)}`,
      // a valid signature of another export
      `/api/v1/me/export/${id}/download${new URL(links.sign(otherId, new Date(expires * 1000)).url, 'http://x').search}`,
      // correctly signed, but expired
      links.sign(id, new Date(Date.now() - 1000)).url,
    ];
    for (const bad of forbidden) {
      const res = await download(bad);
      expect(res.statusCode, bad).toBe(403);
      expect(res.json().error.code).toBe('INVALID_LINK');
    }
    for (const bad of [
      `/api/v1/me/export/${id}/download`,
      `/api/v1/me/export/${id}/download?expires=soon&sig=${sig}`,
      `/api/v1/me/export/${id}/download?expires=${expires}&sig=${sig}&extra=1`,
      `/api/v1/me/export/${id}/download?expires=${expires}&sig=a%2Fb`,
    ]) {
      expect((await download(bad)).statusCode, bad).toBe(400);
    }
    expect((await download(status.download.url)).statusCode).toBe(200);
  });

  it('deletes archives past their keeping time; their links then answer 404', async () => {
    const { status } = await userWithReadyExport();
    expect(await exportFiles()).toContain(
      (
        await db
          .selectFrom('data_exports')
          .select('file_key')
          .where('id', '=', status.id)
          .executeTakeFirstOrThrow()
      ).file_key,
    );
    await db
      .updateTable('data_exports')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', status.id)
      .execute();
    await jobHandlers(t.platform)['account.exports-cleanup']({}, { jobId: '', attempts: 1 });
    const row = await db
      .selectFrom('data_exports')
      .selectAll()
      .where('id', '=', status.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'expired', file_key: null });
    expect((await download(status.download.url)).statusCode).toBe(404);
  });

  it("erasing an account deletes its archives' files", async () => {
    const { user, status } = await userWithReadyExport();
    const key = (
      await db
        .selectFrom('data_exports')
        .select('file_key')
        .where('id', '=', status.id)
        .executeTakeFirstOrThrow()
    ).file_key;
    const res = await app.inject({
      method: 'DELETE',
      url: '/api/v1/me',
      headers: user.headers,
      payload: { password: user.password },
    });
    expect(res.statusCode).toBe(202);
    await db.updateTable('users').set({ erase_after: sql<Date>`now()` }).where('id', '=', user.id).execute();
    await jobHandlers(t.platform)['account.erase']({ userId: user.id }, { jobId: '', attempts: 1 });
    expect(await exportFiles()).not.toContain(key);
    expect((await download(status.download.url)).statusCode).toBe(404);
  });

  it('marks an export failed after its last attempt', async () => {
    // DATA_DIR under a regular file: the archive cannot be written
    const blocker = join(dataDir, 'not-a-directory');
    await writeFile(blocker, '');
    const broken = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, DATA_DIR: join(blocker, 'data') });
    const user = await createUser(broken);
    const started = await broken.app.inject({
      method: 'POST',
      url: '/api/v1/me/export',
      headers: user.headers,
    });
    const build = jobHandlers(broken.platform)['account.export'];
    const status = async () =>
      (await get(broken, user, `/api/v1/me/export/${started.json().id}`)).json().status;
    await expect(build({ exportId: started.json().id }, { jobId: '', attempts: 1 })).rejects.toThrow(
      /ENOTDIR/,
    );
    expect(await status()).toBe('pending');
    await expect(build({ exportId: started.json().id }, { jobId: '', attempts: 3 })).rejects.toThrow(
      /ENOTDIR/,
    );
    expect(await status()).toBe('failed');
    // a failed export no longer blocks a new one
    const next = await broken.app.inject({ method: 'POST', url: '/api/v1/me/export', headers: user.headers });
    expect(next.json().id).not.toBe(started.json().id);
    await broken.close();
  });

  it('covers every table that holds rows about a user', async () => {
    const { rows } = await sql<{ table_name: string }>`
      SELECT DISTINCT cl.relname AS table_name
        FROM pg_constraint c
        JOIN pg_class cl ON cl.oid = c.conrelid
       WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass`.execute(db);
    const tables = [...rows.map((r) => r.table_name), 'users', 'audit_log'];
    expect(tables.filter((table) => !(table in TABLE_COVERAGE))).toEqual([]);
  });
});
