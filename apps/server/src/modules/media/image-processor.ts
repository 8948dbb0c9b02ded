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
  placeholder: string;
  variants: Record<VariantName, { data: Buffer; width: number; height: number }>;
}

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
 */
export class ImageProcessor {
  private readonly slots: Slots;

  constructor(private readonly options: { maxPixels: number; concurrency: number }) {
    this.slots = new Slots(options.concurrency);
    sharp.concurrency(1);
    sharp.cache(false);
  }

  process(path: string): Promise<ProcessedImage> {
    return this.slots.run(() => this.run(path));
  }

  private async run(path: string): Promise<ProcessedImage> {
    const meta = await sharp(path, { animated: true, limitInputPixels: this.options.maxPixels })
      .metadata()
      .catch((err: unknown) => {
        throw new ImageRejected(reasonOf(err), err);
      });
    if (!meta.width || !meta.height || !['jpeg', 'png', 'webp', 'gif', 'heif'].includes(meta.format ?? '')) {
      throw new ImageRejected('unsupported');
    }
    const pages = meta.pages ?? 1;
    const frameHeight = meta.pageHeight ?? meta.height;
    if (meta.width * frameHeight * pages > this.options.maxPixels) throw new ImageRejected('too_many_pixels');
    const animated = pages > 1;
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
