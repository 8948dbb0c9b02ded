import { useInfiniteQuery } from '@tanstack/react-query';
import { createLazyRoute, Link } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { MuteToggle } from '../../ui/mute/mute-toggle.tsx';
import { PostBody } from '../../ui/post/post-card.tsx';
import { MoreButton } from '../profile/profile-lists.tsx';
import { tagPostsQuery } from './tags-query.ts';
import '../profile/profile.css';

export const Route = createLazyRoute('/tags/$tag')({ component: TagScreen });

function TagScreen() {
  const { t } = useTranslation();
  const { tag } = Route.useParams();
  const posts = useInfiniteQuery(tagPostsQuery(tag));
  const items = posts.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section className="page" aria-labelledby="tag-title">
      <h1 id="tag-title">
        <span data-user-content>#{tag}</span>
      </h1>
      <p className="muted">
        {t('tags.about')} <Link to="/tags">{t('tags.seeTrending')}</Link>
      </p>
      <MuteToggle kind="hashtag" tag={tag} />
      {posts.isPending ? (
        <Loading />
      ) : posts.isError && items.length === 0 ? (
        <ErrorMessage error={posts.error} onRetry={() => void posts.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('tags.noPosts')}</p>
      ) : (
        <>
          <ul className="plain-list" aria-label={t('tags.postsLabel', { tag })}>
            {items.map((post) => (
              <li key={post.id}>
                <article className="post" aria-labelledby={`post-${post.id}-author`}>
                  <PostBody post={post} />
                </article>
              </li>
            ))}
          </ul>
          <MoreButton query={posts} label={t('tags.morePosts')} />
        </>
      )}
    </section>
  );
}
