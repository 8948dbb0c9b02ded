import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { exportQuery } from './settings-query.ts';

/** Export my data: ask, watch it being made, download the archive while its link lasts. */
export function ExportSection() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const latest = useQuery(exportQuery);
  // one key per request, so a retry after a lost answer never starts a second export
  const key = useRef(crypto.randomUUID());
  const start = useMutation({
    mutationFn: () =>
      call(api.POST('/api/v1/me/export', { params: { header: { 'idempotency-key': key.current } } })),
    onSuccess: (started) => {
      key.current = crypto.randomUUID();
      queryClient.setQueryData(exportQuery.queryKey, started);
    },
  });
  const locale = i18n.language === 'pseudo' ? 'en' : i18n.language;
  const size = (bytes: number) =>
    new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: bytes >= 1_048_576 ? 'megabyte' : 'kilobyte',
      maximumFractionDigits: 1,
    }).format(bytes >= 1_048_576 ? bytes / 1_048_576 : Math.max(0.1, bytes / 1024));
  const data = latest.data;
  const pending = data?.status === 'pending';
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('settings.export.title')}</h2>
      <p>{t('settings.export.about')}</p>
      {latest.isPending ? (
        <Loading />
      ) : latest.isError ? (
        <ErrorMessage error={latest.error} onRetry={() => void latest.refetch()} />
      ) : (
        <div role="status" aria-live="polite">
          {!data ? (
            <p className="muted">{t('settings.export.none')}</p>
          ) : data.status === 'pending' ? (
            <p>
              {t('settings.export.pending')} <TimeAgo iso={data.createdAt} />
            </p>
          ) : data.status === 'ready' && data.download ? (
            <p>
              {t('settings.export.ready', { size: size(data.sizeBytes ?? 0) })}{' '}
              <a href={data.download.url} download>
                {t('settings.export.download')}
              </a>{' '}
              <span className="muted small">
                {t('settings.export.linkExpires')} <TimeAgo iso={data.download.expiresAt} />
              </span>
            </p>
          ) : data.status === 'failed' ? (
            <p className="error">{t('settings.export.failed')}</p>
          ) : (
            <p className="muted">{t('settings.export.expired')}</p>
          )}
        </div>
      )}
      {start.isError && <ErrorMessage error={start.error} />}
      {!latest.isPending && !latest.isError && (
        <button
          type="button"
          className="button"
          disabled={pending || start.isPending}
          onClick={() => start.mutate()}
        >
          {pending || start.isPending ? t('settings.export.working') : t('settings.export.start')}
        </button>
      )}
    </section>
  );
}
