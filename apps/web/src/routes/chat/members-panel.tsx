import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CHAT_KEYS } from '../../realtime/realtime.ts';
import { ErrorMessage } from '../../ui/error-message.tsx';
import { addMember, type ConversationDetail, removeMember } from './chat-queries.ts';
import { PresenceDot } from './presence-dot.tsx';

/** A group's members; admins add and remove them (the server's rules apply), anyone may leave. */
export function MembersPanel({ conversation: c, myId }: { conversation: ConversationDetail; myId: string }) {
  const { t } = useTranslation();
  const inputId = useId();
  const [username, setUsername] = useState('');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversation(c.id) });
    void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversations });
  };
  const add = useMutation({
    mutationFn: () => addMember(c.id, username.trim().replace(/^@/, '')),
    onSuccess: () => {
      setUsername('');
      refresh();
    },
  });
  const remove = useMutation({ mutationFn: (name: string) => removeMember(c.id, name), onSuccess: refresh });
  const me = c.members.find((m) => m.user.id === myId);
  const leave = useMutation({
    mutationFn: () => removeMember(c.id, me!.user.username),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: CHAT_KEYS.conversations });
      void navigate({ to: '/chat' });
    },
  });
  const admin = c.myRole === 'admin';
  return (
    <details className="members-panel">
      <summary>{t('chat.members', { count: c.members.length })}</summary>
      <ul className="members">
        {c.members.map((m) => (
          <li key={m.user.id}>
            {m.user.id !== myId && <PresenceDot userId={m.user.id} name={m.user.displayName} />}
            <span data-user-content>{m.user.displayName}</span>{' '}
            <span className="muted small">
              @<span data-user-content>{m.user.username}</span>
              {m.role === 'admin' && ` · ${t('chat.admin')}`}
            </span>
            {admin && m.user.id !== myId && (
              <button
                type="button"
                className="button ghost"
                disabled={remove.isPending}
                onClick={() => remove.mutate(m.user.username)}
              >
                {t('chat.removeMember', { name: m.user.displayName })}
              </button>
            )}
          </li>
        ))}
      </ul>
      {remove.error && <ErrorMessage error={remove.error} />}
      {admin && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (username.trim()) add.mutate();
          }}
        >
          <label htmlFor={inputId}>{t('chat.addMember')}</label>
          <input
            id={inputId}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoComplete="off"
          />
          <button type="submit" className="button" disabled={add.isPending}>
            {t('chat.add')}
          </button>
        </form>
      )}
      {add.error && <ErrorMessage error={add.error} />}
      {me && (
        <button type="button" className="button" disabled={leave.isPending} onClick={() => leave.mutate()}>
          {t('chat.leave')}
        </button>
      )}
      {leave.error && <ErrorMessage error={leave.error} />}
    </details>
  );
}
