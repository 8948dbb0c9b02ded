import { type InfiniteData, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type ResponseOf } from '../../api/client.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { TimeAgo } from '../../ui/post/post-card.tsx';
import { PostText } from '../../ui/post/post-text.tsx';
import { ReportButton } from '../../ui/report/index.ts';
import { ConfirmDialog, EditTextDialog } from './dialog.tsx';

type CommentPage = ResponseOf<'/api/v1/posts/{id}/comments', 'get'>;
export type Comment = CommentPage['items'][number];

/** One comment; its author may edit it, and its author or the post's author may delete it. */
export function CommentItem({
  comment: c,
  canEdit,
  canDelete,
}: {
  comment: Comment;
  canEdit: boolean;
  canDelete: boolean;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<'edit' | 'delete' | undefined>();
  const key = ['post', c.postId, 'comments'];
  const edit = useMutation({
    mutationFn: (text: string) =>
      call(api.PATCH('/api/v1/comments/{id}', { params: { path: { id: c.id } }, body: { text } })),
    onSuccess: (updated) => {
      queryClient.setQueryData<InfiniteData<CommentPage>>(key, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((p) => ({
                ...p,
                items: p.items.map((x) => (x.id === updated.id ? updated : x)),
              })),
            }
          : data,
      );
      setDialog(undefined);
    },
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/comments/{id}', { params: { path: { id: c.id } } })),
    onSuccess: () => {
      setDialog(undefined);
      // gone from the list at once; the count and the pages are then read again
      queryClient.setQueryData<InfiniteData<CommentPage>>(key, (data) =>
        data
          ? { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.filter((x) => x.id !== c.id) })) }
          : data,
      );
      void queryClient.invalidateQueries({ queryKey: ['post', c.postId] });
    },
  });
  const close = () => {
    edit.reset();
    remove.reset();
    setDialog(undefined);
  };
  const name = c.author.displayName;
  return (
    <li className="comment">
      <p className="small">
        <strong data-user-content>{name}</strong>{' '}
        <span className="muted" data-user-content>
          @{c.author.username}
        </span>{' '}
        <span className="muted">
          <TimeAgo iso={c.createdAt} />
          {c.editedAt && <> · {t('social.comment.edited')}</>}
        </span>
      </p>
      <PostText text={c.text} entities={c.entities} />
      <ReportButton
        target={{ type: 'comment', id: c.id }}
        authorId={c.author.id}
        label={t('moderation.label.comment', { name })}
      />
      {(canEdit || canDelete) && (
        <div className="comment-actions">
          {canEdit && (
            <button
              type="button"
              className="button ghost"
              aria-haspopup="dialog"
              aria-label={t('social.comment.editOf', { name })}
              onClick={() => setDialog('edit')}
            >
              {t('social.comment.edit')}
            </button>
          )}
          {canDelete && (
            <button
              type="button"
              className="button ghost"
              aria-haspopup="dialog"
              aria-label={t('social.comment.deleteOf', { name })}
              onClick={() => setDialog('delete')}
            >
              {t('comments.delete')}
            </button>
          )}
        </div>
      )}
      {dialog === 'edit' && (
        <EditTextDialog
          title={t('social.comment.editTitle')}
          label={t('social.comment.textLabel')}
          initial={c.text}
          maxLength={2000}
          busy={edit.isPending}
          error={edit.error && <ErrorMessage error={edit.error} />}
          onSave={(text) => edit.mutate(text)}
          onClose={close}
        />
      )}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={t('comments.delete')}
          question={t('social.comment.deleteQuestion')}
          confirmLabel={t('comments.delete')}
          busy={remove.isPending}
          error={remove.error && <ErrorMessage error={remove.error} />}
          onConfirm={() => remove.mutate()}
          onClose={close}
        />
      )}
    </li>
  );
}
