import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useId, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { FriendsSection, MoreButton } from '../profile/profile-lists.tsx';
import { refreshRelationships, relationship } from '../profile/profile-query.ts';
import { BlockedList } from './blocked-list.tsx';
import { type Direction, type FriendRequest, requestsQuery } from './friends-query.ts';
import { UserSearch } from './user-search.tsx';
import '../profile/profile.css';

export const Route = createLazyRoute('/friends')({ component: FriendsScreen });

function FriendsScreen() {
  const { t } = useTranslation();
  const { session } = Route.useRouteContext();
  const state = useSyncExternalStore(session.subscribe, session.getState);
  return (
    <div className="page friends">
      <h1>{t('friends.title')}</h1>
      <Requests direction="incoming" />
      <Requests direction="outgoing" />
      <UserSearch />
      {state.status === 'signedIn' && <MyFriends username={state.user.username} />}
      <BlockedList />
    </div>
  );
}

function Requests({ direction }: { direction: Direction }) {
  const { t } = useTranslation();
  const id = useId();
  const requests = useInfiniteQuery(requestsQuery(direction));
  const items = requests.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{direction === 'incoming' ? t('friends.incoming') : t('friends.outgoing')}</h2>
      {requests.isPending ? (
        <Loading />
      ) : requests.isError && items.length === 0 ? (
        <ErrorMessage error={requests.error} onRetry={() => void requests.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted">
          {direction === 'incoming' ? t('friends.noIncoming') : t('friends.noOutgoing')}
        </p>
      ) : (
        <>
          <ul className="people">
            {items.map((r) => (
              <RequestRow key={r.id} request={r} direction={direction} />
            ))}
          </ul>
          <MoreButton query={requests} label={t('friends.moreRequests')} />
        </>
      )}
    </section>
  );
}

function RequestRow({ request: r, direction }: { request: FriendRequest; direction: Direction }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const change = useMutation({
    mutationFn: (action: () => Promise<unknown>) => action(),
    onSuccess: () => refreshRelationships(queryClient),
  });
  const name = r.user.displayName;
  return (
    <li>
      <Link to="/users/$username" params={{ username: r.user.username }}>
        <span data-user-content>{name}</span>
      </Link>
      <span className="muted small">
        <span data-user-content>@{r.user.username}</span> · <TimeAgo iso={r.createdAt} />
      </span>
      <span className="row">
        {direction === 'incoming' ? (
          <>
            <button
              type="button"
              className="button primary"
              disabled={change.isPending}
              aria-label={t('friends.acceptName', { name })}
              onClick={() => change.mutate(() => relationship.accept(r.id))}
            >
              {t('friends.accept')}
            </button>
            <button
              type="button"
              className="button"
              disabled={change.isPending}
              aria-label={t('friends.declineName', { name })}
              onClick={() => change.mutate(() => relationship.decline(r.id))}
            >
              {t('friends.decline')}
            </button>
          </>
        ) : (
          <button
            type="button"
            className="button"
            disabled={change.isPending}
            aria-label={t('friends.cancelName', { name })}
            onClick={() => change.mutate(() => relationship.cancel(r.id))}
          >
            {t('friends.cancel')}
          </button>
        )}
      </span>
      {change.isError && <ErrorMessage error={change.error} />}
    </li>
  );
}

/** My friends, with "unfriend" next to each. */
function MyFriends({ username }: { username: string }) {
  const { t } = useTranslation();
  return <FriendsSection username={username} title={t('friends.mine')} manage />;
}
