import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { PostBody, TimeAgo } from '../../ui/post/post-card.tsx';
import { ConfirmButton } from './confirm-button.tsx';
import { friendsQuery, refreshRelationships, relationship, userPostsQuery } from './profile-query.ts';

/** The posts of this user that I may see (the server decides by visibility). */
export function PostsSection({ username }: { username: string }) {
  const { t } = useTranslation();
  const id = useId();
  const posts = useInfiniteQuery(userPostsQuery(username));
  const items = posts.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="profile-posts" aria-labelledby={id}>
      <h2 id={id}>{t('profile.posts')}</h2>
      {posts.isPending ? (
        <Loading />
      ) : posts.isError && items.length === 0 ? (
        <ErrorMessage error={posts.error} onRetry={() => void posts.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('profile.noPosts')}</p>
      ) : (
        <>
          <ul className="plain-list">
            {items.map((post) => (
              <li key={post.id}>
                <article className="post" aria-labelledby={`post-${post.id}-author`}>
                  <PostBody post={post} headingLevel={3} />
                </article>
              </li>
            ))}
          </ul>
          <MoreButton query={posts} label={t('profile.morePosts')} />
        </>
      )}
    </section>
  );
}

/** This user's friends, each a link to their profile; `manage` (my own list) adds "unfriend". */
export function FriendsSection({
  username,
  title,
  manage = false,
}: {
  username: string;
  title?: string;
  manage?: boolean;
}) {
  const { t } = useTranslation();
  const id = useId();
  const queryClient = useQueryClient();
  const friends = useInfiniteQuery(friendsQuery(username));
  const unfriend = useMutation({
    mutationFn: relationship.unfriend,
    onSuccess: () => refreshRelationships(queryClient),
  });
  const items = friends.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="profile-friends" aria-labelledby={id}>
      <h2 id={id}>{title ?? t('profile.friends')}</h2>
      {unfriend.isError && <ErrorMessage error={unfriend.error} />}
      {friends.isPending ? (
        <Loading />
      ) : friends.isError && items.length === 0 ? (
        <ErrorMessage error={friends.error} onRetry={() => void friends.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('profile.noFriends')}</p>
      ) : (
        <>
          <ul className="people">
            {items.map((f) => (
              <li key={f.id}>
                <Link to="/users/$username" params={{ username: f.username }}>
                  <span data-user-content>{f.displayName}</span>
                </Link>{' '}
                <span className="muted small">
                  <span data-user-content>@{f.username}</span> · {t('profile.friendsSince')}{' '}
                  <TimeAgo iso={f.friendsSince} />
                </span>
                {manage && (
                  <ConfirmButton
                    label={t('profile.unfriend')}
                    question={t('profile.unfriendQuestion', { name: f.displayName })}
                    confirmLabel={t('profile.unfriendConfirm')}
                    busy={unfriend.isPending && unfriend.variables === f.username}
                    onConfirm={() => unfriend.mutate(f.username)}
                  />
                )}
              </li>
            ))}
          </ul>
          <MoreButton query={friends} label={t('profile.moreFriends')} />
        </>
      )}
    </section>
  );
}

/** "Load more" for a paged list, with its own error and a busy label. */
export function MoreButton({
  query,
  label,
}: {
  query: {
    hasNextPage: boolean;
    isFetchingNextPage: boolean;
    isFetchNextPageError: boolean;
    error: unknown;
    fetchNextPage: () => Promise<unknown>;
  };
  label: string;
}) {
  const { t } = useTranslation();
  return (
    <>
      {query.isFetchNextPageError && (
        <ErrorMessage error={query.error} onRetry={() => void query.fetchNextPage()} />
      )}
      {query.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={query.isFetchingNextPage}
          onClick={() => void query.fetchNextPage()}
        >
          {query.isFetchingNextPage ? t('app.loading') : label}
        </button>
      )}
    </>
  );
}
