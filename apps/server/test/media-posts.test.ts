import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UrlSigner } from '../src/platform/storage/url-signer.ts';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { befriend } from './helpers/social.ts';
import { png, upload, uploadReady } from './media-helpers.ts';

const SECRET = 'test-media-signing-secret-0123456789abcdef';
let dataDir: string;
let t: TestApp;
let alice: TestUser;
let friend: TestUser;
let stranger: TestUser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kith-media-posts-'));
  t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, DATA_DIR: dataDir, MEDIA_SIGNING_SECRET: SECRET });
  [alice, friend, stranger] = await Promise.all([createUser(t), createUser(t), createUser(t)]);
  await befriend(t, alice, friend);
});
afterAll(async () => {
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

const get = (user: TestUser | undefined, url: string) =>
  t.app.inject({ method: 'GET', url, headers: user?.headers ?? {} });
const publish = (user: TestUser, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/api/v1/posts', headers: user.headers, payload });

describe('media on posts', () => {
  it('shows a public post’s media with immutable URLs anyone can load', async () => {
    const media = await uploadReady(t, alice, await png(800, 600));
    const res = await publish(alice, { text: 'sunset', visibility: 'public', mediaIds: [media.id] });
    expect(res.statusCode, res.body).toBe(201);
    const [attached] = res.json().media;
    expect(attached).toMatchObject({ id: media.id, width: 800, height: 600, urlsExpireAt: null });
    expect(attached.variants.large.url).toBe(`/api/v1/media/${media.id}/large.webp`);
    const file = await get(undefined, attached.variants.large.url);
    expect(file.statusCode).toBe(200);
    expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(file.headers.etag).toMatch(/^"[\w-]+"$/);
    // anyone who can see the post can see the medium
    expect((await get(stranger, `/api/v1/media/${media.id}`)).json()).toMatchObject({
      status: 'ready',
      attached: true,
      fileName: '',
    });
    // and it cannot be attached twice
    const again = await publish(alice, { text: 'again', mediaIds: [media.id] });
    expect(again.statusCode).toBe(400);
  });

  it('keeps a friends-only post’s media behind signed, expiring URLs', async () => {
    const media = await uploadReady(t, alice, await png());
    const post = (
      await publish(alice, { text: 'friends only', visibility: 'friends', mediaIds: [media.id] })
    ).json();
    const seen = (await get(friend, `/api/v1/posts/${post.id}`)).json();
    const url: string = seen.media[0].variants.thumb.url;
    expect(url).toMatch(/\?expires=\d+&sig=/);
    expect(Date.parse(seen.media[0].urlsExpireAt)).toBeGreaterThan(Date.now());
    expect((await get(undefined, url)).statusCode).toBe(200);
    expect((await get(undefined, url)).headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    // without the signature: 403; a stranger cannot see the post or the medium
    expect((await get(undefined, url.split('?')[0]!)).statusCode).toBe(403);
    expect((await get(stranger, `/api/v1/posts/${post.id}`)).statusCode).toBe(404);
    expect((await get(stranger, `/api/v1/media/${media.id}`)).statusCode).toBe(404);
    expect((await get(friend, `/api/v1/media/${media.id}`)).statusCode).toBe(200);

    // a signature that has expired is refused, even though it was genuine
    const signer = new UrlSigner(Buffer.from(SECRET));
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = `/api/v1/media/${media.id}/thumb.webp?expires=${past}&sig=${signer.sign(`media:${media.id}/thumb`, past)}`;
    const res = await get(undefined, expired);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('INVALID_LINK');
    // and the same signer, not yet expired, is accepted (the test signs what the server signs)
    const future = past + 3600;
    const valid = `/api/v1/media/${media.id}/thumb.webp?expires=${future}&sig=${signer.sign(`media:${media.id}/thumb`, future)}`;
    expect((await get(undefined, valid)).statusCode).toBe(200);
  });

  it('takes only the author’s own ready media, at most 4', async () => {
    const mine = await Promise.all(
      [1, 2, 3, 4, 5].map(() => uploadReady(t, alice, Buffer.alloc(0)).catch(() => undefined)),
    );
    expect(mine.every((m) => m === undefined)).toBe(true); // empty files are refused at upload
    const ready = [];
    for (let i = 0; i < 5; i++) ready.push(await uploadReady(t, alice, await png(10 + i, 10)));
    const five = await publish(alice, { text: 'five', mediaIds: ready.map((m) => m.id) });
    expect(five.statusCode).toBe(400);
    expect(five.json().error.code).toBe('VALIDATION_FAILED');

    const theirs = await uploadReady(t, stranger, await png());
    const stolen = await publish(alice, { text: 'not mine', mediaIds: [theirs.id] });
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json().error).toMatchObject({
      code: 'MEDIA_NOT_ATTACHABLE',
      details: { mediaIds: [theirs.id] },
    });

    const pending = (await upload(t, alice, await png())).json();
    const notReady = await publish(alice, { text: 'too soon', mediaIds: [pending.id] });
    expect(notReady.json().error.code).toBe('MEDIA_NOT_ATTACHABLE');
    const unknown = await publish(alice, {
      text: 'nothing',
      mediaIds: ['01890000-0000-7000-8000-000000000000'],
    });
    expect(unknown.json().error.code).toBe('MEDIA_NOT_ATTACHABLE');
    // the failed post attached nothing
    expect((await get(stranger, `/api/v1/media/${theirs.id}`)).statusCode).toBe(200);
    expect((await get(stranger, `/api/v1/media/${theirs.id}`)).json().attached).toBe(false);

    const four = await publish(alice, { text: 'four', mediaIds: ready.slice(0, 4).map((m) => m.id) });
    expect(four.statusCode).toBe(201);
    expect(four.json().media.map((m: { id: string }) => m.id)).toEqual(ready.slice(0, 4).map((m) => m.id));
    await runJobs(t);
  });

  it('shows media in feeds and timelines', async () => {
    const media = await uploadReady(t, alice, await png());
    await publish(alice, { text: 'in the feed', visibility: 'friends', mediaIds: [media.id] });
    await runJobs(t);
    const feed = (await get(friend, '/api/v1/feed')).json();
    const item = feed.items.find((p: { media: { id: string }[] }) => p.media[0]?.id === media.id);
    expect(item).toBeDefined();
    const timeline = (await get(friend, `/api/v1/users/${alice.username}/posts`)).json();
    expect(timeline.items.some((p: { media: unknown[] }) => p.media.length > 0)).toBe(true);
  });

  it('deletes a post’s media (rows and bytes) by a job when the post is deleted', async () => {
    const media = await uploadReady(t, alice, await png());
    const post = (await publish(alice, { text: 'ephemeral', mediaIds: [media.id] })).json();
    expect(existsSync(join(dataDir, 'media', media.id))).toBe(true);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/posts/${post.id}`,
      headers: alice.headers,
    });
    expect(del.statusCode).toBe(204);
    await runJobs(t);
    expect(existsSync(join(dataDir, 'media', media.id))).toBe(false);
    expect((await get(alice, `/api/v1/media/${media.id}`)).statusCode).toBe(404);
  });

  it('sweeps uploads left unattached for 24 hours', async () => {
    const old = await uploadReady(t, alice, await png());
    const fresh = await uploadReady(t, alice, await png());
    await sql`UPDATE media SET created_at = now() - interval '25 hours' WHERE id = ${old.id}`.execute(
      t.platform.db.primary,
    );
    const { jobHandlers } = await import('../src/jobs.ts');
    await jobHandlers(t.platform)['media.cleanup']({}, { jobId: 'test', attempts: 1 });
    expect((await get(alice, `/api/v1/media/${old.id}`)).statusCode).toBe(404);
    expect(existsSync(join(dataDir, 'media', old.id))).toBe(false);
    expect((await get(alice, `/api/v1/media/${fresh.id}`)).statusCode).toBe(200);
  });
});
