import { useId, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { textOf } from './outbox.ts';
import { getOutbox } from './runtime.ts';
import type { OutboxItem } from './types.ts';

/**
 * What waits in the outbox, on every screen while anything does: each item as pending (or sending),
 * or refused with the server's message and a way to edit and send again, or to discard it.
 */
export function OutboxPanel() {
  const { t } = useTranslation();
  const box = getOutbox();
  const { items, sending } = useSyncExternalStore(box.subscribe, box.getSnapshot);
  const headingId = useId();
  const waiting = items.filter((item) => !box.isHeld(item.key));
  if (waiting.length === 0) return null;
  return (
    <section className="outbox stack" aria-labelledby={headingId} data-outbox>
      <h2 id={headingId} className="small">
        {t('offline.outbox.title', { count: waiting.length })}
      </h2>
      <ul className="outbox-items">
        {waiting.map((item) => (
          <OutboxRow key={item.key} item={item} sending={item.key === sending} />
        ))}
      </ul>
    </section>
  );
}

function OutboxRow({ item, sending }: { item: OutboxItem; sending: boolean }) {
  const { t } = useTranslation();
  const box = getOutbox();
  const editId = useId();
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const text = textOf(item.request);
  const request = item.request;
  const label =
    request.kind === 'reaction'
      ? t(request.on ? 'offline.outbox.kind.reaction' : 'offline.outbox.kind.reactionOff', {
          kind: t(`reactions.${request.reaction}`),
        })
      : t(`offline.outbox.kind.${request.kind}`);
  const state = item.state === 'failed' ? 'failed' : sending ? 'sending' : 'pending';
  return (
    <li className="outbox-item" data-outbox-state={state}>
      <p className="small">
        <strong>{label}</strong> <span className="muted">{t(`offline.outbox.${state}`)}</span>
      </p>
      {text && draft === undefined && (
        <p className="outbox-text" data-user-content>
          {text}
        </p>
      )}
      {item.state === 'failed' && item.error && (
        <div className="error" role="alert">
          <p>{item.error.message}</p>
          {item.error.requestId && (
            <p className="muted small">{t('errors.requestId', { id: item.error.requestId })}</p>
          )}
        </div>
      )}
      {draft !== undefined ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (!draft.trim()) return;
            void box.resend(item.key, draft);
            setDraft(undefined);
          }}
        >
          <div className="field">
            <label htmlFor={editId}>{t('offline.outbox.editLabel', { kind: label })}</label>
            <textarea id={editId} rows={3} value={draft} onChange={(e) => setDraft(e.target.value)} />
          </div>
          <div className="row">
            <button type="submit" className="button primary">
              {t('offline.outbox.sendAgain')}
            </button>
            <button type="button" className="button ghost" onClick={() => setDraft(undefined)}>
              {t('offline.outbox.cancel')}
            </button>
          </div>
        </form>
      ) : (
        <div className="row">
          {item.state === 'failed' && text !== undefined && (
            <button type="button" className="button" onClick={() => setDraft(text)}>
              {t('offline.outbox.edit')}
            </button>
          )}
          {item.state === 'failed' && text === undefined && (
            <button type="button" className="button" onClick={() => void box.resend(item.key)}>
              {t('offline.outbox.sendAgain')}
            </button>
          )}
          {!sending && (
            <button type="button" className="button ghost" onClick={() => void box.discard(item.key)}>
              {t('offline.outbox.discard')}
            </button>
          )}
        </div>
      )}
    </li>
  );
}
