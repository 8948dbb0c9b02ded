import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useEffect, useId, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { userSearchQuery } from '../friends/friends-query.ts';
import { ConfirmButton } from '../profile/confirm-button.tsx';
import { MoreButton } from '../profile/profile-lists.tsx';
import { auditLogQuery, ROLES, type Role, type StaffUser, staff } from './staff-query.ts';
import '../profile/profile.css';
import '../settings/settings.css';
import './staff.css';

export const Route = createLazyRoute('/staff')({ component: StaffScreen });

function StaffScreen() {
  const { t } = useTranslation();
  const { session } = Route.useRouteContext();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  const isAdmin = state.status === 'signedIn' && state.user.role === 'admin';
  return (
    <div className="page staff">
      <h1>{t('staff.title')}</h1>
      <p>
        <Link to="/moderation">{t('moderation.staffLink')}</Link>
      </p>
      <StaffUsers isAdmin={isAdmin} />
      {isAdmin && <AuditLog />}
    </div>
  );
}

function StaffUsers({ isAdmin }: { isAdmin: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const [text, setText] = useState('');
  const [term, setTerm] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setTerm(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text]);
  const search = useQuery(userSearchQuery(term));
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('staff.users')}</h2>
      <search>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setTerm(text.trim());
          }}
        >
          <div className="field">
            <label htmlFor={id}>{t('friends.searchLabel')}</label>
            <input
              id={id}
              type="search"
              value={text}
              maxLength={30}
              onChange={(e) => setText(e.target.value)}
            />
          </div>
        </form>
      </search>
      {term === '' ? null : search.isPending ? (
        <Loading />
      ) : search.isError ? (
        <ErrorMessage error={search.error} onRetry={() => void search.refetch()} />
      ) : (
        <>
          <p role="status" className="muted">
            {t('friends.found', { count: search.data.items.length })}
          </p>
          <ul className="people">
            {search.data.items.map((u) => (
              <StaffUserRow key={u.id} user={u} isAdmin={isAdmin} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function StaffUserRow({
  user,
  isAdmin,
}: {
  user: { id: string; username: string; displayName: string };
  isAdmin: boolean;
}) {
  const { t } = useTranslation();
  const selectId = useId();
  const [role, setRole] = useState<Role>('user');
  const [result, setResult] = useState<StaffUser>();
  const change = useMutation({
    mutationFn: (action: () => Promise<StaffUser>) => action(),
    onSuccess: (answer) => {
      setResult(answer);
      setRole(answer.role);
    },
  });
  return (
    <li>
      <Link to="/users/$username" params={{ username: user.username }}>
        <span data-user-content>{user.displayName}</span>
      </Link>
      <span className="muted small" data-user-content>
        @{user.username}
      </span>
      {isAdmin && (
        <span className="row">
          <label htmlFor={selectId} className="visually-hidden">
            {t('staff.roleOf', { name: user.displayName })}
          </label>
          <select id={selectId} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`staff.roles.${r}`)}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="button"
            disabled={change.isPending}
            aria-label={t('staff.setRoleOf', { name: user.displayName })}
            onClick={() => change.mutate(() => staff.setRole(user.id, role))}
          >
            {t('staff.setRole')}
          </button>
        </span>
      )}
      {!result?.bannedAt && (
        <ConfirmButton
          label={t('staff.ban')}
          question={t('staff.banQuestion', { name: user.displayName })}
          confirmLabel={t('staff.banConfirm')}
          busy={change.isPending}
          onConfirm={() => change.mutate(() => staff.ban(user.id))}
        />
      )}
      <span role="status" className="small">
        {result &&
          (result.bannedAt
            ? t('staff.banned', { role: t(`staff.roles.${result.role}`) })
            : t('staff.roleIs', { role: t(`staff.roles.${result.role}`) }))}
      </span>
      {change.isError && <ErrorMessage error={change.error} />}
    </li>
  );
}

function AuditLog() {
  const { t } = useTranslation();
  const id = useId();
  const log = useInfiniteQuery(auditLogQuery);
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="settings-section audit" aria-labelledby={id}>
      <h2 id={id}>{t('staff.audit')}</h2>
      {log.isPending ? (
        <Loading />
      ) : log.isError && items.length === 0 ? (
        <ErrorMessage error={log.error} onRetry={() => void log.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('staff.auditEmpty')}</p>
      ) : (
        <>
          <table>
            <caption className="visually-hidden">{t('staff.auditCaption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('staff.when')}</th>
                <th scope="col">{t('staff.action')}</th>
                <th scope="col">{t('staff.actor')}</th>
                <th scope="col">{t('staff.target')}</th>
                <th scope="col">{t('staff.address')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>
                    <TimeAgo iso={e.at} />
                  </td>
                  <td data-user-content>{e.action}</td>
                  <td data-user-content>{e.actorId ?? t('staff.system')}</td>
                  <td data-user-content>{e.targetType ? `${e.targetType} ${e.targetId ?? ''}` : ''}</td>
                  <td data-user-content>{e.ip ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <MoreButton query={log} label={t('staff.moreAudit')} />
        </>
      )}
    </section>
  );
}
