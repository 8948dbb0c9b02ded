import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAMES, ImageProcessor } from '../src/modules/media/image-processor.ts';
import { buildTestApp } from './helpers/app.ts';
import { createUser } from './helpers/factories.ts';
import { uploadReady } from './media-helpers.ts';

const SIDE = 4;

/**
 * A GIF of `frames` frames of side × side pixels: a dot walking over the frame, so that no two
 * consecutive frames are equal (the encoder would merge those).
 */
async function manyFrameGif(frames: number, side = SIDE): Promise<Buffer> {
  const pixels = side * side;
  const raw = Buffer.alloc(pixels * frames * 3);
  for (let f = 0; f < frames; f++) {
    const dot = (f * 3) % pixels;
    raw.fill(255, (f * pixels + dot) * 3, (f * pixels + dot + 1) * 3);
  }
  return sharp(raw, { raw: { width: side, height: side * frames, channels: 3, pageHeight: side } })
    .gif({ loop: 0, delay: Array(frames).fill(40) })
    .toBuffer();
}

const pagesOf = async (webp: Buffer) => (await sharp(webp, { animated: true }).metadata()).pages ?? 1;

const dir = await mkdtemp(join(tmpdir(), 'kith-frames-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const file = async (name: string, data: Buffer) => {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
};

describe('animated images: frame and total-pixel caps, read before decoding', () => {
  it('keeps an animation within the caps whole', async () => {
    const processor = new ImageProcessor({ maxPixels: 1_000_000, concurrency: 1, maxFrames: 20 });
    const image = await processor.process(await file('twenty.gif', await manyFrameGif(20)));
    expect(image).toMatchObject({ animated: true, frames: 20, width: SIDE, height: SIDE });
    expect(await pagesOf(image.variants.large.data)).toBe(20);
  });

  it('makes an animation of more frames than the cap its first frame', async () => {
    const processor = new ImageProcessor({ maxPixels: 1_000_000, concurrency: 1, maxFrames: 20 });
    const image = await processor.process(await file('twenty-one.gif', await manyFrameGif(21)));
    expect(image).toMatchObject({ animated: false, frames: 21, width: SIDE, height: SIDE });
    expect(await pagesOf(image.variants.large.data)).toBe(1);
    expect(await pagesOf(image.variants.thumb.data)).toBe(1);
  });

  it('makes an animation beyond the pixel cap over all its frames (frames × width × height) its first frame', async () => {
    // 10 frames of 16 × 16 = 2,560 pixels: within the frame cap, beyond a 2,000-pixel cap
    const processor = new ImageProcessor({ maxPixels: 2_000, concurrency: 1, maxFrames: 500 });
    const image = await processor.process(await file('wide.gif', await manyFrameGif(10, 16)));
    expect(image).toMatchObject({ animated: false, frames: 10, width: 16, height: 16 });
    expect(await pagesOf(image.variants.large.data)).toBe(1);
    // one frame beyond the cap: nothing smaller to keep, refused
    const tiny = new ImageProcessor({ maxPixels: 200, concurrency: 1 });
    await expect(tiny.process(await file('big-frame.gif', await manyFrameGif(2, 16)))).rejects.toMatchObject({
      reason: 'too_many_pixels',
    });
  });

  it('turns an uploaded 10,000-frame GIF into a one-frame WebP, through the upload API and the job', async () => {
    const t = await buildTestApp();
    const alice = await createUser(t);
    const gif = await manyFrameGif(10_000);
    expect((await sharp(gif).metadata()).pages).toBe(10_000);
    expect(10_000).toBeGreaterThan(DEFAULT_MAX_FRAMES);

    const media = await uploadReady(t, alice, gif, 'ten-thousand.gif');
    expect(media).toMatchObject({
      status: 'ready',
      mimeType: 'image/gif',
      animated: false,
      width: SIDE,
      height: SIDE,
    });
    const large = await t.app.inject({ method: 'GET', url: media.variants.large.url });
    expect(large.statusCode).toBe(200);
    expect(await pagesOf(large.rawPayload)).toBe(1);

    // a short animation uploaded the same way stays animated
    const short = await uploadReady(t, alice, await manyFrameGif(12), 'short.gif');
    expect(short).toMatchObject({ status: 'ready', animated: true });
    const shortLarge = await t.app.inject({ method: 'GET', url: short.variants.large.url });
    expect(await pagesOf(shortLarge.rawPayload)).toBe(12);
  });
});
