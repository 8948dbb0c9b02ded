import { Link } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { type Post, PostBody } from '../../ui/post/post-card.tsx';
import { ShortcutHelp, useFeedShortcuts } from './feed-keys.tsx';

export interface FeedProps {
  posts: Post[];
  label: string;
  hasMore: boolean;
  busy: boolean;
  loadMore: () => void;
  error?: unknown;
}

/** A list of posts with feed semantics; the next page loads when its end comes into view. */
export function Feed({ posts, label, hasMore, busy, loadMore, error }: FeedProps) {
  const { t } = useTranslation();
  const sentinel = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const help = useRef<HTMLDialogElement>(null);
  useFeedShortcuts(posts, list, loadMore, () => help.current?.showModal());
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasMore || busy || error) return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) loadMore();
      },
      { rootMargin: '600px 0px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [hasMore, busy, error, loadMore]);
  const setSize = hasMore ? -1 : posts.length;
  return (
    <>
      <p className="hint">{t('shortcuts.hint')}</p>
      <ShortcutHelp dialog={help} />
      <div role="feed" aria-label={label} aria-busy={busy} ref={list}>
        {posts.map((post, i) => (
          <article
            key={post.id}
            className="post"
            aria-posinset={i + 1}
            aria-setsize={setSize}
            // biome-ignore lint/a11y/noNoninteractiveTabindex: the feed pattern (WAI-ARIA APG) makes each article focusable; j/k move that focus
            tabIndex={0}
            aria-labelledby={`post-${post.id}-author`}
          >
            <PostBody post={post} />
            <Link to="/posts/$postId" params={{ postId: post.id }} className="small">
              {t('postPage.open')}
            </Link>
          </article>
        ))}
      </div>
      <div ref={sentinel} />
      {error ? <ErrorMessage error={error} onRetry={loadMore} /> : null}
      {busy && <p role="status">{t('feed.loadingMore')}</p>}
      {!hasMore && <p className="muted">{t('feed.end')}</p>}
      {hasMore && !busy && !error && (
        <button type="button" className="button" onClick={loadMore}>
          {t('feed.loadMore')}
        </button>
      )}
    </>
  );
}
