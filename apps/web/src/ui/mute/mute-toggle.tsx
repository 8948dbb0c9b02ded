import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ErrorMessage } from '../error-message.tsx';
import {
  MUTE_AFFECTED,
  mutedHashtagsQuery,
  mutedUsersQuery,
  muteHashtag,
  muteUser,
  unmuteHashtag,
  unmuteUser,
} from './mutes-query.ts';

/**
 * Mute or unmute a user (on their profile) or a hashtag (on its page). A mute is private: the
 * other side is not told, and nothing they see changes.
 */
export function MuteToggle(props: { kind: 'user'; username: string } | { kind: 'hashtag'; tag: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const users = useQuery({ ...mutedUsersQuery, enabled: props.kind === 'user' });
  const tags = useQuery({ ...mutedHashtagsQuery, enabled: props.kind === 'hashtag' });
  const muted =
    props.kind === 'user'
      ? (users.data?.items.some((m) => m.user.username.toLowerCase() === props.username.toLowerCase()) ??
        false)
      : (tags.data?.items.some((m) => m.tag === props.tag.toLowerCase()) ?? false);
  const name = props.kind === 'user' ? `@${props.username}` : `#${props.tag}`;
  const toggle = useMutation({
    mutationFn: async () => {
      if (props.kind === 'user') await (muted ? unmuteUser(props.username) : muteUser(props.username));
      else await (muted ? unmuteHashtag(props.tag) : muteHashtag(props.tag));
    },
    onSuccess: () =>
      Promise.all(
        MUTE_AFFECTED.map((queryKey) => queryClient.invalidateQueries({ queryKey: [...queryKey] })),
      ),
  });
  const loaded = props.kind === 'user' ? users.isSuccess : tags.isSuccess;
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
