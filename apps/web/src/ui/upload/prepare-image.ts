/** The largest side an image keeps before upload (the server's large variant is 1,600 px). */
export const MAX_SIDE = 2560;
/** The server's default MEDIA_MAX_BYTES; checked before any byte is sent. */
export const MAX_UPLOAD_BYTES = 15 * 1024 * 1024;
export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif'];

export interface PreparedImage {
  blob: Blob;
  fileName: string;
  width: number | undefined;
  height: number | undefined;
  /** The file was re-encoded in the browser (downscaled if needed, metadata such as GPS gone). */
  reencoded: boolean;
}

/**
 * Re-encodes a still image through a canvas: pixels only, so EXIF (GPS, camera) and other metadata
 * never leave the device, and anything larger than MAX_SIDE is downscaled first. Animated GIFs are
 * sent as they are (a canvas keeps one frame); the server strips their metadata when it re-encodes.
 */
export async function prepareImage(file: File): Promise<PreparedImage> {
  if (file.type === 'image/gif' || typeof createImageBitmap !== 'function') {
    return { blob: file, fileName: file.name, width: undefined, height: undefined, reencoded: false };
  }
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  try {
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d canvas');
    ctx.drawImage(bitmap, 0, 0, width, height);
    const keepAlpha = file.type === 'image/png' || file.type === 'image/webp';
    const type = keepAlpha ? 'image/webp' : 'image/jpeg';
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.9));
    if (!blob) throw new Error('the image could not be encoded');
    const base = file.name.replace(/\.[^.]*$/, '') || 'image';
    return { blob, fileName: `${base}.${keepAlpha ? 'webp' : 'jpg'}`, width, height, reencoded: true };
  } finally {
    bitmap.close();
  }
}
