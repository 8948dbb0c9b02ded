import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute } from '@tanstack/react-router';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { moderation, type Notice, noticeByLinkQuery, noticeQuery } from './moderation-query.ts';
import './moderation.css';

export const Route = createLazyRoute('/moderation/notices/$caseId')({ component: NoticeScreen });

/** What a moderator decided about me and why; appeal it once. */
function NoticeScreen() {
  const { t } = useTranslation();
  const { caseId } = Route.useParams();
  const { token } = Route.useSearch() as { token?: string };
  const notice = useQuery(token ? noticeByLinkQuery(caseId, token) : noticeQuery(caseId));
  return (
    <div className="page moderation">
      <h1>{t('moderation.notice.title')}</h1>
      {notice.isPending ? (
        <Loading />
      ) : notice.isError ? (
        <ErrorMessage error={notice.error} onRetry={() => void notice.refetch()} />
      ) : (
        <NoticeView notice={notice.data} token={token} />
      )}
    </div>
  );
}

function NoticeView({ notice: n, token }: { notice: Notice; token: string | undefined }) {
  const { t } = useTranslation();
  return (
    <div className="stack">
      <section className="moderation-panel" aria-labelledby="notice-what">
        <h2 id="notice-what">{t('moderation.notice.what')}</h2>
        <p>
          {n.action &&
            t(`moderation.notice.action.${n.action}`, { target: t(`moderation.target.${n.targetType}`) })}
        </p>
        {n.suspendedUntil && n.action === 'suspend' && (
          <p>{t('moderation.notice.until', { until: new Date(n.suspendedUntil).toLocaleString() })}</p>
        )}
        <p className="muted small">
          {t('moderation.notice.reasons', {
            reasons: n.reasons.map((r) => t(`moderation.reason.${r}`)).join(', '),
          })}
        </p>
        {n.excerpt && (
          <blockquote className="moderation-text" data-user-content>
            {n.excerpt}
          </blockquote>
        )}
      </section>
      {n.note && (
        <section className="moderation-panel" aria-labelledby="notice-why">
          <h2 id="notice-why">{t('moderation.notice.why')}</h2>
          <p className="moderation-text">{n.note}</p>
        </section>
      )}
      <AppealPanel notice={n} token={token} />
    </div>
  );
}

function AppealPanel({ notice: n, token }: { notice: Notice; token: string | undefined }) {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const appeal = useMutation({
    mutationFn: () =>
      token ? moderation.appealByLink(n.caseId, token, text) : moderation.appeal(n.caseId, text),
    onSuccess: (updated) =>
      queryClient.setQueryData(['moderation', 'notice', n.caseId, ...(token ? ['link'] : [])], updated),
  });
  return (
    <section className="moderation-panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('moderation.notice.appealTitle')}</h2>
      {n.appeal.state === 'available' ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) appeal.mutate();
          }}
        >
          <p className="muted small">{t('moderation.notice.appealHelp')}</p>
          <div className="field">
            <label htmlFor={`${id}-text`}>{t('moderation.notice.appealLabel')}</label>
            <textarea
              id={`${id}-text`}
              rows={4}
              maxLength={1000}
              required
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
          </div>
          {appeal.error && <ErrorMessage error={appeal.error} />}
          <div className="row">
            <button type="submit" className="button primary" disabled={appeal.isPending}>
              {appeal.isPending ? t('moderation.notice.appealing') : t('moderation.notice.appeal')}
            </button>
          </div>
        </form>
      ) : (
        <p role="status">{t(`moderation.notice.appealState.${n.appeal.state}`)}</p>
      )}
    </section>
  );
}
