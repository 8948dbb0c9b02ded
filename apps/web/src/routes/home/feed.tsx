import { Link } from '@tanstack/react-router';
import { defaultRangeExtractor, useWindowVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { type Post, PostBody } from '../../ui/post/post-card.tsx';
import { ShortcutHelp, useFeedShortcuts } from './feed-keys.tsx';
import './feed.css';

export interface FeedProps {
  posts: Post[];
  label: string;
  hasMore: boolean;
  busy: boolean;
  loadMore: () => void;
  error?: unknown;
  /** Keeps item sizes across visits (feed → post → back), so the restored scroll lands where it was. */
  cacheKey?: string;
}

/** Space between posts, in px (0.75rem). */
const GAP = 12;
/** A post's height before it is measured: a text-only post with its header and counts. */
const ESTIMATED_HEIGHT = 180;
/** Posts rendered beyond the viewport on each side (keyboard moves and fast scrolls land on rendered ones). */
const OVERSCAN = 4;
/** Start loading the next page when this many loaded posts are left below the window. */
const PREFETCH_ROWS = 5;

type Measurements = ReturnType<ReturnType<typeof useWindowVirtualizer>['takeSnapshot']>;
const sizeCache = new Map<string, Measurements>();

/**
 * A windowed list of posts with feed semantics (WAI-ARIA feed pattern): only the posts near the
 * viewport are in the DOM, each an `article` with its position in the whole list
 * (`aria-posinset`/`aria-setsize`, -1 while more can load). The next page loads as the end comes
 * near; j/k move focus post by post and scroll posts that are not rendered yet into the window first.
 */
export function Feed({ posts, label, hasMore, busy, loadMore, error, cacheKey }: FeedProps) {
  const { t } = useTranslation();
  const list = useRef<HTMLDivElement>(null);
  const help = useRef<HTMLDialogElement>(null);
  const [offset, setOffset] = useState(0);
  const [said, setSaid] = useState('');
  // the focused post stays rendered even when scrolled far away, so focus is never dropped
  const focused = useRef<number | undefined>(undefined);
  const pendingFocus = useRef<number | undefined>(undefined);

  useLayoutEffect(() => {
    setOffset(list.current ? list.current.getBoundingClientRect().top + window.scrollY : 0);
  }, []);

  const virtualizer = useWindowVirtualizer({
    count: posts.length,
    estimateSize: () => ESTIMATED_HEIGHT,
    overscan: OVERSCAN,
    gap: GAP,
    scrollMargin: offset,
    getItemKey: (i) => posts[i]?.id ?? i,
    initialMeasurementsCache: cacheKey ? sizeCache.get(cacheKey) : undefined,
    rangeExtractor: useCallback((range: Parameters<typeof defaultRangeExtractor>[0]) => {
      const indexes = defaultRangeExtractor(range);
      const keep = focused.current;
      if (keep === undefined || keep >= range.count || indexes.includes(keep)) return indexes;
      return [...indexes, keep].sort((a, b) => a - b);
    }, []),
  });
  const items = virtualizer.getVirtualItems();

  useEffect(() => {
    if (!cacheKey) return;
    return () => {
      sizeCache.set(cacheKey, virtualizer.takeSnapshot());
    };
  }, [cacheKey, virtualizer]);

  const last = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (hasMore && !busy && !error && last >= posts.length - PREFETCH_ROWS) loadMore();
  }, [last, posts.length, hasMore, busy, error, loadMore]);

  // focus a post once it is in the DOM (right away when it already is)
  const focusPending = useCallback(() => {
    const index = pendingFocus.current;
    if (index === undefined) return;
    const el = list.current?.querySelector<HTMLElement>(`[data-index="${index}"]`);
    if (!el) return;
    pendingFocus.current = undefined;
    el.focus({ preventScroll: true });
    const box = el.getBoundingClientRect();
    const top = document.querySelector('.topbar')?.getBoundingClientRect().bottom ?? 0;
    if (box.top < top || box.bottom > window.innerHeight) {
      virtualizer.scrollToIndex(index, { align: box.top < top ? 'start' : 'end' });
    }
  }, [virtualizer]);
  useLayoutEffect(focusPending);

  const focusIndex = useCallback(
    (index: number) => {
      const target = Math.max(0, Math.min(posts.length - 1, index));
      focused.current = target;
      pendingFocus.current = target;
      if (!list.current?.querySelector(`[data-index="${target}"]`)) {
        virtualizer.scrollToIndex(target, { align: 'start' });
      }
      focusPending();
    },
    [posts.length, virtualizer, focusPending],
  );

  /** The post keyboard navigation starts from when focus is not in the feed: the first one on screen. */
  const firstOnScreen = useCallback(() => {
    const top = window.scrollY - offset;
    return virtualizer.getVirtualItems().find((item) => item.end - offset > top + 1)?.index ?? 0;
  }, [virtualizer, offset]);

  useFeedShortcuts({
    posts,
    container: list,
    loadMore,
    openHelp: () => help.current?.showModal(),
    focusIndex,
    firstOnScreen,
    canLoadMore: hasMore,
    announce: setSaid,
  });

  const setSize = hasMore ? -1 : posts.length;
  return (
    <>
      <p className="hint">{t('shortcuts.hint')}</p>
      <ShortcutHelp dialog={help} />
      <p className="visually-hidden" role="status">
        {said}
      </p>
      <div
        role="feed"
        aria-label={label}
        aria-busy={busy}
        ref={list}
        className="feed-window"
        style={{ height: virtualizer.getTotalSize() }}
        onFocus={(e) => {
          const index = Number((e.target as HTMLElement).closest('[data-index]')?.getAttribute('data-index'));
          if (Number.isInteger(index)) focused.current = index;
        }}
      >
        {items.map((item) => {
          const post = posts[item.index]!;
          return (
            <article
              key={item.key}
              data-index={item.index}
              ref={virtualizer.measureElement}
              className="post feed-item"
              style={{ transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)` }}
              aria-posinset={item.index + 1}
              aria-setsize={setSize}
              // biome-ignore lint/a11y/noNoninteractiveTabindex: the feed pattern (WAI-ARIA APG) makes each article focusable; j/k move that focus
              tabIndex={0}
              aria-labelledby={`post-${post.id}-author`}
            >
              <PostBody post={post} eagerMedia={item.index < 2} />
              <Link to="/posts/$postId" params={{ postId: post.id }} className="small">
                {t('postPage.open')}
              </Link>
            </article>
          );
        })}
      </div>
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
