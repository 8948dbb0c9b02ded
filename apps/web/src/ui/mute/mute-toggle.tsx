import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../error-message.tsx';
import {
  MUTE_AFFECTED,
  muteConversation,
  mutedConversationsQuery,
  mutedHashtagsQuery,
  mutedUsersQuery,
  muteHashtag,
  muteUser,
  unmuteConversation,
  unmuteHashtag,
  unmuteUser,
} from './mutes-query.ts';

type Target =
  | { kind: 'user'; username: string }
  | { kind: 'hashtag'; tag: string }
  | { kind: 'conversation'; id: string; name: string };

/**
 * Mute or unmute a user (on their profile), a hashtag (on its page) or a conversation (its unread
 * messages stop counting). A mute is private: the other side is not told, and nothing they see
 * changes.
 */
export function MuteToggle(props: Target) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const users = useQuery({ ...mutedUsersQuery, enabled: props.kind === 'user' });
  const tags = useQuery({ ...mutedHashtagsQuery, enabled: props.kind === 'hashtag' });
  const conversations = useQuery({ ...mutedConversationsQuery, enabled: props.kind === 'conversation' });
  let muted: boolean;
  let name: string;
  if (props.kind === 'user') {
    const username = props.username.toLowerCase();
    muted = users.data?.items.some((m) => m.user.username.toLowerCase() === username) ?? false;
    name = `@${props.username}`;
  } else if (props.kind === 'hashtag') {
    const tag = props.tag.toLowerCase();
    muted = tags.data?.items.some((m) => m.tag === tag) ?? false;
    name = `#${props.tag}`;
  } else {
    const { id } = props;
    muted = conversations.data?.items.some((m) => m.conversationId === id) ?? false;
    name = props.name;
  }
  const toggle = useMutation({
    mutationFn: async () => {
      if (props.kind === 'user') await (muted ? unmuteUser(props.username) : muteUser(props.username));
      else if (props.kind === 'hashtag') await (muted ? unmuteHashtag(props.tag) : muteHashtag(props.tag));
      else await (muted ? unmuteConversation(props.id) : muteConversation(props.id));
    },
    onSuccess: () =>
      Promise.all(
        MUTE_AFFECTED.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })),
      ),
  });
  const loaded = (props.kind === 'user' ? users : props.kind === 'hashtag' ? tags : conversations).isSuccess;
  return (
    <>
      <button
        type="button"
        className="button"
        disabled={!loaded || toggle.isPending}
        onClick={() => toggle.mutate()}
      >
        {muted ? t('mutes.unmuteName', { name }) : t('mutes.muteName', { name })}
      </button>
      <span role="status" className="visually-hidden">
        {toggle.isSuccess ? (muted ? t('mutes.mutedName', { name }) : t('mutes.unmutedName', { name })) : ''}
      </span>
      {toggle.isError && <ErrorMessage error={toggle.error} />}
    </>
  );
}
