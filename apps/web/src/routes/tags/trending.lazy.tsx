import { useQuery } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { trendingQuery } from './tags-query.ts';
import '../profile/profile.css';

export const Route = createLazyRoute('/tags')({ component: TrendingScreen });

function TrendingScreen() {
  const { t } = useTranslation();
  const trending = useQuery(trendingQuery);
  return (
    <section className="page" aria-labelledby="trending-title">
      <h1 id="trending-title">{t('tags.trendingTitle')}</h1>
      {trending.isPending ? (
        <Loading />
      ) : trending.isError ? (
        <ErrorMessage error={trending.error} onRetry={() => void trending.refetch()} />
      ) : trending.data.items.length === 0 ? (
        <p className="empty">{t('tags.noTrending')}</p>
      ) : (
        <>
          <ol className="people" aria-label={t('tags.trendingLabel')}>
            {trending.data.items.map((item) => (
              <li key={item.tag}>
                <Link to="/tags/$tag" params={{ tag: item.tag }}>
                  <span data-user-content>#{item.tag}</span>
                </Link>
                <span className="muted small">{t('tags.uses', { count: item.uses })}</span>
              </li>
            ))}
          </ol>
          {trending.data.computedAt && (
            <p className="muted small">
              {t('tags.computed')} <TimeAgo iso={trending.data.computedAt} />
            </p>
          )}
        </>
      )}
    </section>
  );
}
