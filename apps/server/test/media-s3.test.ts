import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../src/platform/storage/s3-storage.ts';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import { jpegWithGps, png, upload } from './media-helpers.ts';

const BUCKET = 'kith-media';
let dir: string;
let s3: S3rver;
let endpoint: string;
let t: TestApp;
let alice: TestUser;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const s3Env = () => ({
  S3_ENDPOINT: endpoint,
  S3_BUCKET: BUCKET,
  S3_REGION: 'us-east-1',
  S3_ACCESS_KEY_ID: 'S3RVER',
  S3_SECRET_ACCESS_KEY: 'S3RVER',
  S3_FORCE_PATH_STYLE: 'true',
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kith-s3rver-'));
  const port = await freePort();
  s3 = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET }],
  });
  await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  t = await buildTestApp({ ...s3Env(), DATA_DIR: join(dir, 'data') });
  alice = await createUser(t);
});
afterAll(async () => {
  await t?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (url: string) => t.app.inject({ method: 'GET', url, headers: alice.headers });
const objectKeys = async () => {
  const res = await fetch(`${endpoint}/${BUCKET}?list-type=2`);
  return [...(await res.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
};

describe('media on S3 (s3rver)', () => {
  it('stores an upload in the bucket, processes it, and serves variants through presigned URLs', async () => {
    const res = await upload(t, alice, await jpegWithGps(1000, 800));
    expect(res.statusCode, res.body).toBe(202);
    const { id } = res.json();
    expect(await objectKeys()).toContain(`${id}/original`);
    await runJobs(t);
    const media = (await get(`/api/v1/media/${id}`)).json();
    expect(media).toMatchObject({ status: 'ready', width: 800, height: 1000 });
    const url = new URL(media.variants.large.url);
    expect(url.origin).toBe(endpoint);
    expect(url.searchParams.get('X-Amz-Signature')).toBeTruthy();
    expect(url.searchParams.get('response-content-type')).toBe('image/webp');
    const file = await fetch(url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/webp');
    expect(file.headers.get('content-disposition')).toBe(`inline; filename="${id}-large.webp"`);
    expect(await sharp(Buffer.from(await file.arrayBuffer())).metadata()).toMatchObject({
      format: 'webp',
      width: 800,
      height: 1000,
    });
    expect(media.urlsExpireAt).not.toBeNull();
  });

  it('refuses an expired presigned URL with 403', async () => {
    const storage = new S3Storage({
      endpoint,
      bucket: BUCKET,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    });
    await storage.put(
      'probe/object.webp',
      await sharp(await png())
        .webp()
        .toBuffer(),
      { contentType: 'image/webp' },
    );
    const url = await storage.presignGet('probe/object.webp', {
      expiresIn: 60,
      signedAt: new Date(Date.now() - 3600_000),
      contentType: 'image/webp',
      contentDisposition: 'inline',
      cacheControl: 'private',
    });
    expect((await fetch(url)).status).toBe(403);
    await storage.delete(['probe/object.webp']);
    await storage.close();
  });

  it('takes a direct upload: presigned PUT, then complete, then processing', async () => {
    const image = await png(300, 200);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/media/uploads',
      headers: alice.headers,
      payload: { size: image.length, fileName: '../direct.png' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id, upload: target } = created.json();
    expect(target.method).toBe('PUT');

    // completing before the bytes are there
    const early = await t.app.inject({
      method: 'POST',
      url: `/api/v1/media/${id}/complete`,
      headers: alice.headers,
    });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('UPLOAD_INCOMPLETE');

    const put = await fetch(target.url, { method: 'PUT', headers: target.headers, body: image });
    expect(put.status).toBe(200);
    const done = await t.app.inject({
      method: 'POST',
      url: `/api/v1/media/${id}/complete`,
      headers: alice.headers,
    });
    expect(done.statusCode, done.body).toBe(202);
    await runJobs(t);
    expect((await get(`/api/v1/media/${id}`)).json()).toMatchObject({
      status: 'ready',
      mimeType: 'image/png',
      fileName: 'direct.png',
      width: 300,
      height: 200,
    });
  });

  it('refuses a direct upload over the cap, and one whose bytes are not an image (415, deleted)', async () => {
    const tooBig = await t.app.inject({
      method: 'POST',
      url: '/api/v1/media/uploads',
      headers: alice.headers,
      payload: { size: 16 * 1024 * 1024 },
    });
    expect(tooBig.statusCode).toBe(413);

    const html = Buffer.from('<html><script>alert(1)</script></html>');
    const created = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/media/uploads',
        headers: alice.headers,
        payload: { size: html.length, fileName: 'cat.jpg' },
      })
    ).json();
    await fetch(created.upload.url, { method: 'PUT', headers: created.upload.headers, body: html });
    const done = await t.app.inject({
      method: 'POST',
      url: `/api/v1/media/${created.id}/complete`,
      headers: alice.headers,
    });
    expect(done.statusCode).toBe(415);
    expect(await objectKeys()).not.toContain(`${created.id}/original`);
    expect((await get(`/api/v1/media/${created.id}`)).json()).toMatchObject({
      status: 'failed',
      failureReason: 'unsupported',
    });
  });

  it('answers 409 to a direct upload on disk storage', async () => {
    const disk = await buildTestApp({ DATA_DIR: join(dir, 'disk') });
    const user = await createUser(disk);
    const res = await disk.app.inject({
      method: 'POST',
      url: '/api/v1/media/uploads',
      headers: user.headers,
      payload: { size: 100 },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('DIRECT_UPLOAD_UNAVAILABLE');
    await disk.close();
  });
});
