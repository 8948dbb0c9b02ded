import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import type { AuthSession } from '../../auth/session.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { ConfirmButton } from '../profile/confirm-button.tsx';
import { type DeviceSession, sessionsQuery } from './settings-query.ts';

/** A short device name from a User-Agent: browser and system, or the raw string when unknown. */
export function deviceName(userAgent: string): string | undefined {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : undefined;
  const system = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : undefined;
  if (browser && system) return `${browser} · ${system}`;
  return browser ?? system;
}

/** Where I am signed in: revoke one, or sign out everywhere (this device included). */
export function SessionsSection({ session }: { session: AuthSession }) {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const sessions = useQuery(sessionsQuery);
  const revoke = useMutation({
    mutationFn: (sessionId: string) =>
      call(api.DELETE('/api/v1/auth/sessions/{id}', { params: { path: { id: sessionId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: sessionsQuery.queryKey }),
  });
  const [everywhereError, setEverywhereError] = useState<unknown>();
  const [leaving, setLeaving] = useState(false);
  return (
    <section className="settings-section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('settings.sessions.title')}</h2>
      {sessions.isPending ? (
        <Loading />
      ) : sessions.isError ? (
        <ErrorMessage error={sessions.error} onRetry={() => void sessions.refetch()} />
      ) : sessions.data.items.length === 0 ? (
        <p className="muted">{t('settings.sessions.empty')}</p>
      ) : (
        <ul className="people">
          {sessions.data.items.map((s) => (
            <SessionRow
              key={s.id}
              item={s}
              busy={revoke.isPending && revoke.variables === s.id}
              onRevoke={() => revoke.mutate(s.id)}
            />
          ))}
        </ul>
      )}
      {revoke.isError && <ErrorMessage error={revoke.error} />}
      <p className="muted">{t('settings.sessions.everywhereHint')}</p>
      <ConfirmButton
        label={t('settings.sessions.everywhere')}
        question={t('settings.sessions.everywhereQuestion')}
        confirmLabel={t('settings.sessions.everywhereConfirm')}
        busy={leaving}
        onConfirm={() => {
          setLeaving(true);
          setEverywhereError(undefined);
          session
            .signOut(true)
            .catch(setEverywhereError)
            .finally(() => setLeaving(false));
        }}
      />
      {everywhereError !== undefined && <ErrorMessage error={everywhereError} />}
    </section>
  );
}

function SessionRow({
  item: s,
  busy,
  onRevoke,
}: {
  item: DeviceSession;
  busy: boolean;
  onRevoke: () => void;
}) {
  const { t } = useTranslation();
  const device = deviceName(s.userAgent) ?? t('settings.sessions.unknownDevice');
  return (
    <li>
      <span>
        <strong data-user-content>{device}</strong>
        {s.current && <> ({t('settings.sessions.current')})</>}
      </span>
      <span className="muted small">
        {s.ip && (
          <>
            <span data-user-content>{s.ip}</span> ·{' '}
          </>
        )}
        {t('settings.sessions.lastUsed')} <TimeAgo iso={s.lastUsedAt} />
      </span>
      {!s.current && (
        <button
          type="button"
          className="button"
          disabled={busy}
          aria-label={t('settings.sessions.revokeName', { device })}
          onClick={onRevoke}
        >
          {t('settings.sessions.revoke')}
        </button>
      )}
    </li>
  );
}
