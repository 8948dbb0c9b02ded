import { AppError } from '../errors.ts';

// whitespace and invisible format characters (zero-width, bidi controls) carry no content
const INVISIBLE = /[\s\p{Cf}]/gu;

/** Whether a text has nothing a reader could see. */
export const isBlank = (text: string) => text.replace(INVISIBLE, '') === '';

/**
 * Refuses a text made only of whitespace or invisible characters (400 VALIDATION_FAILED, with the
 * field's JSON pointer in `details`); returns it trimmed.
 */
export function visibleText(text: string, path: string, what = path.slice(1)): string {
  if (isBlank(text)) {
    throw new AppError('VALIDATION_FAILED', `The ${what} is empty.`, [
      { in: 'body', path, message: 'must not be blank' },
    ]);
  }
  return text.trim();
}
