import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers/app.ts';
import { createUser, GENEROUS_AUTH_LIMITS, type TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';
import {
  animatedGif,
  jpegHtmlPolyglot,
  jpegWithGps,
  multipart,
  png,
  pngDeclaring,
  upload,
  uploadReady,
} from './media-helpers.ts';

const MAX_BYTES = 200_000;
let dataDir: string;
let t: TestApp;
let alice: TestUser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kith-media-'));
  t = await buildTestApp({ ...GENEROUS_AUTH_LIMITS, DATA_DIR: dataDir, MEDIA_MAX_BYTES: String(MAX_BYTES) });
  alice = await createUser(t);
});
afterAll(async () => {
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

const get = (user: TestUser, url: string) => t.app.inject({ method: 'GET', url, headers: user.headers });
const fetchFile = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers });
const mediaFiles = async () => (await readdir(join(dataDir, 'media'), { recursive: true })).map(String);

describe('upload and processing (disk)', () => {
  it('accepts a JPEG, re-encodes it upright without EXIF or GPS, and serves private variants by signed URL', async () => {
    const original = await jpegWithGps(640, 480);
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const res = await upload(t, alice, original, { filename: 'holiday.jpg' });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ id: expect.any(String), status: 'processing' });

    const pending = (await get(alice, `/api/v1/media/${res.json().id}`)).json();
    expect(pending).toMatchObject({ status: 'processing', variants: null, mimeType: 'image/jpeg' });

    await runJobs(t);
    const media = (await get(alice, `/api/v1/media/${res.json().id}`)).json();
    expect(media).toMatchObject({
      status: 'ready',
      failureReason: null,
      fileName: 'holiday.jpg',
      // orientation 6: 640 × 480 stored, shown 480 × 640
      width: 480,
      height: 640,
      animated: false,
      attached: false,
      placeholder: expect.stringMatching(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,}$/),
    });
    expect(media.variants.thumb).toMatchObject({ width: 240, height: 320 });
    expect(media.variants.large).toMatchObject({ width: 480, height: 640 });
    // unattached: private, so signed and expiring
    expect(media.variants.thumb.url).toMatch(/^\/api\/v1\/media\/[0-9a-f-]+\/thumb\.webp\?expires=\d+&sig=/);
    expect(Date.parse(media.urlsExpireAt)).toBeGreaterThan(Date.now());

    const file = await fetchFile(media.variants.large.url);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/webp');
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    expect(file.headers['content-disposition']).toBe(`inline; filename="${media.id}-large.webp"`);
    expect(file.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    const served = await sharp(file.rawPayload).metadata();
    expect(served).toMatchObject({ format: 'webp', width: 480, height: 640 });
    expect(served.exif).toBeUndefined();
    expect(served.orientation).toBeUndefined();
    expect(file.rawPayload.includes(Buffer.from('KithCam'))).toBe(false);

    const again = await fetchFile(media.variants.large.url, { 'if-none-match': String(file.headers.etag) });
    expect(again.statusCode).toBe(304);

    // no URL without a signature for private media, and originals are never served
    expect((await fetchFile(`/api/v1/media/${media.id}/large.webp`)).statusCode).toBe(403);
    expect((await fetchFile(`/api/v1/media/${media.id}/original`)).statusCode).toBe(400);
  });

  it('turns an animated GIF into an animated WebP and a PNG into WebP', async () => {
    const gif = await uploadReady(t, alice, await animatedGif(), 'dance.gif');
    expect(gif).toMatchObject({
      status: 'ready',
      mimeType: 'image/gif',
      animated: true,
      width: 120,
      height: 90,
    });
    const large = await fetchFile(gif.variants.large.url);
    expect(await sharp(large.rawPayload, { animated: true }).metadata()).toMatchObject({
      format: 'webp',
      pages: 3,
    });
    const still = await uploadReady(t, alice, await png(2400, 1200), 'wide.png');
    expect(still).toMatchObject({ mimeType: 'image/png', width: 2400, height: 1200 });
    expect(still.variants.large).toMatchObject({ width: 1600, height: 800 });
    expect(still.variants.thumb).toMatchObject({ width: 320, height: 160 });
  });

  it('replays an upload retried with the same Idempotency-Key', async () => {
    const body = await png();
    const headers = { 'idempotency-key': 'upload-1' };
    const first = await upload(t, alice, body, { headers });
    const second = await upload(t, alice, body, { headers });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
  });

  it('sets alt text up to 1,500 characters, and only the owner may', async () => {
    const media = await uploadReady(t, alice, await png());
    const patch = (user: TestUser, alt: string) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/media/${media.id}`,
        headers: user.headers,
        payload: { alt },
      });
    const ok = await patch(alice, 'a'.repeat(1500));
    expect(ok.statusCode).toBe(200);
    expect(ok.json().alt).toHaveLength(1500);
    expect((await patch(alice, 'a'.repeat(1501))).json().error.code).toBe('VALIDATION_FAILED');
    const bob = await createUser(t);
    expect((await patch(bob, 'mine now')).statusCode).toBe(404);
    expect((await get(bob, `/api/v1/media/${media.id}`)).statusCode).toBe(404);
  });

  it('lets the owner delete an unattached medium, bytes included', async () => {
    const media = await uploadReady(t, alice, await png());
    expect((await mediaFiles()).some((f) => f.startsWith(media.id))).toBe(true);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/media/${media.id}`,
      headers: alice.headers,
    });
    expect(res.statusCode).toBe(204);
    expect((await mediaFiles()).some((f) => f.startsWith(media.id))).toBe(false);
    expect((await get(alice, `/api/v1/media/${media.id}`)).statusCode).toBe(404);
  });
});

describe('bad input', () => {
  it('refuses a declared body over the cap with 413 before reading it', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/media',
          headers: {
            ...alice.headers,
            'content-type': 'multipart/form-data; boundary=x',
            'content-length': String(100 * 1024 * 1024),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      // only the first 64 KiB of the declared 100 MiB are ever sent
      req.write(Buffer.alloc(64 * 1024));
    });
    expect(status).toBe(413);
  });

  it('refuses a file over the cap (streamed, no Content-Length to trust) with 413 and keeps nothing', async () => {
    const before = await mediaFiles().catch(() => []);
    const big = Buffer.concat([await png(), Buffer.alloc(MAX_BYTES)]);
    const res = await upload(t, alice, big);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('MEDIA_TOO_LARGE');
    expect(await mediaFiles()).toEqual(before);
  });

  it('refuses two files (400), no file (400) and 10,000 parts (413)', async () => {
    const image = await png();
    const post = (body: { payload: Buffer; headers: Record<string, string> }) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/media',
        headers: { ...alice.headers, ...body.headers },
        payload: body.payload,
      });
    const two = await post(
      multipart([
        { name: 'file', filename: 'a.png', data: image },
        { name: 'file', filename: 'b.png', data: image },
      ]),
    );
    expect(two.statusCode).toBe(400);
    expect(two.json().error.code).toBe('TOO_MANY_FILES');

    const none = await post(multipart([{ name: 'alt', data: 'no file here' }]));
    expect(none.statusCode).toBe(400);
    expect(none.json().error.code).toBe('NO_FILE');

    // 10,000 parts do not even fit in the size cap; a few dozen small ones hit the parts limit
    const many = await post(
      multipart(Array.from({ length: 10_000 }, (_, i) => ({ name: `f${i}`, data: 'x' }))),
    );
    expect(many.statusCode).toBe(413);
    const some = await post(multipart(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: 'x' }))));
    expect(some.statusCode).toBe(413);
    expect(some.json().error.code).toBe('TOO_MANY_PARTS');
    const fileLast = await post(
      multipart([
        ...Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: 'x' })),
        { name: 'file', filename: 'a.png', data: image },
      ]),
    );
    expect(fileLast.statusCode).toBe(413);

    const json = await t.app.inject({
      method: 'POST',
      url: '/api/v1/media',
      headers: alice.headers,
      payload: { file: 'nope' },
    });
    expect(json.statusCode).toBe(415);
  });

  it('refuses HTML or SVG named .jpg with 415, whatever the client says the type is', async () => {
    const html = '<!doctype html><html><body><script>alert(1)</script></body></html>';
    const svg =
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    for (const data of [html, svg, '']) {
      const res = await upload(t, alice, data, { filename: 'cat.jpg', contentType: 'image/jpeg' });
      expect(res.statusCode, data).toBe(415);
      expect(res.json().error.code).toBe('UNSUPPORTED_IMAGE');
    }
  });

  it('marks a PNG declaring 100,000 × 100,000 pixels failed without decoding it; the process stays healthy', async () => {
    const rssBefore = process.memoryUsage().rss;
    const media = await uploadReady(t, alice, await pngDeclaring(100_000, 100_000), 'bomb.png');
    expect(media).toMatchObject({ status: 'failed', failureReason: 'too_many_pixels', variants: null });
    // decoding would need 30 GB; nothing near that was allocated
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
    expect((await mediaFiles()).some((f) => f.startsWith(media.id))).toBe(false);
    expect((await t.app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    // and the next upload is processed as usual
    expect((await uploadReady(t, alice, await png())).status).toBe('ready');
  });

  it('marks truncated and corrupt images failed', async () => {
    const jpeg = await jpegWithGps();
    const truncated = await uploadReady(t, alice, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    expect(truncated).toMatchObject({ status: 'failed', failureReason: 'corrupt' });
    const image = await png(64, 64);
    const corrupt = Buffer.from(image);
    corrupt.fill(0x5a, 60, image.length - 12); // keep the signature and IHDR, garble the pixels
    expect(await uploadReady(t, alice, corrupt)).toMatchObject({
      status: 'failed',
      failureReason: 'corrupt',
    });
  });

  it('only ever serves a JPEG/HTML polyglot re-encoded, as WebP with nosniff', async () => {
    const polyglot = await jpegHtmlPolyglot();
    const media = await uploadReady(t, alice, polyglot, 'page.html');
    expect(media).toMatchObject({ status: 'ready', mimeType: 'image/jpeg', fileName: 'page.html' });
    for (const variant of [media.variants.thumb, media.variants.large]) {
      const file = await fetchFile(variant.url);
      expect(file.headers['content-type']).toBe('image/webp');
      expect(file.headers['x-content-type-options']).toBe('nosniff');
      expect(file.headers['content-disposition']).toMatch(
        /^inline; filename="[0-9a-f-]+-(thumb|large)\.webp"$/,
      );
      expect(file.rawPayload.subarray(0, 4).toString('latin1')).toBe('RIFF');
      expect(file.rawPayload.includes(Buffer.from('<script'))).toBe(false);
    }
  });

  it('ignores hostile file names for storage and sanitizes the displayed name', async () => {
    const names = [
      '../../../etc/passwd.png',
      'evil\u0000.png',
      'invoice\u202egnp.exe',
      `${'x'.repeat(5000)}.png`,
    ];
    for (const filename of names) {
      const media = await uploadReady(t, alice, await png(), filename);
      expect(media.status).toBe('ready');
      expect(media.fileName).not.toMatch(/[/\\\p{Cc}\p{Cf}]/u);
      expect(Array.from(media.fileName as string).length).toBeLessThanOrEqual(255);
      expect(media.fileName).not.toBe('');
    }
    const stored = await mediaFiles();
    expect(stored.every((f) => /^[0-9a-f-]{36}(\/(original|thumb\.webp|large\.webp))?$/.test(f))).toBe(true);
    expect(existsSync(join(dataDir, 'etc'))).toBe(false);
  });

  it('answers 403 to a tampered or malformed signature', async () => {
    const media = await uploadReady(t, alice, await png());
    const url = new URL(media.variants.thumb.url, 'http://kith.test');
    const sig = url.searchParams.get('sig')!;
    const tamperedSig = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    const cases = [
      `${url.pathname}?expires=${url.searchParams.get('expires')}&sig=${tamperedSig}`,
      `${url.pathname}?expires=${Number(url.searchParams.get('expires')) + 3600}&sig=${sig}`,
      `${url.pathname.replace('thumb', 'large')}${url.search}`,
      `${url.pathname}?sig=${sig}`,
    ];
    for (const target of cases) {
      const res = await fetchFile(target);
      expect(res.statusCode, target).toBe(403);
      expect(res.json().error.code).toBe('INVALID_LINK');
    }
  });
});

describe('limits', () => {
  it('rate-limits uploads per user and enforces the storage quota', async () => {
    const limited = await buildTestApp({
      DATA_DIR: dataDir,
      MEDIA_UPLOADS_PER_HOUR: '3',
      MEDIA_QUOTA_BYTES: '4000',
    });
    const user = await createUser(limited);
    const image = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#123' } })
      .jpeg()
      .toBuffer();
    expect(image.length).toBeLessThan(1000);
    const first = await upload(limited, user, image);
    expect(first.statusCode).toBe(202);
    await runJobs(limited);
    // the original and its variants now count against the quota
    const quota = await upload(limited, user, Buffer.concat([image, Buffer.alloc(4000 - image.length)]));
    expect(quota.statusCode).toBe(409);
    expect(quota.json().error.code).toBe('MEDIA_QUOTA_EXCEEDED');
    expect((await upload(limited, user, image)).statusCode).toBe(202);
    const fourth = await upload(limited, user, image);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.headers['retry-after']).toBeDefined();
    await limited.close();
  });

  it('exposes upload, processing, queue-depth and bytes-stored metrics', async () => {
    const text = await t.platform.metrics.registry.metrics();
    expect(text).toMatch(/kith_media_uploads_total\{outcome="accepted"\} \d+/);
    expect(text).toMatch(/kith_media_uploads_total\{outcome="unsupported"\} \d+/);
    expect(text).toMatch(/kith_media_processing_seconds_count\{outcome="failed"\} \d+/);
    expect(text).toMatch(/kith_media_queue_depth 0/);
    expect(text).toMatch(/kith_media_bytes_stored [1-9]\d*/);
  });
});
