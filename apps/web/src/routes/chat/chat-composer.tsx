import { type FormEvent, type KeyboardEvent, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call } from '../../api/client.ts';
import { newClientMessageId, sendChatMessage } from '../../realtime/chat-send.ts';
import { currentHub } from '../../realtime/realtime.ts';
import { MAX_ATTACHMENTS, useAttachments } from '../../ui/compose/attachments.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';

/** Typing is announced at most this often (the server throttles too; this saves the frames). */
export const TYPING_EVERY_MS = 3000;

/** Write and send: Enter sends, Shift+Enter starts a new line; images through the upload pipeline. */
export function ChatComposer({ conversationId, onSent }: { conversationId: string; onSent: () => void }) {
  const { t } = useTranslation();
  const ids = { text: useId(), files: useId() };
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>();
  const attachments = useAttachments();
  const lastTyping = useRef(0);
  const busy = attachments.items.some((a) => ['preparing', 'uploading', 'processing'].includes(a.phase));
  const ready = attachments.items.filter((a) => a.phase === 'ready' && a.mediaId);

  const typing = () => {
    const now = Date.now();
    if (now - lastTyping.current < TYPING_EVERY_MS) return;
    lastTyping.current = now;
    currentHub()?.send({ type: 'typing', conversationId });
  };

  const send = async () => {
    const body = text.trim() ? text : '';
    if (busy || (!body && ready.length === 0)) return;
    // the id is made now, when the person sends, and kept for every retry of this message
    const clientMessageId = newClientMessageId();
    const mediaIds = ready.map((a) => a.mediaId as string);
    setError(undefined);
    try {
      for (const a of ready) {
        if (a.alt.trim()) {
          await call(
            api.PATCH('/api/v1/media/{id}', {
              params: { path: { id: a.mediaId! } },
              body: { alt: a.alt.trim() },
            }),
          );
        }
      }
    } catch (err) {
      setError(err);
      return;
    }
    setText('');
    attachments.clear();
    lastTyping.current = 0;
    void sendChatMessage({ conversationId, clientMessageId, body, ...(mediaIds.length ? { mediaIds } : {}) });
    onSent();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void send();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  return (
    <form className="chat-composer" onSubmit={onSubmit}>
      {attachments.items.length > 0 && (
        <ul className="chat-attachments">
          {attachments.items.map((item, i) => {
            const name = t('compose.imageN', { n: i + 1 });
            return (
              <li key={item.key} data-phase={item.phase}>
                <img src={item.preview} alt="" width={64} height={64} />
                <span role="status">
                  {item.phase === 'ready'
                    ? t('compose.ready')
                    : item.phase === 'uploading'
                      ? t('compose.uploading', {
                          percent: item.total ? Math.round((item.sent / item.total) * 100) : 0,
                        })
                      : item.phase === 'preparing'
                        ? t('compose.preparing')
                        : item.phase === 'processing'
                          ? t('compose.processing')
                          : ''}
                </span>
                {item.error && <ErrorMessage error={item.error} />}
                {item.phase === 'ready' && (
                  <input
                    aria-label={t('compose.altLabel', { name })}
                    value={item.alt}
                    maxLength={1500}
                    onChange={(e) => attachments.setAlt(item.key, e.target.value)}
                  />
                )}
                <button type="button" className="button ghost" onClick={() => attachments.remove(item.key)}>
                  {t('compose.remove', { name })}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
      <div className="chat-composer-row">
        <label htmlFor={ids.text} className="visually-hidden">
          {t('chat.messageLabel')}
        </label>
        <textarea
          id={ids.text}
          className="chat-input"
          rows={2}
          maxLength={4000}
          value={text}
          placeholder={t('chat.placeholder')}
          onChange={(e) => {
            setText(e.target.value);
            if (e.target.value) typing();
          }}
          onKeyDown={onKeyDown}
        />
        <label htmlFor={ids.files} className="chat-attach">
          {t('chat.attach')}
        </label>
        <input
          id={ids.files}
          className="chat-file"
          type="file"
          accept="image/jpeg,image/png,image/webp,image/gif,image/avif"
          multiple
          disabled={attachments.items.length >= MAX_ATTACHMENTS}
          onChange={(e) => {
            if (e.target.files) attachments.add(e.target.files);
            e.target.value = '';
          }}
        />
        <button type="submit" className="button primary" disabled={busy}>
          {t('chat.send')}
        </button>
      </div>
    </form>
  );
}
