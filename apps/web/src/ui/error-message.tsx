import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/errors.ts';

/** An error as a person reads it: the server's message, when to retry, and the request id. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t, i18n } = useTranslation();
  const apiError = error instanceof ApiError ? error : undefined;
  const message = apiError?.message ?? t('errors.unexpected');
  let retry: string | undefined;
  if (apiError?.retryAfterMs !== undefined) {
    const seconds = Math.ceil(apiError.retryAfterMs / 1000);
    retry =
      seconds <= 120
        ? t('errors.retryIn', { count: seconds })
        : t('errors.retryAt', {
            time: new Intl.DateTimeFormat(i18n.language === 'pseudo' ? 'en' : i18n.language, {
              timeStyle: 'short',
            }).format(Date.now() + apiError.retryAfterMs),
          });
  }
  return (
    <div className="error" role="alert">
      <p>{message}</p>
      {retry && <p>{retry}</p>}
      {apiError?.requestId && (
        <p className="muted small">{t('errors.requestId', { id: apiError.requestId })}</p>
      )}
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          {t('app.retry')}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="loading" role="status">
      {t('app.loading')}
    </p>
  );
}
