const MAX_LENGTH = 255;
// controls (Cc: NUL and the C0/C1 sets), format characters (Cf: bidi embeddings, overrides,
// isolates and marks, zero-width characters, BOM), line and paragraph separators
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/**
 * A client's file name made safe to display: no directories, no control or bidi-override
 * characters, NFC, at most 255 code points. Storage keys never derive from it.
 *
 * @example sanitizeFileName('../../etc/passwd\u0000.jpg') // 'passwd.jpg'
 */
export function sanitizeFileName(raw: string | undefined): string {
  if (!raw) return '';
  const base = raw.split(/[/\\]/).pop() ?? '';
  const clean = base.normalize('NFC').replace(UNSAFE, '').trim().replace(/^\.+/, '');
  return Array.from(clean).slice(0, MAX_LENGTH).join('');
}
