import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createLazyRoute, useNavigate, useParams } from '@tanstack/react-router';
import { type FormEvent, useId, useRef, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { submitWrite } from '../../outbox/index.ts';
import { ErrorMessage, Loading } from '../../ui/error-message.tsx';
import { type Post, PostBody } from '../../ui/post/post-card.tsx';
import { AddToCollection } from './add-to-collection.tsx';
import { CommentItem } from './comment-item.tsx';
import { ConfirmDialog, EditTextDialog } from './dialog.tsx';
import { commentsQuery, postQuery } from './post-queries.ts';
import { Reactions } from './reactions.tsx';

export const Route = createLazyRoute('/posts/$postId')({ component: PostScreen });

function PostScreen() {
  const { t } = useTranslation();
  const { postId } = useParams({ from: '/posts/$postId' });
  const post = useQuery(postQuery(postId));
  const { session } = Route.useRouteContext();
  const me = useSyncExternalStore(session.subscribe, session.getState);
  const myId = me.status === 'signedIn' ? me.user.id : undefined;
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
            <div className="row">
              {post.data.author.id === myId && <OwnPostActions post={post.data} />}
              {me.status === 'signedIn' && <AddToCollection postId={postId} username={me.user.username} />}
            </div>
          </article>
          <Comments postId={postId} myId={myId} postAuthorId={post.data.author.id} />
        </>
      )}
    </section>
  );
}

/** Edit and delete, for the post's author. */
function OwnPostActions({ post }: { post: Post }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<'edit' | 'delete' | undefined>();
  const edit = useMutation({
    mutationFn: (text: string) =>
      call(api.PATCH('/api/v1/posts/{id}', { params: { path: { id: post.id } }, body: { text } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(['post', post.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['feed'] });
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      setDialog(undefined);
    },
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/posts/{id}', { params: { path: { id: post.id } } })),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: ['post', post.id] });
      void queryClient.invalidateQueries({ queryKey: ['feed'] });
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      void queryClient.invalidateQueries({ queryKey: ['collections'] });
      void navigate({ to: '/' });
    },
  });
  const close = () => {
    edit.reset();
    remove.reset();
    setDialog(undefined);
  };
  return (
    <>
      <button type="button" className="button" aria-haspopup="dialog" onClick={() => setDialog('edit')}>
        {t('social.post.edit')}
      </button>
      <button type="button" className="button" aria-haspopup="dialog" onClick={() => setDialog('delete')}>
        {t('postPage.delete')}
      </button>
      {dialog === 'edit' && (
        <EditTextDialog
          title={t('social.post.editTitle')}
          label={t('social.post.textLabel')}
          initial={post.text}
          maxLength={5000}
          busy={edit.isPending}
          error={edit.error && <ErrorMessage error={edit.error} />}
          onSave={(text) => edit.mutate(text)}
          onClose={close}
        />
      )}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={t('postPage.delete')}
          question={t('postPage.confirmDelete')}
          confirmLabel={t('postPage.delete')}
          busy={remove.isPending}
          error={remove.error && <ErrorMessage error={remove.error} />}
          onConfirm={() => remove.mutate()}
          onClose={close}
        />
      )}
    </>
  );
}

function Comments({
  postId,
  myId,
  postAuthorId,
}: {
  postId: string;
  myId: string | undefined;
  postAuthorId: string;
}) {
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
      // through the outbox: offline, or with no answer, it is kept and sent later with this key
      return submitWrite({ kind: 'comment', postId, body }, { key: attempt.current.key, inline: true });
    },
    onSuccess: () => {
      attempt.current = undefined;
      setText('');
      void queryClient.invalidateQueries({ queryKey: ['post', postId] });
    },
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
            maxLength={2000}
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
            <CommentItem
              key={c.id}
              comment={c}
              canEdit={c.author.id === myId}
              canDelete={c.author.id === myId || postAuthorId === myId}
            />
          ))}
        </ul>
      )}
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
