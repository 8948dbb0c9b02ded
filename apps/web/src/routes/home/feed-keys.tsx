import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { api, call } from '../../api/client.ts';
import { i18next } from '../../i18n/index.ts';
import type { Post } from '../../ui/post/post-card.tsx';

/** Keys typed into a field are text, not shortcuts. */
const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export interface FeedShortcutOptions {
  posts: Post[];
  container: React.RefObject<HTMLElement | null>;
  loadMore: () => void;
  openHelp: () => void;
  /** Moves focus to a post by its position, rendering it first when the list is windowed. */
  focusIndex: (index: number) => void;
  /** Where j/k start when focus is not on a post. */
  firstOnScreen: () => number;
  canLoadMore: boolean;
  /** Says politely what a shortcut did (r has no other visible effect than the count). */
  announce: (message: string) => void;
}

/** The position of the post that holds focus, from its `data-index` (the DOM holds only a window of posts). */
function focusedIndex(container: HTMLElement | null): number | undefined {
  const article = document.activeElement?.closest<HTMLElement>('article[data-index]');
  if (!article || !container?.contains(article)) return undefined;
  const index = Number(article.dataset.index);
  return Number.isInteger(index) ? index : undefined;
}

/**
 * j/k next/previous post, Enter open, r like (or un-like), c comment, ? the list of shortcuts.
 * The current post is the focused article; they work while the feed is windowed (the next post is
 * rendered, then focused) and moving past the last loaded one loads the next page.
 */
export function useFeedShortcuts(options: FeedShortcutOptions) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const latest = useRef(options);
  latest.current = options;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      // a dialog (the shortcut list, a confirmation) owns the keyboard while open
      if (document.querySelector('dialog[open]')) return;
      const { posts, container, loadMore, openHelp, focusIndex, firstOnScreen, canLoadMore, announce } =
        latest.current;
      const current = focusedIndex(container.current);
      const post = current === undefined ? undefined : posts[current];
      switch (event.key) {
        case 'j':
          if (posts.length === 0) return;
          if (current === undefined) {
            focusIndex(firstOnScreen());
            break;
          }
          if (canLoadMore && current >= posts.length - 3) loadMore();
          focusIndex(current + 1);
          break;
        case 'k':
          if (posts.length === 0) return;
          focusIndex(current === undefined ? firstOnScreen() : current - 1);
          break;
        case 'Enter':
          if (!post || !(document.activeElement instanceof HTMLElement)) return;
          if (document.activeElement.tagName !== 'ARTICLE') return; // Enter on a link or button is theirs
          void navigate({ to: '/posts/$postId', params: { postId: post.id } });
          break;
        case 'c':
          if (!post) return;
          void navigate({ to: '/posts/$postId', params: { postId: post.id }, hash: 'comment' });
          break;
        case 'r':
          if (!post) return;
          void toggleLike(post)
            .then(
              () =>
                announce(
                  i18next.t(post.myReaction ? 'mentions.unreacted' : 'mentions.reacted', {
                    name: post.author.displayName || post.author.username,
                  }),
                ),
              (error: unknown) =>
                announce(error instanceof Error ? error.message : i18next.t('errors.unexpected')),
            )
            .finally(() => queryClient.invalidateQueries({ queryKey: ['feed'] }));
          break;
        case '?':
          openHelp();
          break;
        default:
          return;
      }
      event.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [navigate, queryClient]);
}

function toggleLike(post: Post) {
  return post.myReaction
    ? call(
        api.DELETE('/api/v1/posts/{id}/reactions/{kind}', {
          params: { path: { id: post.id, kind: post.myReaction } },
        }),
      )
    : call(
        api.PUT('/api/v1/posts/{id}/reactions/{kind}', {
          params: { path: { id: post.id, kind: 'like' } },
        }),
      );
}
