import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';

/** The `@name` being typed right before the caret (a username is 3–30 of A–Z, 0–9, _). */
const MENTION_AT_CARET = /(?:^|[^\w@])@([A-Za-z0-9_]{1,30})$/;
const DEBOUNCE_MS = 200;
const MAX_SUGGESTIONS = 6;

export interface MentionToken {
  /** What follows the @. */
  prefix: string;
  /** Where the @ is, in UTF-16 units (textarea selection offsets). */
  start: number;
  end: number;
}

/** The mention being typed at `caret`, if any. */
export function mentionAt(text: string, caret: number): MentionToken | undefined {
  const match = MENTION_AT_CARET.exec(text.slice(0, caret));
  if (!match) return undefined;
  const prefix = match[1]!;
  return { prefix, start: caret - prefix.length - 1, end: caret };
}

/** The text with the token replaced by `@username ` and where the caret goes after it. */
export function completeMention(text: string, token: MentionToken, username: string) {
  const insert = `@${username} `;
  const rest = text.slice(token.end).replace(/^[A-Za-z0-9_]*\s?/, '');
  return { text: text.slice(0, token.start) + insert + rest, caret: token.start + insert.length };
}

const userSearch = (prefix: string) => ({
  queryKey: ['users', 'search', prefix] as const,
  queryFn: ({ signal }: { signal: AbortSignal }) =>
    call(api.GET('/api/v1/users', { params: { query: { query: prefix } }, signal })),
  staleTime: 60_000,
});

/**
 * @username completion for the compose textarea, following the ARIA 1.2 combobox pattern: the
 * textarea keeps focus and its native role (a textarea may not take role="combobox"), owns a
 * listbox through `aria-controls`/`aria-autocomplete="list"`, points at the active option with
 * `aria-activedescendant`; ↓/↑ move, Enter or Tab take the option, Esc closes. Results come from
 * the user search API, and their count is announced.
 */
export function useMentionAutocomplete(
  textarea: React.RefObject<HTMLTextAreaElement | null>,
  text: string,
  setText: (text: string) => void,
) {
  const { t } = useTranslation();
  const listId = useId();
  const [token, setToken] = useState<MentionToken | undefined>(undefined);
  const [term, setTerm] = useState('');
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<string | undefined>(undefined);
  /** Where the caret goes once a chosen completion is in the textarea. */
  const caretAfterChoice = useRef<number | undefined>(undefined);

  // in the commit that puts the completed text in the textarea, before any further key is handled:
  // placed later (e.g. in an animation frame), a key typed in between went in before the caret
  // moved, and the caret then jumped back over it
  useLayoutEffect(() => {
    const caret = caretAfterChoice.current;
    const el = textarea.current;
    if (caret === undefined || !el) return;
    caretAfterChoice.current = undefined;
    if (document.activeElement !== el) el.focus();
    el.setSelectionRange(caret, caret);
  });

  useEffect(() => {
    const next = token?.prefix ?? '';
    const timer = setTimeout(() => setTerm(next), next ? DEBOUNCE_MS : 0);
    return () => clearTimeout(timer);
  }, [token?.prefix]);

  const search = useQuery({
    ...userSearch(term),
    enabled: term.length > 0,
    placeholderData: keepPreviousData,
  });
  const options = token && term ? (search.data?.items ?? []).slice(0, MAX_SUGGESTIONS) : [];
  const tokenKey = token ? `${token.start}:${token.prefix}` : undefined;
  const open = options.length > 0 && tokenKey !== dismissed;
  const activeIndex = Math.min(active, Math.max(0, options.length - 1));

  /** Re-reads the token at the caret (after typing, clicking or moving the caret). */
  const sync = () => {
    const el = textarea.current;
    if (!el) return;
    const next = el.selectionStart === el.selectionEnd ? mentionAt(el.value, el.selectionStart) : undefined;
    setToken((prev) => (prev?.start === next?.start && prev?.prefix === next?.prefix ? prev : next));
    if (next?.prefix !== token?.prefix) setActive(0);
  };

  const choose = (username: string) => {
    if (!token) return;
    const done = completeMention(text, token, username);
    caretAfterChoice.current = done.caret;
    setText(done.text);
    setToken(undefined);
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (!open) return;
    switch (event.key) {
      case 'ArrowDown':
        setActive((activeIndex + 1) % options.length);
        break;
      case 'ArrowUp':
        setActive((activeIndex - 1 + options.length) % options.length);
        break;
      case 'Enter':
      case 'Tab':
        choose(options[activeIndex]!.username);
        break;
      case 'Escape':
        setDismissed(tokenKey);
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const optionId = (i: number) => `${listId}-${i}`;
  const textareaProps = {
    'aria-autocomplete': 'list' as const,
    'aria-controls': open ? listId : undefined,
    'aria-activedescendant': open ? optionId(activeIndex) : undefined,
    onKeyDown,
    onKeyUp: sync,
    onSelect: sync,
    onBlur: () => setToken(undefined),
  };

  const popup = (
    <>
      {open && (
        <div id={listId} role="listbox" className="mention-suggestions" aria-label={t('mentions.label')}>
          {options.map((user, i) => (
            // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard acts in the textarea (aria-activedescendant); a click is the pointer's way
            <div
              key={user.id}
              id={optionId(i)}
              role="option"
              tabIndex={-1}
              aria-selected={i === activeIndex}
              // keep focus (and the caret) in the textarea
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => choose(user.username)}
            >
              <span data-user-content>{user.displayName}</span>
              <span className="muted" data-user-content>
                @{user.username}
              </span>
            </div>
          ))}
        </div>
      )}
      <p className="visually-hidden" role="status">
        {open ? t('mentions.count', { count: options.length }) : ''}
      </p>
    </>
  );

  return { textareaProps, popup, sync };
}
