import { useInfiniteQuery } from '@tanstack/react-query';
import { createLazyRoute } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { NewPostsPill } from '../../realtime/lazy.tsx';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { Feed } from './feed.tsx';
import { feedQuery } from './feed-query.ts';

export const Route = createLazyRoute('/')({ component: HomeScreen });

/** Back to the newest posts: the top of the page, focus on the heading (e.g. after "N new posts"). */
export function showNewest() {
  window.scrollTo({ top: 0 });
  document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
}

function HomeScreen() {
  const { t } = useTranslation();
  const feed = useInfiniteQuery(feedQuery);
  const posts = feed.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="page">
      <h1 tabIndex={-1}>{t('feed.title')}</h1>
      <NewPostsPill onShow={showNewest} />
      {feed.isPending ? (
        <Loading />
      ) : feed.isError && posts.length === 0 ? (
        <ErrorMessage error={feed.error} onRetry={() => void feed.refetch()} />
      ) : posts.length === 0 ? (
        <p className="empty">{t('feed.empty')}</p>
      ) : (
        <Feed
          posts={posts}
          label={t('feed.label')}
          hasMore={feed.hasNextPage}
          busy={feed.isFetchingNextPage}
          loadMore={() => void feed.fetchNextPage()}
          error={feed.isFetchNextPageError ? feed.error : undefined}
          cacheKey="home"
        />
      )}
    </section>
  );
}
