import { Link } from '@tanstack/react-router';
import type { Range, VirtualItem } from '@tanstack/react-virtual';
import { lazy, Suspense, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { type Post, PostBody } from '../../ui/post/post-card.tsx';
import { useFeedShortcuts } from './feed-keys.tsx';
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

const ShortcutHelp = lazy(() => import('./shortcut-help.tsx'));

type VirtualLib = typeof import('@tanstack/react-virtual');
/** TanStack Virtual, loaded after the feed's first paint (it is not needed to show the first page). */
let virtualLib: VirtualLib | undefined;
const loadVirtual = () =>
  import('@tanstack/react-virtual').then((lib) => {
    virtualLib = lib;
    return lib;
  });

const sizeCache = new Map<string, VirtualItem[]>();

/** How the shortcuts move through the list, in whichever mode it is. */
interface Navigation {
  focusIndex(index: number): void;
  firstOnScreen(): number;
}

interface ItemsProps extends FeedProps {
  list: React.RefObject<HTMLDivElement | null>;
  nav: React.RefObject<Navigation>;
  focused: React.RefObject<number | undefined>;
}

/**
 * A list of posts with feed semantics (WAI-ARIA feed pattern): each an `article` with its position
 * in the whole list (`aria-posinset`/`aria-setsize`, -1 while more can load). The first page paints
 * as a plain list; then the list is windowed (only the posts near the viewport stay in the DOM),
 * taking over the sizes the plain list measured so nothing moves. The next page loads as the end
 * comes near; j/k move focus post by post, and scroll posts that are not rendered into the window first.
 */
export function Feed(props: FeedProps) {
  const { hasMore, busy, loadMore, error } = props;
  const { t } = useTranslation();
  const list = useRef<HTMLDivElement>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  const [said, setSaid] = useState('');
  const [lib, setLib] = useState(virtualLib);
  // the focused post stays rendered even when scrolled far away, so focus is never dropped
  const focused = useRef<number | undefined>(undefined);
  const nav = useRef<Navigation>({ focusIndex: () => undefined, firstOnScreen: () => 0 });

  useEffect(() => {
    if (lib) return;
    let live = true;
    loadVirtual().then(
      (loaded) => {
        if (!live) return;
        // the plain list's measured sizes: the windowed list starts exactly where it is
        if (props.cacheKey) sizeCache.set(props.cacheKey, measurePlain(list.current, props.posts));
        setLib(loaded);
      },
      () => undefined, // offline before the chunk came: the plain list keeps working
    );
    return () => {
      live = false;
    };
  }, [lib, props.cacheKey, props.posts]);

  useFeedShortcuts({
    posts: props.posts,
    container: list,
    loadMore,
    openHelp: () => setHelpOpen(true),
    focusIndex: (i) => nav.current.focusIndex(i),
    firstOnScreen: () => nav.current.firstOnScreen(),
    canLoadMore: hasMore,
    announce: setSaid,
  });

  const items = { ...props, list, nav, focused };
  return (
    <>
      <p className="hint">{t('shortcuts.hint')}</p>
      {helpOpen && (
        <Suspense fallback={null}>
          <ShortcutHelp onClose={() => setHelpOpen(false)} />
        </Suspense>
      )}
      <p className="visually-hidden" role="status">
        {said}
      </p>
      {lib ? <WindowedItems {...items} lib={lib} /> : <PlainItems {...items} />}
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

/** The rendered articles' sizes and offsets, as the virtualizer keeps them. */
function measurePlain(container: HTMLElement | null, posts: Post[]): VirtualItem[] {
  if (!container) return [];
  const top = container.getBoundingClientRect().top + window.scrollY;
  return [...container.querySelectorAll<HTMLElement>('article[data-index]')].map((el) => {
    const index = Number(el.dataset.index);
    const box = el.getBoundingClientRect();
    const start = box.top + window.scrollY - top;
    return {
      key: posts[index]?.id ?? index,
      index,
      start,
      end: start + box.height,
      size: box.height,
      lane: 0,
    };
  });
}

const topbarBottom = () => document.querySelector('.topbar')?.getBoundingClientRect().bottom ?? 0;

function FeedArticle({
  post,
  index,
  setSize,
  style,
  measure,
}: {
  post: Post;
  index: number;
  setSize: number;
  style?: React.CSSProperties;
  measure?: (el: HTMLElement | null) => void;
}) {
  const { t } = useTranslation();
  return (
    <article
      data-index={index}
      ref={measure}
      className={style ? 'post feed-item' : 'post'}
      style={style}
      aria-posinset={index + 1}
      aria-setsize={setSize}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the feed pattern (WAI-ARIA APG) makes each article focusable; j/k move that focus
      tabIndex={0}
      aria-labelledby={`post-${post.id}-author`}
    >
      <PostBody post={post} eagerMedia={index < 2} />
      <Link to="/posts/$postId" params={{ postId: post.id }} className="small">
        {t('postPage.open')}
      </Link>
    </article>
  );
}

function feedContainerProps(props: ItemsProps) {
  return {
    role: 'feed' as const,
    'aria-label': props.label,
    'aria-busy': props.busy,
    ref: props.list,
    onFocus: (e: React.FocusEvent) => {
      const index = Number((e.target as HTMLElement).closest('[data-index]')?.getAttribute('data-index'));
      if (Number.isInteger(index)) props.focused.current = index;
    },
  };
}

/** Every loaded post in the DOM: the first paint, before the windowing code has arrived. */
function PlainItems(props: ItemsProps) {
  const { posts, list, nav, hasMore } = props;
  nav.current = {
    focusIndex(index) {
      const target = Math.max(0, Math.min(posts.length - 1, index));
      const el = list.current?.querySelector<HTMLElement>(`[data-index="${target}"]`);
      el?.focus({ preventScroll: true });
      el?.scrollIntoView({ block: 'nearest' });
    },
    firstOnScreen() {
      const articles = [...(list.current?.querySelectorAll<HTMLElement>('article[data-index]') ?? [])];
      const top = topbarBottom();
      return Number(articles.find((a) => a.getBoundingClientRect().bottom > top)?.dataset.index ?? 0);
    },
  };
  const setSize = hasMore ? -1 : posts.length;
  return (
    <div {...feedContainerProps(props)} className="feed-window">
      {posts.map((post, i) => (
        <FeedArticle key={post.id} post={post} index={i} setSize={setSize} />
      ))}
    </div>
  );
}

/** Only the posts near the viewport in the DOM (TanStack Virtual over the window's scroll). */
function WindowedItems(props: ItemsProps & { lib: VirtualLib }) {
  const { posts, list, nav, focused, hasMore, busy, error, loadMore, cacheKey, lib } = props;
  const [offset, setOffset] = useState(0);
  const pendingFocus = useRef<number | undefined>(undefined);

  useLayoutEffect(() => {
    setOffset(list.current ? list.current.getBoundingClientRect().top + window.scrollY : 0);
  }, [list]);

  const virtualizer = lib.useWindowVirtualizer({
    count: posts.length,
    estimateSize: () => ESTIMATED_HEIGHT,
    overscan: OVERSCAN,
    gap: GAP,
    scrollMargin: offset,
    getItemKey: (i) => posts[i]?.id ?? i,
    initialMeasurementsCache: cacheKey ? sizeCache.get(cacheKey) : undefined,
    rangeExtractor: useCallback(
      (range: Range) => {
        const indexes = lib.defaultRangeExtractor(range);
        const keep = focused.current;
        if (keep === undefined || keep >= range.count || indexes.includes(keep)) return indexes;
        return [...indexes, keep].sort((a, b) => a - b);
      },
      [lib, focused],
    ),
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
    const top = topbarBottom();
    if (box.top < top || box.bottom > window.innerHeight) {
      virtualizer.scrollToIndex(index, { align: box.top < top ? 'start' : 'end' });
    }
  }, [virtualizer, list]);
  useLayoutEffect(focusPending);

  // a post that had focus in the plain list gets it back once windowed
  useLayoutEffect(() => {
    if (focused.current !== undefined && !list.current?.contains(document.activeElement)) {
      if (document.activeElement === document.body) pendingFocus.current = focused.current;
    }
  }, [focused, list]);

  nav.current = {
    focusIndex(index) {
      const target = Math.max(0, Math.min(posts.length - 1, index));
      focused.current = target;
      pendingFocus.current = target;
      if (!list.current?.querySelector(`[data-index="${target}"]`)) {
        virtualizer.scrollToIndex(target, { align: 'start' });
      }
      focusPending();
    },
    firstOnScreen() {
      const top = window.scrollY + topbarBottom() - offset;
      return virtualizer.getVirtualItems().find((item) => item.end - offset > top + 1)?.index ?? 0;
    },
  };

  const setSize = hasMore ? -1 : posts.length;
  return (
    <div
      {...feedContainerProps(props)}
      className="feed-window"
      style={{ height: virtualizer.getTotalSize() }}
    >
      {items.map((item) => (
        <FeedArticle
          key={item.key}
          post={posts[item.index]!}
          index={item.index}
          setSize={setSize}
          measure={virtualizer.measureElement}
          style={{ transform: `translateY(${item.start - virtualizer.options.scrollMargin}px)` }}
        />
      ))}
    </div>
  );
}
