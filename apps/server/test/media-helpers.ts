import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { TestApp } from './helpers/app.ts';
import type { TestUser } from './helpers/factories.ts';
import { runJobs } from './helpers/jobs.ts';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

/** A multipart/form-data body built by hand, so that tests can also build broken ones. */
export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----kith${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
          (part.contentType ? `Content-Type: ${part.contentType}\r\n` : '') +
          '\r\n',
      ),
      Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** POST /media with one file part. */
export function upload(
  t: TestApp,
  user: TestUser,
  data: Buffer | string,
  options: { filename?: string; contentType?: string; headers?: Record<string, string> } = {},
) {
  const body = multipart([
    {
      name: 'file',
      filename: options.filename ?? 'photo.jpg',
      contentType: options.contentType ?? 'image/jpeg',
      data,
    },
  ]);
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/media',
    headers: { ...user.headers, ...body.headers, ...options.headers },
    payload: body.payload,
  });
}

/** Uploads, runs the processing job, and returns the medium's view. */
export async function uploadReady(t: TestApp, user: TestUser, data: Buffer, filename = 'photo.jpg') {
  const res = await upload(t, user, data, { filename });
  expect(res.statusCode, res.body).toBe(202);
  await runJobs(t);
  const view = await t.app.inject({
    method: 'GET',
    url: `/api/v1/media/${res.json().id}`,
    headers: user.headers,
  });
  expect(view.statusCode, view.body).toBe(200);
  return view.json();
}

/** A JPEG with EXIF orientation 6 (stored landscape, shown portrait) and GPS coordinates. */
export function jpegWithGps(width = 640, height = 480): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3366aa' } })
    .jpeg()
    .withExif({
      IFD0: { Orientation: '6', Make: 'KithCam' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 30/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 17/1 40/1',
      },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

export const png = (width = 64, height = 48, color = '#cc3300') =>
  sharp({ create: { width, height, channels: 3, background: color } })
    .png()
    .toBuffer();

/** A three-frame animated GIF. */
export async function animatedGif(): Promise<Buffer> {
  const frame = (background: string) =>
    sharp({ create: { width: 120, height: 90, channels: 4, background } })
      .png()
      .toBuffer();
  const frames = await Promise.all(['#f00', '#0f0', '#00f'].map(frame));
  return sharp(frames, { join: { animated: true } })
    .gif({ loop: 0 })
    .toBuffer();
}

/** A valid PNG header (correct CRC) declaring width × height, with one tiny IDAT after it. */
export async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const real = await png(8, 8);
  const ihdr = Buffer.from(real.subarray(8, 8 + 25));
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.writeUInt32BE(crc32(ihdr.subarray(4, 21)), 21);
  return Buffer.concat([real.subarray(0, 8), ihdr, real.subarray(33)]);
}

/** A JPEG that is also an HTML document (markup in a comment segment and after the end). */
export async function jpegHtmlPolyglot(): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } })
    .jpeg()
    .toBuffer();
  const html = Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>');
  const comment = Buffer.alloc(4);
  comment.writeUInt16BE(0xfffe, 0);
  comment.writeUInt16BE(html.length + 2, 2);
  // SOI, COM segment with the HTML, then the rest of the JPEG, then the HTML again after EOI
  return Buffer.concat([jpeg.subarray(0, 2), comment, html, jpeg.subarray(2), html]);
}
