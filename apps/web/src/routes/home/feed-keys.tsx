import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import type { Post } from '../../ui/post/post-card.tsx';

/** Keys typed into a field are text, not shortcuts. */
const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

/**
 * j/k next/previous post, Enter open, r like (or un-like), c comment, ? the list of shortcuts.
 * The current post is the focused article; moving past the last loaded one loads the next page.
 */
export function useFeedShortcuts(
  posts: Post[],
  container: React.RefObject<HTMLElement | null>,
  loadMore: () => void,
  openHelp: () => void,
) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const latest = useRef({ posts, loadMore, openHelp });
  latest.current = { posts, loadMore, openHelp };
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      const articles = [...(container.current?.querySelectorAll<HTMLElement>('article') ?? [])];
      const current = articles.findIndex((a) => a.contains(document.activeElement));
      const post = current >= 0 ? latest.current.posts[current] : undefined;
      const focus = (i: number) => {
        const target = articles[Math.max(0, Math.min(articles.length - 1, i))];
        target?.focus();
        target?.scrollIntoView({ block: 'nearest' });
      };
      switch (event.key) {
        case 'j':
          if (current >= articles.length - 2) latest.current.loadMore();
          focus(current + 1);
          break;
        case 'k':
          focus(current < 0 ? 0 : current - 1);
          break;
        case 'Enter':
          if (!post || document.activeElement !== articles[current]) return;
          void navigate({ to: '/posts/$postId', params: { postId: post.id } });
          break;
        case 'c':
          if (!post) return;
          void navigate({ to: '/posts/$postId', params: { postId: post.id }, hash: 'comment' });
          break;
        case 'r':
          if (!post) return;
          void (
            post.myReaction
              ? call(
                  api.DELETE('/api/v1/posts/{id}/reactions/{kind}', {
                    params: { path: { id: post.id, kind: post.myReaction } },
                  }),
                )
              : call(
                  api.PUT('/api/v1/posts/{id}/reactions/{kind}', {
                    params: { path: { id: post.id, kind: 'like' } },
                  }),
                )
          ).finally(() => queryClient.invalidateQueries({ queryKey: ['feed'] }));
          break;
        case '?':
          latest.current.openHelp();
          break;
        default:
          return;
      }
      event.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [container, navigate, queryClient]);
}

/** The shortcut list, in a modal dialog (focus kept inside, Esc closes). */
export function ShortcutHelp({ dialog }: { dialog: React.RefObject<HTMLDialogElement | null> }) {
  const { t } = useTranslation();
  const keys = [
    ['j', t('shortcuts.next')],
    ['k', t('shortcuts.previous')],
    ['Enter', t('shortcuts.open')],
    ['r', t('shortcuts.react')],
    ['c', t('shortcuts.comment')],
    ['?', t('shortcuts.help')],
  ] as const;
  return (
    <dialog ref={dialog} aria-labelledby="shortcuts-title" className="dialog">
      <h2 id="shortcuts-title">{t('shortcuts.title')}</h2>
      <dl className="shortcuts">
        {keys.map(([key, label]) => (
          <div key={key}>
            <dt>
              <kbd>{key}</kbd>
            </dt>
            <dd>{label}</dd>
          </div>
        ))}
      </dl>
      <form method="dialog">
        <button type="submit" className="button">
          {t('shortcuts.close')}
        </button>
      </form>
    </dialog>
  );
}
