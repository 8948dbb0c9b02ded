import { useInfiniteQuery } from '@tanstack/react-query';
import { createLazyRoute, Link, useNavigate } from '@tanstack/react-router';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { REPORT_REASONS } from '../../ui/report/index.ts';
import type { QueueSearch } from './index.ts';
import { type CaseSummary, queueQuery } from './moderation-query.ts';
import './moderation.css';

export const Route = createLazyRoute('/moderation')({ component: QueueScreen });

const TARGETS = ['post', 'comment', 'message', 'user'] as const;

function QueueScreen() {
  const { t } = useTranslation();
  const search = Route.useSearch() as QueueSearch;
  const navigate = useNavigate();
  const list = useInfiniteQuery(queueQuery(search));
  const id = useId();
  const set = (change: Partial<QueueSearch>) =>
    void navigate({ to: '/moderation', search: { ...search, ...change } as never, replace: true });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="page moderation">
      <h1>{t('moderation.queue.title')}</h1>
      <p className="muted">{t('moderation.queue.intro')}</p>
      <form
        className="moderation-filters"
        aria-label={t('moderation.queue.filters')}
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="field">
          <label htmlFor={`${id}-status`}>{t('moderation.queue.status')}</label>
          <select
            id={`${id}-status`}
            value={search.status ?? 'open'}
            onChange={(e) => set({ status: e.target.value as QueueSearch['status'] })}
          >
            <option value="open">{t('moderation.status.open')}</option>
            <option value="resolved">{t('moderation.status.resolved')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-reason`}>{t('moderation.queue.reason')}</label>
          <select
            id={`${id}-reason`}
            value={search.reason ?? ''}
            onChange={(e) => set({ reason: e.target.value || undefined })}
          >
            <option value="">{t('moderation.queue.any')}</option>
            {REPORT_REASONS.map((r) => (
              <option key={r} value={r}>
                {t(`moderation.reason.${r}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-target`}>{t('moderation.queue.target')}</label>
          <select
            id={`${id}-target`}
            value={search.targetType ?? ''}
            onChange={(e) => set({ targetType: (e.target.value || undefined) as QueueSearch['targetType'] })}
          >
            <option value="">{t('moderation.queue.any')}</option>
            {TARGETS.map((target) => (
              <option key={target} value={target}>
                {t(`moderation.target.${target}`)}
              </option>
            ))}
          </select>
        </div>
      </form>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorMessage error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('moderation.queue.empty')}</p>
      ) : (
        <>
          <ol className="moderation-list" aria-label={t('moderation.queue.listLabel')}>
            {items.map((c) => (
              <CaseRow key={c.id} item={c} />
            ))}
          </ol>
          {list.hasNextPage ? (
            <button
              type="button"
              className="button"
              disabled={list.isFetchingNextPage}
              onClick={() => void list.fetchNextPage()}
            >
              {list.isFetchingNextPage ? t('moderation.queue.loadingMore') : t('moderation.queue.loadMore')}
            </button>
          ) : (
            <p className="muted small">{t('moderation.queue.end')}</p>
          )}
        </>
      )}
    </div>
  );
}

function CaseRow({ item: c }: { item: CaseSummary }) {
  const { t } = useTranslation();
  return (
    <li className="moderation-item">
      <p>
        <Link to="/moderation/cases/$caseId" params={{ caseId: c.id }}>
          {t(`moderation.queue.itemTitle.${c.targetType}`, {
            name: c.author ? `@${c.author.username}` : t('moderation.unknownAuthor'),
          })}
        </Link>{' '}
        {c.stage === 'appeal' && <span className="badge">{t('moderation.stage.appeal')}</span>}
      </p>
      {c.excerpt && (
        <p className="moderation-excerpt" data-user-content>
          {c.excerpt}
        </p>
      )}
      <p className="muted small">
        {c.reasons.map((r) => t(`moderation.reason.${r}`)).join(', ')} ·{' '}
        {t('moderation.queue.reporters', { count: c.reporterCount })} · {t('moderation.queue.waiting')}{' '}
        <TimeAgo iso={c.queuedAt} />
        {c.action && <> · {t(`moderation.action.${c.action}`)}</>}
      </p>
    </li>
  );
}
