import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type BodyOf, call } from '../../api/client.ts';
import { submitWrite } from '../../outbox/index.ts';
import { ErrorMessage } from '../error-message.tsx';
import type { Post } from '../post/post-card.tsx';
import { type Attachment, MAX_ATTACHMENTS, useAttachments } from './attachments.ts';
import { HighlightBackdrop } from './highlight.tsx';
import { useMentionAutocomplete } from './mention-autocomplete.tsx';
import './compose.css';

type PostBody = BodyOf<'/api/v1/posts', 'post'>;
const MAX_TEXT = 5000;

/**
 * Writing a post: text with hashtags and mentions highlighted, a visibility, up to four images.
 * Publishing is idempotent: the same body keeps its Idempotency-Key across retries and double
 * clicks, so the server creates the post once.
 */
export function Composer({ onPublished }: { onPublished: (post: Post) => void }) {
  const { t } = useTranslation();
  const ids = { text: useId(), visibility: useId(), files: useId(), counter: useId() };
  const [text, setText] = useState('');
  const [visibility, setVisibility] = useState<NonNullable<PostBody['visibility']>>('friends');
  const [confirmNoAlt, setConfirmNoAlt] = useState(false);
  const attachments = useAttachments();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const mentions = useMentionAutocomplete(textarea, text, setText);
  const [tooMany, setTooMany] = useState(false);
  const attempt = useRef<{ body: string; key: string } | undefined>(undefined);
  const queryClient = useQueryClient();
  const [queued, setQueued] = useState(false);

  const publish = useMutation({
    mutationFn: async (body: PostBody) => {
      for (const item of attachments.items) {
        if (item.mediaId && item.alt.trim()) {
          await call(
            api.PATCH('/api/v1/media/{id}', {
              params: { path: { id: item.mediaId } },
              body: { alt: item.alt.trim() },
            }),
          );
        }
      }
      const json = JSON.stringify(body);
      if (attempt.current?.body !== json) attempt.current = { body: json, key: crypto.randomUUID() };
      // through the outbox: offline, or with no answer, it is kept and sent later with this key
      const sent = await submitWrite({ kind: 'post', body }, { key: attempt.current.key, inline: true });
      return sent.status === 'sent' ? (sent.value as Post) : undefined;
    },
    onSuccess: (post) => {
      attempt.current = undefined;
      setText('');
      attachments.clear();
      setQueued(!post);
      if (!post) return;
      void queryClient.invalidateQueries({ queryKey: ['feed'] });
      onPublished(post);
    },
  });

  const busy = attachments.items.some((a) => ['preparing', 'uploading', 'processing'].includes(a.phase));
  const broken = attachments.items.some((a) => !['ready'].includes(a.phase) && !busy);
  const missingAlt = attachments.items.some((a) => a.phase === 'ready' && !a.alt.trim());
  const length = [...text].length;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (publish.isPending || busy || broken || (!text.trim() && attachments.items.length === 0)) return;
    if (missingAlt && !confirmNoAlt) {
      setConfirmNoAlt(true);
      return;
    }
    const mediaIds = attachments.items.flatMap((a) => (a.mediaId ? [a.mediaId] : []));
    publish.mutate({ text, visibility, ...(mediaIds.length ? { mediaIds } : {}) });
  };

  return (
    <form className="composer stack" onSubmit={submit}>
      <div className="field">
        <label htmlFor={ids.text}>{t('compose.textLabel')}</label>
        <div className="compose-text">
          <HighlightBackdrop text={text} />
          <textarea
            id={ids.text}
            ref={textarea}
            value={text}
            rows={5}
            maxLength={MAX_TEXT}
            aria-describedby={ids.counter}
            {...mentions.textareaProps}
            onChange={(e) => {
              setText(e.target.value);
              mentions.sync();
            }}
          />
        </div>
        {mentions.popup}
        <p id={ids.counter} className="hint">
          {t('compose.counter', { count: MAX_TEXT - length })}
        </p>
      </div>
      <div className="field">
        <label htmlFor={ids.visibility}>{t('compose.visibility')}</label>
        <select
          id={ids.visibility}
          value={visibility}
          onChange={(e) => setVisibility(e.target.value as typeof visibility)}
        >
          <option value="public">{t('post.visibility.public')}</option>
          <option value="friends">{t('post.visibility.friends')}</option>
          <option value="private">{t('post.visibility.private')}</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={ids.files}>{t('compose.addImages', { max: MAX_ATTACHMENTS })}</label>
        <input
          id={ids.files}
          type="file"
          accept="image/jpeg,image/png,image/webp,image/gif,image/avif"
          multiple
          disabled={attachments.items.length >= MAX_ATTACHMENTS}
          onChange={(e) => {
            if (e.target.files) setTooMany(attachments.add(e.target.files));
            e.target.value = '';
          }}
        />
        {tooMany && (
          <p className="error" role="alert">
            {t('compose.tooMany', { max: MAX_ATTACHMENTS })}
          </p>
        )}
      </div>
      {attachments.items.length > 0 && (
        <ul className="attachments">
          {attachments.items.map((item, i) => (
            <AttachmentRow key={item.key} item={item} index={i} attachments={attachments} />
          ))}
        </ul>
      )}
      {confirmNoAlt && missingAlt && (
        <p className="notice" role="alert">
          {t('compose.altReminder')}
        </p>
      )}
      {publish.error && <ErrorMessage error={publish.error} />}
      <p role="status" className="hint">
        {queued && !publish.isPending && !text ? t('offline.queued') : ''}
      </p>
      <button
        type="submit"
        className="button primary"
        disabled={publish.isPending || busy}
        aria-describedby={busy ? `${ids.files}-busy` : undefined}
      >
        {publish.isPending
          ? t('compose.publishing')
          : confirmNoAlt && missingAlt
            ? t('compose.publishAnyway')
            : t('compose.publish')}
      </button>
      {busy && (
        <p id={`${ids.files}-busy`} className="hint">
          {t('compose.waitForImages')}
        </p>
      )}
    </form>
  );
}

function AttachmentRow({
  item,
  index,
  attachments,
}: {
  item: Attachment;
  index: number;
  attachments: ReturnType<typeof useAttachments>;
}) {
  const { t } = useTranslation();
  const altId = useId();
  const percent = item.total > 0 ? Math.round((item.sent / item.total) * 100) : 0;
  const name = t('compose.imageN', { n: index + 1 });
  return (
    <li className="attachment" data-phase={item.phase}>
      <img src={item.preview} alt="" width={96} height={96} />
      <div className="stack">
        <p className="attachment-status" role="status">
          {item.phase === 'uploading' && (
            <>
              <progress
                max={item.total}
                value={item.sent}
                aria-label={t('compose.progressLabel', { name })}
              />{' '}
              {t('compose.uploading', { percent })}
            </>
          )}
          {item.phase === 'preparing' && t('compose.preparing')}
          {item.phase === 'processing' && t('compose.processing')}
          {item.phase === 'ready' && t('compose.ready')}
          {item.phase === 'cancelled' && t('compose.cancelled')}
        </p>
        {(item.phase === 'error' || item.phase === 'failed') && item.error && (
          <ErrorMessage error={item.error} />
        )}
        {item.phase === 'ready' && (
          <div className="field">
            <label htmlFor={altId}>{t('compose.altLabel', { name })}</label>
            <input
              id={altId}
              value={item.alt}
              maxLength={1500}
              onChange={(e) => attachments.setAlt(item.key, e.target.value)}
            />
          </div>
        )}
        <div className="row">
          {item.phase === 'uploading' && (
            <button type="button" className="button" onClick={() => attachments.cancel(item.key)}>
              {t('compose.cancel', { name })}
            </button>
          )}
          {(item.phase === 'cancelled' || item.phase === 'error') && (
            <button type="button" className="button" onClick={() => attachments.retry(item.key)}>
              {t('compose.retry', { name })}
            </button>
          )}
          <button type="button" className="button ghost" onClick={() => attachments.remove(item.key)}>
            {t('compose.remove', { name })}
          </button>
        </div>
      </div>
    </li>
  );
}
