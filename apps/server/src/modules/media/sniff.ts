import { Readable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import type { MediaMime } from '../../platform/db/schema-media.ts';
import { AppError } from '../../platform/errors.ts';

/** Enough leading bytes for file-type to tell every allowed format. */
export const SNIFF_BYTES = 4100;
const ALLOWED: ReadonlySet<string> = new Set<MediaMime>([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
]);

/** The image type the bytes say, if it is one Kith accepts (names and client types are never asked). */
export async function sniffImage(head: Buffer): Promise<MediaMime | undefined> {
  const type = await fileTypeFromBuffer(head);
  return type && ALLOWED.has(type.mime) ? (type.mime as MediaMime) : undefined;
}

/**
 * Passes `source` through unchanged while enforcing `maxBytes` (MEDIA_TOO_LARGE) and checking the
 * type from the first bytes before any of them go on (UNSUPPORTED_IMAGE); `onType` gets the type.
 */
export function guardedUpload(
  source: AsyncIterable<Buffer>,
  maxBytes: number,
  onType: (mime: MediaMime) => void,
): Readable {
  async function* guard() {
    let size = 0;
    let head: Buffer[] | undefined = [];
    let headBytes = 0;
    const check = async (chunks: Buffer[]) => {
      const mime = await sniffImage(Buffer.concat(chunks).subarray(0, SNIFF_BYTES));
      if (!mime) throw new AppError('UNSUPPORTED_IMAGE');
      onType(mime);
    };
    for await (const chunk of source) {
      size += chunk.length;
      if (size > maxBytes)
        throw new AppError('MEDIA_TOO_LARGE', `The file is larger than ${maxBytes} bytes.`);
      if (!head) {
        yield chunk;
        continue;
      }
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes >= SNIFF_BYTES) {
        await check(head);
        yield* head;
        head = undefined;
      }
    }
    if (head) {
      await check(head);
      yield* head;
    }
  }
  return Readable.from(guard(), { objectMode: false });
}
