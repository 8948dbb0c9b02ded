import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { type CaseDetail, caseQuery, type Decision, moderation } from './moderation-query.ts';
import './moderation.css';

export const Route = createLazyRoute('/moderation/cases/$caseId')({ component: CaseScreen });

function CaseScreen() {
  const { t } = useTranslation();
  const { caseId } = Route.useParams();
  const detail = useQuery(caseQuery(caseId));
  return (
    <div className="page moderation">
      <p>
        <Link to="/moderation">{t('moderation.case.back')}</Link>
      </p>
      <h1>{t('moderation.case.title')}</h1>
      {detail.isPending ? (
        <Loading />
      ) : detail.isError ? (
        <ErrorMessage error={detail.error} onRetry={() => void detail.refetch()} />
      ) : (
        <CaseView item={detail.data} />
      )}
    </div>
  );
}

function CaseView({ item: c }: { item: CaseDetail }) {
  const { t } = useTranslation();
  const s = c.snapshot;
  return (
    <div className="stack">
      <section className="moderation-panel" aria-labelledby="case-summary">
        <h2 id="case-summary">{t('moderation.case.summary')}</h2>
        <dl>
          <dt>{t('moderation.case.target')}</dt>
          <dd>{t(`moderation.target.${c.targetType}`)}</dd>
          <dt>{t('moderation.case.state')}</dt>
          <dd>
            {t(`moderation.status.${c.status}`)}
            {c.stage === 'appeal' && <> · {t('moderation.stage.appeal')}</>}
          </dd>
          <dt>{t('moderation.case.reasons')}</dt>
          <dd>{c.reasons.map((r) => t(`moderation.reason.${r}`)).join(', ')}</dd>
          <dt>{t('moderation.case.queued')}</dt>
          <dd>
            <TimeAgo iso={c.queuedAt} />
          </dd>
        </dl>
      </section>

      <section className="moderation-panel" aria-labelledby="case-snapshot">
        <h2 id="case-snapshot">{t('moderation.case.snapshot')}</h2>
        <p className="muted small">
          {s.author ? (
            <span data-user-content>
              {s.author.displayName} @{s.author.username}
            </span>
          ) : (
            t('moderation.unknownAuthor')
          )}
          {s.createdAt && (
            <>
              {' '}
              · <TimeAgo iso={s.createdAt} />
            </>
          )}
          {' · '}
          {c.current.contentLive ? t('moderation.case.live') : t('moderation.case.gone')}
        </p>
        {s.context.post && (
          <div className="moderation-context">
            <p className="muted small">
              {t('moderation.case.onPost', { name: s.context.post.authorUsername ?? '?' })}
            </p>
            <p className="moderation-text" data-user-content>
              {s.context.post.text}
            </p>
          </div>
        )}
        {s.context.messages ? (
          <ol className="moderation-context" aria-label={t('moderation.case.conversation')}>
            {[
              ...s.context.messages,
              {
                id: c.targetId,
                seq: s.context.seq ?? 0,
                senderUsername: s.author?.username ?? null,
                body: s.text,
              },
            ]
              .sort((a, b) => a.seq - b.seq)
              .map((m) => (
                <li key={m.id} className={m.id === c.targetId ? 'reported' : undefined}>
                  <span className="muted small">@{m.senderUsername ?? '?'}: </span>
                  <span className="moderation-text" data-user-content>
                    {m.body}
                  </span>
                </li>
              ))}
          </ol>
        ) : (
          <p className="moderation-text" data-user-content>
            {s.text || t('moderation.case.noText')}
          </p>
        )}
        {s.mediaIds.length > 0 && (
          <p className="muted small">{t('moderation.case.media', { count: s.mediaIds.length })}</p>
        )}
      </section>

      <section className="moderation-panel" aria-labelledby="case-author">
        <h2 id="case-author">{t('moderation.case.author')}</h2>
        <dl>
          <dt>{t('moderation.case.role')}</dt>
          <dd>{c.current.authorRole ? t(`moderation.role.${c.current.authorRole}`) : '—'}</dd>
          <dt>{t('moderation.case.standing')}</dt>
          <dd>
            {c.current.authorBanned
              ? t('moderation.case.banned')
              : c.current.authorSuspendedUntil
                ? t('moderation.case.suspendedUntil', {
                    until: new Date(c.current.authorSuspendedUntil).toLocaleString(),
                  })
                : t('moderation.case.inGoodStanding')}
          </dd>
          <dt>{t('moderation.case.prior')}</dt>
          <dd>{c.current.priorSanctions}</dd>
        </dl>
      </section>

      <section className="moderation-panel" aria-labelledby="case-reports">
        <h2 id="case-reports">{t('moderation.case.reports', { count: c.reports.length })}</h2>
        <ul>
          {c.reports.map((r) => (
            <li key={r.reporterId}>
              <p className="small">
                <span data-user-content>@{r.reporterUsername}</span> · {t(`moderation.reason.${r.reason}`)} ·{' '}
                <TimeAgo iso={r.createdAt} />
              </p>
              {/* the reporter's note is text: rendered as a text node, never as markup */}
              {r.note && (
                <p className="moderation-text" data-user-content>
                  {r.note}
                </p>
              )}
            </li>
          ))}
        </ul>
      </section>

      {c.appeal && (
        <section className="moderation-panel" aria-labelledby="case-appeal">
          <h2 id="case-appeal">{t('moderation.case.appeal')}</h2>
          <p className="small">
            {t('moderation.case.appealOf', { action: t(`moderation.action.${c.appeal.decision}`) })} ·{' '}
            <TimeAgo iso={c.appeal.appealedAt} />
          </p>
          <p className="moderation-text" data-user-content>
            {c.appeal.text}
          </p>
        </section>
      )}

      {c.resolution ? (
        <section className="moderation-panel" aria-labelledby="case-resolution">
          <h2 id="case-resolution">{t('moderation.case.resolution')}</h2>
          <p>
            {t(`moderation.action.${c.resolution.action}`)} · <TimeAgo iso={c.resolution.resolvedAt} />
          </p>
          {c.resolution.note && (
            <p className="moderation-text" data-user-content>
              {c.resolution.note}
            </p>
          )}
        </section>
      ) : c.canAct ? (
        <DecisionForm item={c} />
      ) : (
        <p className="muted" role="note">
          {c.cannotActReason}
        </p>
      )}
    </div>
  );
}

const REPORT_ACTIONS = ['dismiss', 'remove', 'warn', 'suspend', 'ban'] as const;
const APPEAL_ACTIONS = ['uphold', 'overturn'] as const;
const DURATIONS = [24, 72, 168, 720] as const;

function DecisionForm({ item: c }: { item: CaseDetail }) {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const actions = (c.stage === 'appeal' ? APPEAL_ACTIONS : REPORT_ACTIONS).filter(
    (a) => !(a === 'remove' && c.targetType === 'user'),
  );
  const [action, setAction] = useState<Decision['action'] | undefined>();
  const [hours, setHours] = useState<number>(72);
  const [note, setNote] = useState('');
  const resolve = useMutation({
    mutationFn: (decision: Decision) => moderation.resolve(c.id, decision),
    onSuccess: (updated) => {
      queryClient.setQueryData(['moderation', 'case', c.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['moderation', 'queue'] });
    },
  });
  const needsNote = action !== undefined && action !== 'dismiss' && action !== 'uphold';
  return (
    <section className="moderation-panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('moderation.decide.title')}</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (!action) return;
          resolve.mutate({
            action,
            ...(note.trim() ? { note } : {}),
            ...(action === 'suspend' ? { durationHours: hours } : {}),
          });
        }}
      >
        <fieldset>
          <legend>{t('moderation.decide.action')}</legend>
          {actions.map((a) => (
            <label key={a} className="report-reason">
              <input
                type="radio"
                name="action"
                value={a}
                checked={action === a}
                onChange={() => setAction(a)}
                required
              />
              <span>
                <strong>{t(`moderation.action.${a}`)}</strong>
                <span className="muted small">{t(`moderation.actionHelp.${a}`)}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {action === 'suspend' && (
          <div className="field">
            <label htmlFor={`${id}-hours`}>{t('moderation.decide.duration')}</label>
            <select id={`${id}-hours`} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
              {DURATIONS.map((h) => (
                <option key={h} value={h}>
                  {t('moderation.decide.hours', { count: h })}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-note`}>
            {needsNote ? t('moderation.decide.noteRequired') : t('moderation.decide.note')}
          </label>
          <textarea
            id={`${id}-note`}
            rows={3}
            maxLength={1000}
            required={needsNote}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        </div>
        {resolve.error && <ErrorMessage error={resolve.error} />}
        <div className="row">
          <button type="submit" className="button primary" disabled={!action || resolve.isPending}>
            {resolve.isPending ? t('moderation.decide.working') : t('moderation.decide.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
