import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, useNavigate, useParams } from '@tanstack/react-router';
import { type FormEvent, useId, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { session } from '../../auth/session.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { PostBody, TimeAgo } from '../../ui/post/post-card.tsx';
import { PostText } from '../../ui/post/post-text.tsx';
import { commentsQuery, postQuery } from './post-queries.ts';
import { Reactions } from './reactions.tsx';

export const Route = createLazyRoute('/posts/$postId')({ component: PostScreen });

function PostScreen() {
  const { t } = useTranslation();
  const { postId } = useParams({ from: '/posts/$postId' });
  const post = useQuery(postQuery(postId));
  const me = useSyncExternalStore(session.subscribe, session.getState);
  const myId = me.status === 'signedIn' ? me.user.id : undefined;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/posts/{id}', { params: { path: { id: postId } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['feed'] });
      void navigate({ to: '/' });
    },
  });
  return (
    <section className="page">
      <h1>{t('postPage.title')}</h1>
      {post.isPending ? (
        <Loading />
      ) : post.isError ? (
        <ErrorMessage error={post.error} onRetry={() => void post.refetch()} />
      ) : (
        <>
          <article className="post" aria-labelledby={`post-${post.data.id}-author`}>
            <PostBody post={post.data} eagerMedia />
            <Reactions post={post.data} />
            {post.data.author.id === myId && (
              <div className="row">
                <button
                  type="button"
                  className="button"
                  disabled={remove.isPending}
                  onClick={() => {
                    if (window.confirm(t('postPage.confirmDelete'))) remove.mutate();
                  }}
                >
                  {t('postPage.delete')}
                </button>
              </div>
            )}
            {remove.error && <ErrorMessage error={remove.error} />}
          </article>
          <Comments postId={postId} myId={myId} />
        </>
      )}
    </section>
  );
}

function Comments({ postId, myId }: { postId: string; myId: string | undefined }) {
  const { t } = useTranslation();
  const comments = useInfiniteQuery(commentsQuery(postId));
  const queryClient = useQueryClient();
  const textId = useId();
  const [text, setText] = useState('');
  const attempt = useRef<{ body: string; key: string } | undefined>(undefined);
  const add = useMutation({
    mutationFn: (body: { text: string }) => {
      const json = JSON.stringify(body);
      if (attempt.current?.body !== json) attempt.current = { body: json, key: crypto.randomUUID() };
      return call(
        api.POST('/api/v1/posts/{id}/comments', {
          params: { path: { id: postId }, header: { 'idempotency-key': attempt.current.key } },
          body,
        }),
      );
    },
    onSuccess: () => {
      attempt.current = undefined;
      setText('');
      void queryClient.invalidateQueries({ queryKey: ['post', postId] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api/v1/comments/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['post', postId] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim() && !add.isPending) add.mutate({ text });
  };
  const items = comments.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby={`${textId}-h`} className="stack">
      <h2 id={`${textId}-h`}>{t('comments.title')}</h2>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor={textId}>{t('comments.label')}</label>
          <textarea
            id={textId}
            rows={3}
            maxLength={5000}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </div>
        {add.error && <ErrorMessage error={add.error} />}
        <button type="submit" className="button primary" disabled={add.isPending}>
          {add.isPending ? t('comments.sending') : t('comments.send')}
        </button>
      </form>
      {comments.isPending ? (
        <Loading />
      ) : comments.isError && items.length === 0 ? (
        <ErrorMessage error={comments.error} onRetry={() => void comments.refetch()} />
      ) : items.length === 0 ? (
        <p className="empty">{t('comments.empty')}</p>
      ) : (
        <ul className="comments">
          {items.map((c) => (
            <li key={c.id} className="comment">
              <p className="small">
                <strong data-user-content>{c.author.displayName}</strong>{' '}
                <span className="muted" data-user-content>
                  @{c.author.username}
                </span>{' '}
                <span className="muted">
                  <TimeAgo iso={c.createdAt} />
                </span>
              </p>
              <PostText text={c.text} entities={c.entities} />
              {c.author.id === myId && (
                <button type="button" className="button ghost" onClick={() => remove.mutate(c.id)}>
                  {t('comments.delete')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {remove.error && <ErrorMessage error={remove.error} />}
      {comments.hasNextPage && (
        <button
          type="button"
          className="button"
          disabled={comments.isFetchingNextPage}
          onClick={() => void comments.fetchNextPage()}
        >
          {t('comments.more')}
        </button>
      )}
    </section>
  );
}
