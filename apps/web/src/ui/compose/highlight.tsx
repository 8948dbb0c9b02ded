const TOKEN = /(#[\p{L}\p{N}_]+|@[A-Za-z0-9_]{3,30})/u;

/** Splits text into plain runs and hashtag/mention tokens (odd indexes are tokens). */
export function tokenize(text: string): string[] {
  return text.split(new RegExp(TOKEN.source, 'gu'));
}

/**
 * What sits behind the transparent textarea: the same text, with hashtags and mentions marked.
 * Hidden from assistive technology (the textarea is the control).
 */
export function HighlightBackdrop({ text }: { text: string }) {
  const parts = tokenize(text);
  return (
    <div className="compose-backdrop" aria-hidden="true">
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one string, in order
          <mark key={i} className={part.startsWith('#') ? 'hashtag' : 'mention'}>
            {part}
          </mark>
        ) : (
          part
        ),
      )}
      {/* a final newline needs a character after it to take up a line */}
      {'\u200b'}
    </div>
  );
}
