import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/errors.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { MuteToggle } from '../../ui/mute/mute-toggle.tsx';
import { ReportButton } from '../../ui/report/index.ts';
import { CollectionList } from '../collections/collection-list.tsx';
import { blockedQuery } from '../friends/friends-query.ts';
import { ConfirmButton } from './confirm-button.tsx';
import { EditProfile } from './profile-edit.tsx';
import { FriendsSection, PostsSection } from './profile-lists.tsx';
import { type Profile, profileQuery, refreshRelationships, relationship } from './profile-query.ts';
import './profile.css';

export const Route = createLazyRoute('/users/$username')({ component: ProfileScreen });

function ProfileScreen() {
  const { t } = useTranslation();
  const { username } = Route.useParams();
  const profile = useQuery(profileQuery(username));
  if (profile.isPending) {
    return (
      <section className="page">
        <h1>{t('profile.title')}</h1>
        <Loading />
      </section>
    );
  }
  if (profile.isError) {
    return (
      <section className="page">
        <h1>{t('profile.title')}</h1>
        <BlockedOrError username={username} error={profile.error} onRetry={() => void profile.refetch()} />
      </section>
    );
  }
  const p = profile.data;
  return (
    <div className="page profile">
      <ProfileHeader profile={p} />
      {p.relationship === 'self' ? <EditProfile profile={p} /> : <RelationshipActions profile={p} />}
      {p.relationship !== 'blocked' && (
        <div className="profile-columns">
          <PostsSection username={p.username} />
          <div>
            <FriendsSection username={p.username} />
            <CollectionList username={p.username} title={t('social.collections.title')} />
          </div>
        </div>
      )}
    </div>
  );
}

/**
 * The server answers "no such user" for someone I blocked (it never says who blocked whom); when
 * they are on my blocked list, say so and offer "unblock" instead of an error.
 */
function BlockedOrError({
  username,
  error,
  onRetry,
}: {
  username: string;
  error: unknown;
  onRetry: () => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const blocked = useInfiniteQuery({
    ...blockedQuery(),
    enabled: error instanceof ApiError && error.status === 404,
  });
  const unblock = useMutation({
    mutationFn: relationship.unblock,
    onSuccess: () => refreshRelationships(queryClient),
  });
  const entry = blocked.data?.pages
    .flatMap((p) => p.items)
    .find((u) => u.username.toLowerCase() === username.toLowerCase());
  if (!entry) return <ErrorMessage error={error} onRetry={onRetry} />;
  return (
    <section className="profile-actions" aria-label={t('profile.actions')}>
      <p>
        <span data-user-content>{entry.displayName}</span>{' '}
        <span className="muted" data-user-content>
          @{entry.username}
        </span>
      </p>
      <p>{t('profile.status.blocked')}</p>
      <button
        type="button"
        className="button"
        disabled={unblock.isPending}
        onClick={() => unblock.mutate(entry.username)}
      >
        {t('profile.unblock')}
      </button>
      {unblock.isError && <ErrorMessage error={unblock.error} />}
    </section>
  );
}

function ProfileHeader({ profile: p }: { profile: Profile }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language === 'pseudo' ? 'en' : i18n.language;
  return (
    <header className="profile-header">
      <h1>
        <span data-user-content>{p.displayName}</span>
      </h1>
      <p className="muted" data-user-content>
        @{p.username}
      </p>
      {p.bio && (
        <p className="profile-bio" data-user-content>
          {p.bio}
        </p>
      )}
      <p className="muted small">
        {t('profile.joined', {
          date: new Intl.DateTimeFormat(locale, { dateStyle: 'long' }).format(Date.parse(p.createdAt)),
        })}{' '}
        · {t('profile.friendCount', { count: p.counts.friends })} ·{' '}
        {t('profile.postCount', { count: p.counts.posts })}
      </p>
    </header>
  );
}

/** What I can do about this person, from our relationship as the server reports it. */
function RelationshipActions({ profile: p }: { profile: Profile }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const change = useMutation({
    mutationFn: (action: () => Promise<unknown>) => action(),
    onSuccess: () => refreshRelationships(queryClient),
  });
  const busy = change.isPending;
  const status =
    p.relationship === 'friends'
      ? t('profile.status.friends')
      : p.relationship === 'request_sent'
        ? t('profile.status.requestSent')
        : p.relationship === 'request_received'
          ? t('profile.status.requestReceived')
          : p.relationship === 'blocked'
            ? t('profile.status.blocked')
            : undefined;
  return (
    <section className="profile-actions" aria-label={t('profile.actions')}>
      {status && <p>{status}</p>}
      <div className="row">
        {p.relationship === 'none' && (
          <button
            type="button"
            className="button primary"
            disabled={busy}
            onClick={() => change.mutate(() => relationship.ask(p.username))}
          >
            {t('profile.addFriend')}
          </button>
        )}
        {p.relationship === 'request_received' && (
          // asking back accepts: the server makes a crossing request a friendship
          <button
            type="button"
            className="button primary"
            disabled={busy}
            onClick={() => change.mutate(() => relationship.ask(p.username))}
          >
            {t('profile.accept')}
          </button>
        )}
        {(p.relationship === 'request_sent' || p.relationship === 'request_received') && (
          <Link to="/friends" className="button ghost">
            {t('profile.manageRequests')}
          </Link>
        )}
        {p.relationship === 'friends' && (
          <ConfirmButton
            label={t('profile.unfriend')}
            question={t('profile.unfriendQuestion', { name: p.displayName })}
            confirmLabel={t('profile.unfriendConfirm')}
            busy={busy}
            onConfirm={() => change.mutate(() => relationship.unfriend(p.username))}
          />
        )}
        {p.relationship === 'blocked' ? (
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => change.mutate(() => relationship.unblock(p.username))}
          >
            {t('profile.unblock')}
          </button>
        ) : (
          <ConfirmButton
            label={t('profile.block')}
            question={t('profile.blockQuestion', { name: p.displayName })}
            confirmLabel={t('profile.blockConfirm')}
            busy={busy}
            onConfirm={() => change.mutate(() => relationship.block(p.username))}
          />
        )}
        {p.relationship !== 'blocked' && <MuteToggle kind="user" username={p.username} />}
        <ReportButton
          target={{ type: 'user', id: p.id }}
          authorId={p.id}
          label={t('moderation.label.user', { name: p.displayName })}
          className="button ghost"
        />
      </div>
      {change.isError && <ErrorMessage error={change.error} />}
    </section>
  );
}
