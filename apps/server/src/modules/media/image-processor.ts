import { encode } from 'blurhash';
import sharp, { type OutputInfo } from 'sharp';
import type { MediaFailure, VariantName } from '../../platform/db/schema-media.ts';

/** Longest side of each variant, in pixels. */
export const VARIANT_SIZES: Record<VariantName, number> = { thumb: 320, large: 1600 };
const WEBP_QUALITY = 80;
// failOn 'error': a truncated or corrupt image fails; libvips warnings (common in camera files) do not
const FAIL_ON = 'error';

/** The processor refused the image itself (retrying cannot help). */
export class ImageRejected extends Error {
  constructor(
    readonly reason: MediaFailure,
    cause?: unknown,
  ) {
    super(`image rejected: ${reason}`, { cause });
    this.name = 'ImageRejected';
  }
}

export interface ProcessedImage {
  width: number;
  height: number;
  animated: boolean;
  /** Frames in the upload; more than 1 with `animated: false` means the animation was too big to keep. */
  frames: number;
  placeholder: string;
  variants: Record<VariantName, { data: Buffer; width: number; height: number }>;
}

/** Frames an animation may have when no limit is configured (MEDIA_MAX_FRAMES). */
export const DEFAULT_MAX_FRAMES = 500;

/** A counting semaphore: at most `size` holders at once, the rest wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * Decodes hostile images safely: the pixel count is checked from the header before any decoding
 * (and again by libvips while decoding), at most `concurrency` images are processed at once in
 * this process, each with one libvips thread and no operation cache, so memory is bounded by
 * configuration rather than by the size of a burst. Output: auto-oriented WebP variants without
 * any metadata (EXIF, GPS, ICC are dropped), and a blurhash.
 *
 * Animations: every frame is decoded and re-encoded, so the work and the output grow with the
 * frame count. An animation is kept only within `maxFrames` frames and `maxPixels` decoded pixels
 * over all its frames (frames × width × height), both read from the header before decoding.
 * Beyond either, the medium is its first frame, a still image (`animated: false`): the upload
 * still gives the picture its author chose — the first frame is what Mastodon and Misskey already
 * show as an animation's still preview — rather than failing a post over its animation, and the
 * client sees `animated: false` in the medium it gets back, before the post is published. A
 * single frame beyond `maxPixels` is refused (too_many_pixels): there is no smaller picture to keep.
 */
export class ImageProcessor {
  private readonly slots: Slots;
  private readonly maxFrames: number;

  constructor(private readonly options: { maxPixels: number; concurrency: number; maxFrames?: number }) {
    this.slots = new Slots(options.concurrency);
    this.maxFrames = options.maxFrames ?? DEFAULT_MAX_FRAMES;
    sharp.concurrency(1);
    sharp.cache(false);
  }

  process(path: string): Promise<ProcessedImage> {
    return this.slots.run(() => this.run(path));
  }

  private async run(path: string): Promise<ProcessedImage> {
    // The header of the first frame (libvips refuses it beyond the pixel limit) and the frame count.
    const meta = await sharp(path, { limitInputPixels: this.options.maxPixels })
      .metadata()
      .catch((err: unknown) => {
        throw new ImageRejected(reasonOf(err), err);
      });
    if (!meta.width || !meta.height || !['jpeg', 'png', 'webp', 'gif', 'heif'].includes(meta.format ?? '')) {
      throw new ImageRejected('unsupported');
    }
    const frames = meta.pages ?? 1;
    const frameHeight = meta.height;
    if (meta.width * frameHeight > this.options.maxPixels) throw new ImageRejected('too_many_pixels');
    const animated =
      frames > 1 && frames <= this.maxFrames && meta.width * frameHeight * frames <= this.options.maxPixels;
    // not animated: libvips decodes the first frame only
    const input = { limitInputPixels: this.options.maxPixels, animated, failOn: FAIL_ON } as const;
    try {
      // One decode of the original; the thumbnail and the placeholder come from the large variant.
      const large = await sharp(path, input)
        .autoOrient()
        .resize(fit(VARIANT_SIZES.large))
        .webp({ quality: WEBP_QUALITY })
        .toBuffer({ resolveWithObject: true });
      const fromLarge = { animated, failOn: FAIL_ON } as const;
      const thumb = await sharp(large.data, fromLarge)
        .resize(fit(VARIANT_SIZES.thumb))
        .webp({ quality: WEBP_QUALITY })
        .toBuffer({ resolveWithObject: true });
      const tiny = await sharp(large.data)
        .resize(fit(32))
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const placeholder = encode(
        new Uint8ClampedArray(tiny.data.buffer, tiny.data.byteOffset, tiny.data.length),
        tiny.info.width,
        tiny.info.height,
        4,
        3,
      );
      const oriented = meta.autoOrient ?? { width: meta.width, height: frameHeight };
      return {
        width: oriented.width,
        height: animated ? frameHeight : oriented.height,
        animated,
        frames,
        placeholder,
        variants: {
          large: { data: large.data, width: large.info.width, height: pageHeight(large.info) },
          thumb: { data: thumb.data, width: thumb.info.width, height: pageHeight(thumb.info) },
        },
      };
    } catch (err) {
      throw new ImageRejected(reasonOf(err), err);
    }
  }
}

function reasonOf(err: unknown): MediaFailure {
  const message = String(err);
  if (/pixel limit/i.test(message)) return 'too_many_pixels';
  if (/unsupported image format/i.test(message)) return 'unsupported';
  return 'corrupt';
}

const fit = (size: number) => ({
  width: size,
  height: size,
  fit: 'inside' as const,
  withoutEnlargement: true,
});
const pageHeight = (info: OutputInfo) => info.pageHeight ?? info.height;
