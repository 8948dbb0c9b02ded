import type { ChatMessage } from '@kith/contract';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type Outgoing, outgoing, sendChatMessage } from '../../realtime/chat-send.ts';
import { chatStore } from '../../realtime/realtime.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { ReportButton } from '../../ui/report/index.ts';
import { deleteMessage, editMessage } from './chat-queries.ts';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/** One message: who, when, the text and images, and what I may do with it. */
export function MessageItem({
  message,
  sender,
  mine,
  seenBy,
}: {
  message: ChatMessage;
  sender: string;
  mine: boolean;
  /** Names of the other members who have read up to here (shown under my newest message). */
  seenBy?: string[] | undefined;
}) {
  const { t } = useTranslation();
  const [editing, setEditing] = useState(false);
  return (
    <li className="message" data-seq={message.seq} data-mine={mine || undefined}>
      <p className="message-meta">
        <span className="message-sender" data-user-content>
          {mine ? t('chat.you') : sender}
        </span>{' '}
        <time dateTime={message.createdAt}>{timeFormat.format(new Date(message.createdAt))}</time>
        {message.editedAt && !message.deleted && <span className="muted"> · {t('chat.edited')}</span>}
      </p>
      {message.deleted ? (
        <p className="message-body muted">{t('chat.deleted')}</p>
      ) : editing ? (
        <EditForm message={message} onDone={() => setEditing(false)} />
      ) : (
        <>
          {message.body && (
            <p className="message-body" data-user-content>
              {message.body}
            </p>
          )}
          {message.media.length > 0 && (
            <div className="message-media">
              {message.media.map((m) => (
                <a key={m.id} href={m.variants.large.url} target="_blank" rel="noreferrer">
                  <img
                    src={m.variants.thumb.url}
                    alt={m.alt || t('chat.imageNoAlt')}
                    width={m.variants.thumb.width}
                    height={m.variants.thumb.height}
                    loading="lazy"
                  />
                </a>
              ))}
            </div>
          )}
        </>
      )}
      {!message.deleted && !editing && (
        <MessageActions message={message} mine={mine} sender={sender} onEdit={() => setEditing(true)} />
      )}
      {seenBy && seenBy.length > 0 && (
        <p className="seen-by muted small">{t('chat.seenBy', { names: seenBy.join(', ') })}</p>
      )}
    </li>
  );
}

/**
 * What can be done with a message. Mine: edit, delete. Someone else's: report (the shared report
 * dialog of ui/report). Further actions on a message go in this row.
 */
function MessageActions({
  message,
  mine,
  sender,
  onEdit,
}: {
  message: ChatMessage;
  mine: boolean;
  sender: string;
  onEdit: () => void;
}) {
  const { t } = useTranslation();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>();
  if (!mine) {
    // my copy of someone else's message: reported through the shared report dialog
    return (
      <div className="message-actions">
        <ReportButton
          target={{ type: 'message', id: message.id }}
          authorId={message.senderId}
          label={t('moderation.label.message', { name: sender })}
        />
      </div>
    );
  }
  const label = message.body ? message.body.slice(0, 40) : t('chat.photo');
  return (
    <div className="message-actions">
      {confirming ? (
        <>
          <button
            type="button"
            className="button"
            onClick={() => {
              deleteMessage(message.id).then(
                () =>
                  chatStore.addMessages(message.conversationId, [
                    { ...message, deleted: true, body: '', media: [] },
                  ]),
                setError,
              );
              setConfirming(false);
            }}
          >
            {t('chat.confirmDelete')}
          </button>
          <button type="button" className="button ghost" onClick={() => setConfirming(false)}>
            {t('chat.cancel')}
          </button>
        </>
      ) : (
        <>
          <button
            type="button"
            className="button ghost"
            onClick={onEdit}
            aria-label={t('chat.editLabel', { label })}
          >
            {t('chat.edit')}
          </button>
          <button
            type="button"
            className="button ghost"
            onClick={() => setConfirming(true)}
            aria-label={t('chat.deleteLabel', { label })}
          >
            {t('chat.delete')}
          </button>
        </>
      )}
      {error !== undefined && <ErrorMessage error={error} />}
    </div>
  );
}

function EditForm({ message, onDone }: { message: ChatMessage; onDone: () => void }) {
  const { t } = useTranslation();
  const [body, setBody] = useState(message.body);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (!body.trim()) return;
        setBusy(true);
        editMessage(message.id, body).then(
          (updated) => {
            chatStore.addMessages(message.conversationId, [updated as ChatMessage]);
            onDone();
          },
          (err) => {
            setError(err);
            setBusy(false);
          },
        );
      }}
    >
      <textarea
        aria-label={t('chat.editField')}
        value={body}
        maxLength={4000}
        rows={2}
        onChange={(e) => setBody(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onDone();
        }}
        // biome-ignore lint/a11y/noAutofocus: the person just asked to edit this message
        autoFocus
      />
      {error !== undefined && <ErrorMessage error={error} />}
      <div className="row">
        <button type="submit" className="button primary" disabled={busy}>
          {t('chat.save')}
        </button>
        <button type="button" className="button ghost" onClick={onDone}>
          {t('chat.cancel')}
        </button>
      </div>
    </form>
  );
}

/** A message of mine not acknowledged yet (pending), or refused (failed: the server's reason). */
export function OutgoingItem({ entry }: { entry: Outgoing }) {
  const { t } = useTranslation();
  const { draft } = entry;
  return (
    <li className="message" data-mine data-status={entry.status} data-client-id={draft.clientMessageId}>
      <p className="message-meta">
        <span className="message-sender">{t('chat.you')}</span>{' '}
        <span className="muted">{entry.status === 'failed' ? t('chat.failed') : t('chat.pending')}</span>
      </p>
      {draft.body && (
        <p className="message-body" data-user-content>
          {draft.body}
        </p>
      )}
      {draft.mediaIds && draft.mediaIds.length > 0 && (
        <p className="muted small">{t('chat.images', { count: draft.mediaIds.length })}</p>
      )}
      {entry.status === 'failed' && (
        <>
          {entry.error && <ErrorMessage error={entry.error} />}
          <div className="message-actions">
            <button type="button" className="button" onClick={() => void sendChatMessage(draft)}>
              {t('chat.retry')}
            </button>
            <button
              type="button"
              className="button ghost"
              onClick={() => outgoing.discard(draft.clientMessageId)}
            >
              {t('chat.discard')}
            </button>
          </div>
        </>
      )}
    </li>
  );
}
